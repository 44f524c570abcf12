// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/node_status.hpp"

namespace catchup {

/// The NODE actor: the root of one engine process.
using node_actor = caf::typed_actor<
  // Describes the node: id, version, schema version, database kind.
  caf::replies_to<atom::status>::with<node_status>>;

} // namespace catchup
