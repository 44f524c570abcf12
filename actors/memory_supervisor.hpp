// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "core/memory.hpp"
#include "core/metrics.hpp"
#include "messages/atoms.hpp"
#include "messages/memory_messages.hpp"

namespace catchup {

/// The MEMORY SUPERVISOR: samples the process's memory, classifies it into
/// pressure levels and tells every subscriber about each level change.
using memory_supervisor_actor = caf::typed_actor<
  // Subscribes an actor (monitored; dropped when it dies). It gets the
  // current status at once, then every change as (pressure, status).
  // Replies with the number of subscribers.
  caf::replies_to<atom::subscribe, caf::actor>::with<std::uint64_t>,
  // Samples now (broadcasting a change first) and replies with the result.
  caf::replies_to<atom::sample>::with<memory_status>,
  // The latest sample, without sampling.
  caf::replies_to<atom::status>::with<memory_status>,
  // Internal: the periodic sample.
  caf::reacts_to<atom::tick>>;

/// The latest memory status, readable from any thread without a message:
/// the supervisor stores every sample here.
class memory_gauge {
public:
  memory_status load() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return status_;
  }
  void store(const memory_status& x) {
    std::lock_guard<std::mutex> guard{mtx_};
    status_ = x;
  }

private:
  mutable std::mutex mtx_;
  memory_status status_;
};

/// Settings of the memory supervisor.
struct memory_supervisor_config {
  /// The budget levels refer to (already resolved; > 0).
  std::int64_t budget_bytes = 0;
  /// Percent of the budget at which pressure is critical (MAX_HEAP_PERCENT).
  double critical_percent = 80;
  /// Points below a level's entry threshold at which it is left.
  double hysteresis_points = 5;
  /// Interval of periodic samples.
  std::chrono::milliseconds sample_interval{1000};
  /// Return freed memory to the OS on entering elevated or above.
  bool forced_gc_enabled = true;
  /// Samples in the leak detector's window.
  std::size_t leak_samples_max = 60;
  /// Growth of the newest over the oldest sample that may be a leak.
  double leak_growth_ratio = 1.5;
  /// ... and the least growth, in percent of the budget, worth an alarm.
  std::int64_t leak_budget_percent_min = 1;
  /// Subscribers at most; more are refused (a bug, not a load).
  std::size_t subscribers_max = 4096;
  /// Called with every sample on the supervisor's thread (may be empty);
  /// for timelines.
  std::function<void(const memory_status&)> on_sample;
};

/// Spawns the supervisor. `probe` is where figures come from (a fake in
/// tests); `gauge` (may be null) receives every sample; `metrics` (may be
/// null) gets the heap, rss, level and leak figures.
memory_supervisor_actor
spawn_memory_supervisor(caf::actor_system& sys,
                        std::shared_ptr<memory_probe> probe,
                        std::shared_ptr<memory_gauge> gauge,
                        std::shared_ptr<metrics_registry> metrics,
                        memory_supervisor_config cfg);

/// Runs `op` as the original's wrapOperation did: refuses it when the gauge
/// says the breaker is open (throws `memory_refused`), else runs it and logs
/// one line with the allocated bytes before, after and their difference,
/// the percent of budget and the duration.
class memory_refused : public std::runtime_error {
public:
  explicit memory_refused(const memory_status& x)
    : std::runtime_error(describe(x) + "; new work refused"), status_(x) {
    // nop
  }
  const memory_status& status() const noexcept {
    return status_;
  }

private:
  memory_status status_;
};

/// The memory line of one operation; see `wrap_operation`.
struct operation_memory {
  std::int64_t allocated_before_bytes = 0;
  std::int64_t allocated_after_bytes = 0;
  double used_percent = 0;
  double wall_ms = 0;
};

/// Samples before and after `op`; logs "operation NAME: allocated A -> B
/// (+D), P% of budget, T ms" at debug level (info when it grew by more than
/// a MiB).
operation_memory measure_operation(const std::string& name,
                                   memory_probe& probe,
                                   std::int64_t budget_bytes,
                                   const std::function<void()>& op);

template <class F>
auto wrap_operation(const std::string& name, const memory_gauge& gauge,
                    memory_probe& probe, F&& op) -> decltype(op()) {
  auto before = gauge.load();
  if (before.level == pressure_level::critical)
    throw memory_refused(before);
  if constexpr (std::is_void_v<decltype(op())>) {
    measure_operation(name, probe, before.budget_bytes, op);
  } else {
    decltype(op()) out{};
    measure_operation(name, probe, before.budget_bytes, [&] { out = op(); });
    return out;
  }
}

} // namespace catchup
