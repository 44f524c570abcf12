// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/atom.hpp>

/// Atoms of the engine's typed interfaces (10 characters at most each).
namespace catchup::atom {

/// Asks an actor to describe itself.
using status = caf::atom_constant<caf::atom("status")>;

} // namespace catchup::atom
