// SPDX-License-Identifier: Apache-2.0
#pragma once

// The engine's only type-ID block. Every type that crosses an actor boundary
// is listed here, and `system_config` adds the block to the actor system.
// The wire carries these names, so they never change.

#include <string>
#include <vector>

#include <caf/type_id.hpp>

#include "messages/cache_messages.hpp"
#include "messages/contact.hpp"
#include "messages/generation_messages.hpp"
#include "messages/memory_messages.hpp"
#include "messages/cluster_messages.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(catchup, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(catchup, (catchup::node_status))
CAF_ADD_TYPE_ID(catchup, (catchup::contact_record))
CAF_ADD_TYPE_ID(catchup, (catchup::stream_cursor))
CAF_ADD_TYPE_ID(catchup, (catchup::contact_batch))
CAF_ADD_TYPE_ID(catchup, (catchup::availability_record))
CAF_ADD_TYPE_ID(catchup, (catchup::busy_record))
CAF_ADD_TYPE_ID(catchup, (catchup::user_context))
CAF_ADD_TYPE_ID(catchup, (catchup::suggestion_record))
CAF_ADD_TYPE_ID(catchup, (catchup::generation_request))
CAF_ADD_TYPE_ID(catchup, (catchup::generation_result))
CAF_ADD_TYPE_ID(catchup, (catchup::generation_output))
CAF_ADD_TYPE_ID(catchup, (std::vector<catchup::generation_result>))
CAF_ADD_TYPE_ID(catchup, (std::vector<catchup::suggestion_record>))
CAF_ADD_TYPE_ID(catchup, (catchup::memory_status))
CAF_ADD_TYPE_ID(catchup, (catchup::run_summary))
CAF_ADD_TYPE_ID(catchup, (catchup::cache_figures))
CAF_ADD_TYPE_ID(catchup, (std::vector<catchup::cache_figures>))
CAF_ADD_TYPE_ID(catchup, (std::vector<catchup::busy_record>))
CAF_ADD_TYPE_ID(catchup, (catchup::routed_generation))
CAF_ADD_TYPE_ID(catchup, (std::vector<catchup::node_status>))

CAF_END_TYPE_ID_BLOCK(catchup)

static_assert(caf::has_type_id<catchup::node_status>::value);
static_assert(caf::has_type_id<catchup::contact_batch>::value);
static_assert(caf::has_type_id<catchup::generation_result>::value);
