// SPDX-License-Identifier: Apache-2.0
#include "actors/memory_supervisor.hpp"

#include <algorithm>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/pressure.hpp"
#include "messages/error_codes.hpp"

namespace catchup {

namespace {

constexpr double mib = 1024.0 * 1024.0;

// The figures the supervisor keeps current in the metrics registry; the
// names follow the original service's where they fit.
struct supervisor_metrics {
  gauge* heap_used_bytes = nullptr;
  gauge* heap_total_bytes = nullptr;
  gauge* heap_percent = nullptr;
  gauge* rss_bytes = nullptr;
  gauge* level = nullptr;
  counter* level_changes = nullptr;
  counter* forced_gc = nullptr;
  counter* leaks = nullptr;

  explicit supervisor_metrics(metrics_registry* r) {
    if (r == nullptr)
      return;
    heap_used_bytes = &r->gauge_named("catchup_heap_used_bytes",
                                      "heap bytes allocated and not freed");
    heap_total_bytes = &r->gauge_named("catchup_heap_total_bytes",
                                       "the memory budget in bytes");
    heap_percent = &r->gauge_named("catchup_heap_percent",
                                   "heap in use in percent of the budget");
    rss_bytes = &r->gauge_named("catchup_rss_bytes", "resident set in bytes");
    level = &r->gauge_named("catchup_memory_pressure_level",
                            "0 normal, 1 elevated, 2 high, 3 critical");
    level_changes = &r->counter_named("catchup_memory_pressure_changes_total",
                                      "pressure level changes");
    forced_gc = &r->counter_named("catchup_memory_forced_gc_total",
                                  "times freed memory was returned to the OS");
    leaks = &r->counter_named("catchup_memory_leak_alarms_total",
                              "steady heap growth detected");
  }
};

struct supervisor_state {
  std::shared_ptr<memory_probe> probe;
  std::shared_ptr<memory_gauge> gauge;
  std::shared_ptr<metrics_registry> registry;
  supervisor_metrics metrics{nullptr};
  memory_supervisor_config cfg;
  pressure_classifier classifier;
  leak_detector leaks;
  memory_status last;
  std::vector<caf::actor> subscribers;
  static inline const char* name = "memory-supervisor";
};

using supervisor_pointer
  = memory_supervisor_actor::stateful_pointer<supervisor_state>;

void broadcast(supervisor_pointer self, const memory_status& x) {
  // High priority: a pressure change overtakes queued work, and CAF never
  // drops messages, so every live subscriber sees every change in order.
  for (auto& sub : self->state.subscribers)
    caf::anon_send<caf::message_priority::high>(sub, atom::pressure::value, x);
}

memory_status read(supervisor_state& st) {
  auto s = st.probe->sample();
  memory_status x;
  x.allocated_bytes = s.allocated_bytes;
  x.resident_bytes = s.resident_bytes;
  x.budget_bytes = st.cfg.budget_bytes;
  x.used_percent = st.cfg.budget_bytes > 0
                     ? 100.0 * static_cast<double>(s.allocated_bytes)
                         / static_cast<double>(st.cfg.budget_bytes)
                     : 0.0;
  return x;
}

void check_leak(supervisor_state& st, const memory_status& x) {
  st.leaks.add(x.allocated_bytes);
  if (st.leaks.size() < st.leaks.capacity())
    return;
  auto v = st.leaks.check();
  // Growth too small to matter against the budget is not reported: going
  // from idle to busy moves a small heap by 1.5x and more in one step.
  auto rise = v.last_bytes - v.first_bytes;
  if (!v.leak
      || rise * 100 < st.cfg.budget_bytes * st.cfg.leak_budget_percent_min)
    return;
  spdlog::warn("memory: possible leak: heap grew from {:.1f} MiB to {:.1f} "
               "MiB ({:.2f}x) over the last {} samples, rising {:.0f} bytes "
               "per sample; recommendation: compare `catchup bench` growth "
               "figures and run under heaptrack to find the owner",
               v.first_bytes / mib, v.last_bytes / mib, v.growth,
               st.leaks.size(), v.slope_bytes);
  if (st.metrics.leaks)
    st.metrics.leaks->add();
  // A new window: one alarm per episode, not one per sample.
  st.leaks = leak_detector{st.cfg.leak_samples_max, st.cfg.leak_growth_ratio};
}

memory_status take_sample(supervisor_pointer self) {
  auto& st = self->state;
  auto x = read(st);
  auto before = st.classifier.level();
  x.level = st.classifier.update(x.used_percent);
  x.change_seq = st.last.change_seq;
  if (x.level != before) {
    ++x.change_seq;
    auto text = describe(x);
    if (x.level > before)
      spdlog::warn("memory: {} (was {})", text, to_string(before));
    else
      spdlog::info("memory: {} (was {})", text, to_string(before));
    if (st.metrics.level_changes)
      st.metrics.level_changes->add();
    if (st.cfg.forced_gc_enabled && x.level > before
        && x.level >= pressure_level::elevated) {
      st.probe->release_free_memory();
      if (st.metrics.forced_gc)
        st.metrics.forced_gc->add();
      auto after = read(st);
      spdlog::info("memory: returned freed memory to the OS: resident "
                   "{:.1f} -> {:.1f} MiB",
                   x.resident_bytes / mib, after.resident_bytes / mib);
      x.resident_bytes = after.resident_bytes;
    }
  }
  st.last = x;
  if (st.gauge)
    st.gauge->store(x);
  if (st.metrics.heap_used_bytes) {
    st.metrics.heap_used_bytes->set(static_cast<double>(x.allocated_bytes));
    st.metrics.heap_total_bytes->set(static_cast<double>(x.budget_bytes));
    st.metrics.heap_percent->set(x.used_percent);
    st.metrics.rss_bytes->set(static_cast<double>(x.resident_bytes));
    st.metrics.level->set(static_cast<double>(x.level));
  }
  if (x.level != before)
    broadcast(self, x);
  check_leak(st, x);
  if (st.cfg.on_sample)
    st.cfg.on_sample(x);
  return x;
}

memory_supervisor_actor::behavior_type
supervisor(supervisor_pointer self, std::shared_ptr<memory_probe> probe,
           std::shared_ptr<memory_gauge> gauge,
           std::shared_ptr<metrics_registry> registry,
           memory_supervisor_config cfg) {
  auto& st = self->state;
  st.probe = std::move(probe);
  st.gauge = std::move(gauge);
  st.registry = std::move(registry);
  st.metrics = supervisor_metrics{st.registry.get()};
  st.classifier = pressure_classifier{cfg.critical_percent,
                                      cfg.hysteresis_points};
  st.leaks = leak_detector{cfg.leak_samples_max, cfg.leak_growth_ratio};
  st.cfg = std::move(cfg);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) {
                                return a.address() == dm.source;
                              }),
               subs.end());
  });
  take_sample(self);
  self->delayed_send(self, st.cfg.sample_interval, atom::tick::value);
  return {
    [=](atom::subscribe, caf::actor sub) -> caf::result<std::uint64_t> {
      auto& subs = self->state.subscribers;
      if (!sub)
        return caf::make_error(ec::invalid_input, "subscriber is invalid");
      if (std::find(subs.begin(), subs.end(), sub) == subs.end()) {
        if (subs.size() >= self->state.cfg.subscribers_max)
          return caf::make_error(
            ec::invalid_input,
            "memory supervisor has its maximum of "
              + std::to_string(self->state.cfg.subscribers_max)
              + " subscribers");
        self->monitor(sub);
        subs.push_back(sub);
        caf::anon_send<caf::message_priority::high>(sub, atom::pressure::value,
                                                self->state.last);
      }
      return static_cast<std::uint64_t>(subs.size());
    },
    [=](atom::sample) { return take_sample(self); },
    [=](atom::status) { return self->state.last; },
    [=](atom::tick) {
      take_sample(self);
      self->delayed_send(self, self->state.cfg.sample_interval,
                         atom::tick::value);
    },
  };
}

} // namespace

memory_supervisor_actor
spawn_memory_supervisor(caf::actor_system& sys,
                        std::shared_ptr<memory_probe> probe,
                        std::shared_ptr<memory_gauge> gauge,
                        std::shared_ptr<metrics_registry> metrics,
                        memory_supervisor_config cfg) {
  return sys.spawn(supervisor, std::move(probe), std::move(gauge),
                   std::move(metrics), std::move(cfg));
}

operation_memory measure_operation(const std::string& name,
                                   memory_probe& probe,
                                   std::int64_t budget_bytes,
                                   const std::function<void()>& op) {
  operation_memory m;
  auto started = std::chrono::steady_clock::now();
  m.allocated_before_bytes = probe.sample().allocated_bytes;
  op();
  m.allocated_after_bytes = probe.sample().allocated_bytes;
  m.wall_ms = std::chrono::duration<double, std::milli>(
                std::chrono::steady_clock::now() - started)
                .count();
  m.used_percent = budget_bytes > 0
                     ? 100.0 * static_cast<double>(m.allocated_after_bytes)
                         / static_cast<double>(budget_bytes)
                     : 0.0;
  auto diff = m.allocated_after_bytes - m.allocated_before_bytes;
  auto level = diff > static_cast<std::int64_t>(mib) ? spdlog::level::info
                                                     : spdlog::level::debug;
  spdlog::log(level,
              "operation {}: allocated {:.2f} -> {:.2f} MiB ({:+.2f}), "
              "{:.1f}% of budget, {:.1f} ms",
              name, m.allocated_before_bytes / mib,
              m.allocated_after_bytes / mib, diff / mib, m.used_percent,
              m.wall_ms);
  return m;
}

} // namespace catchup
