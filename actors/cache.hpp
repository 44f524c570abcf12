// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <caf/actor_system.hpp>

#include "actors/interfaces.hpp"
#include "config/settings.hpp"
#include "core/metrics.hpp"
#include "core/pressure.hpp"

namespace catchup {

/// Spawns the cache actor over `repo` with the limits of `cfg`, their byte
/// limits scaled down to `cfg.budget_percent` of `memory_budget_bytes` if
/// they add up to more (0: no budget). Under memory pressure every cache
/// shrinks to the cache capacity share of `policy` (the engine's one
/// pressure policy table) at the level. `metrics`
/// (may be null) gets each cache's entries, bytes, hits and misses.
/// `now_ms` is the caches' clock (steady milliseconds by default; tests
/// drive their own). Subscribe it to the memory supervisor to make it
/// shrink under pressure.
cache_actor spawn_cache(caf::actor_system& sys, repository_actor repo,
                        config::caches_settings cfg,
                        std::int64_t memory_budget_bytes,
                        const pressure_policy_table& policy,
                        std::shared_ptr<metrics_registry> metrics = nullptr,
                        std::function<std::int64_t()> now_ms = {});

} // namespace catchup
