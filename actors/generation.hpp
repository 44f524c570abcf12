// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <caf/actor_system.hpp>

#include <memory>

#include "actors/interfaces.hpp"
#include "actors/memory_supervisor.hpp"
#include "core/metrics.hpp"
#include "core/pressure.hpp"

namespace catchup {

/// Limits of suggestion generation.
struct generation_config {
  /// Contacts per pulled batch (SUGGESTION_BATCH_SIZE), suggestions per
  /// generation (MAX_SUGGESTIONS_PER_GENERATION) and the concurrency share
  /// at each pressure level: its normal row is the configured batch and
  /// cap (see core/pressure.hpp).
  pressure_policy_table policy;
  /// Days of calendar in which slots are sought.
  std::int64_t window_days = 14;
  /// User generations running at once in a multi-user run.
  std::size_t concurrent_users_max = 8;
  /// Upper bound for one user's generation.
  std::chrono::milliseconds user_timeout{120000};
  /// First wait before work held by the open circuit breaker is retried;
  /// each retry doubles it up to `breaker_backoff_max`.
  std::chrono::milliseconds breaker_backoff_min{100};
  std::chrono::milliseconds breaker_backoff_max{5000};
  /// A user held by the breaker longer than this fails with the breaker's
  /// error (its memory figures) instead of waiting forever.
  std::chrono::milliseconds breaker_wait_max{600000};
};

/// Spawns the generation coordinator. Each generation runs in its own user
/// actor, which pulls contacts from `repo` and keeps only a bounded top-K.
/// `supervisor` (may be invalid) is asked for a fresh sample when held work
/// is retried; `metrics` (may be null) gets generation figures; `cache`
/// (may be invalid) serves busy time and learns of saved generations. Subscribe
/// the coordinator to the supervisor to make it follow pressure levels.
coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    repository_actor repo,
                                    const generation_config& cfg,
                                    memory_supervisor_actor supervisor = {},
                                    std::shared_ptr<metrics_registry> metrics
                                    = nullptr,
                                    cache_actor cache = {});

} // namespace catchup
