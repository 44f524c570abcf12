// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <caf/actor_system_config.hpp>

namespace catchup {

/// The CAF configuration every engine actor system uses: all message types
/// of `messages/type_ids.hpp` and the `catchup` error category registered,
/// and CAF's own logging to the console switched off (we log with spdlog).
class system_config : public caf::actor_system_config {
public:
  system_config();
};

/// Adds the engine's message types and its `catchup` error category to a
/// host's config, for an engine running in the host's actor system.
void add_engine_types(caf::actor_system_config& cfg);

} // namespace catchup
