// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <caf/actor_system.hpp>

#include "actors/interfaces.hpp"

namespace catchup {

/// Limits of suggestion generation.
struct generation_config {
  /// Contacts per pulled batch (SUGGESTION_BATCH_SIZE).
  std::size_t batch_rows_max = 100;
  /// Suggestions per generation (MAX_SUGGESTIONS_PER_GENERATION).
  std::size_t suggestions_max = 50;
  /// Days of calendar in which slots are sought.
  std::int64_t window_days = 14;
  /// User generations running at once in a multi-user run.
  std::size_t concurrent_users_max = 8;
  /// Upper bound for one user's generation.
  std::chrono::milliseconds user_timeout{120000};
};

/// Spawns the generation coordinator. Each generation runs in its own user
/// actor, which pulls contacts from `repo` and keeps only a bounded top-K.
coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    repository_actor repo,
                                    const generation_config& cfg);

} // namespace catchup
