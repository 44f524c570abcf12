// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/atom.hpp>

/// Atoms of the engine's typed interfaces (10 characters at most each).
namespace catchup::atom {

/// Asks an actor to describe itself.
using status = caf::atom_constant<caf::atom("status")>;
/// Pulls the next batch of a contact stream.
using next = caf::atom_constant<caf::atom("next")>;
/// Reads a user's generation context.
using context = caf::atom_constant<caf::atom("context")>;
/// Lists users.
using users = caf::atom_constant<caf::atom("users")>;
/// Persists a generation.
using save = caf::atom_constant<caf::atom("save")>;
/// Reads a user's suggestions.
using read = caf::atom_constant<caf::atom("read")>;
/// Generates suggestions for one user or all users.
using generate = caf::atom_constant<caf::atom("generate")>;
/// Closes a bulk stream early.
using close = caf::atom_constant<caf::atom("close")>;
/// Reports progress of a multi-user run.
using progress = caf::atom_constant<caf::atom("progress")>;

} // namespace catchup::atom
