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

} // namespace catchup
