// SPDX-License-Identifier: Apache-2.0
#pragma once

// The engine's only type-ID block. Every type that crosses an actor boundary
// is listed here, and `register_message_types` in actors/ adds the block to
// the actor system. The wire carries these names, so they never change.

#include <caf/type_id.hpp>

#include "messages/node_status.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(catchup, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(catchup, (catchup::node_status))

CAF_END_TYPE_ID_BLOCK(catchup)

static_assert(caf::has_type_id<catchup::node_status>::value);
