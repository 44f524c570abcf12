// SPDX-License-Identifier: Apache-2.0
// The engine's generations (engine_core.hpp): one user, on this node or
// routed through the cluster, and runs over all users or a list, whose
// per-user results reach the caller's callback on the caller's thread.
#include "actors/engine_core.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/cluster.hpp"
#include "actors/engine_core_impl.hpp"
#include "actors/memory_supervisor.hpp"

namespace catchup {

generation_result engine_core::generate(const std::string& user_id,
                                   std::int64_t now_unix_s) {
  auto& d = *impl_;
  now_unix_s = d.clock.or_now_unix_s(now_unix_s);
  return d.about_user(user_id, [&] {
    auto unset_logger = d.release_thread_logger();
    caf::scoped_actor self{*d.sys};
    generation_result out;
    cluster_node_actor node;
    {
      std::lock_guard<std::mutex> lock{d.membership_mtx};
      node = d.membership.node;
    }
    if (node) {
      // A cluster member: the least-pressured reachable node runs it (this
      // one on a tie), with one retry elsewhere, within the route timeout.
      auto limit = std::chrono::milliseconds(d.cfg.cluster.route_timeout_ms);
      self
        ->request(node, limit + std::chrono::seconds(1),
                  atom::generate::value, user_id, now_unix_s,
                  static_cast<std::int64_t>(limit.count()))
        .receive([&](routed_generation& r) { out = std::move(r.result); },
                 [&](caf::error& err) { d.raise(err); });
      return out;
    }
    // The coordinator's watchdog answers after user_timeout (plus one of its
    // 1 s ticks) with the reason; this wait only guards against a lost
    // coordinator.
    self
      ->request(d.coordinator, d.gen.user_timeout + std::chrono::seconds(10),
                atom::generate::value,
                generation_request{user_id, now_unix_s})
      .receive([&](generation_result& r) { out = std::move(r); },
               [&](caf::error& err) { d.raise(err); });
    return out;
  });
}

namespace {

// One run's events, handed from the actor that drives the run to the thread
// that called generate_all, which calls the host's callback itself: no
// thread of the engine's runs host code, the callback may block or call the
// engine again, and no thread is started (and ended) per run.
struct run_channel {
  struct report {
    generation_result result;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
  };
  std::mutex mtx;
  std::condition_variable ready;
  // At most the coordinator's unacknowledged reports (results_unacked_max):
  // each waits for its ack, sent once the callback has returned.
  std::deque<report> reports;
  bool finished = false;
  // Set when the caller's callback threw and the caller left: the driver
  // then acknowledges each report itself, so the run goes on to its end.
  bool abandoned = false;
  run_summary summary;
  caf::error failure;

  /// False when the caller left; the report is then dropped.
  bool push(report r) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (abandoned)
        return false;
      reports.push_back(std::move(r));
    }
    ready.notify_one();
    return true;
  }
  /// Leaves the run: from now on the driver acknowledges reports itself.
  /// @returns how many reports were waiting (each still owes an ack).
  std::size_t abandon() {
    std::lock_guard<std::mutex> guard{mtx};
    abandoned = true;
    auto waiting = reports.size();
    reports.clear();
    return waiting;
  }
  void finish(run_summary s, caf::error err) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      summary = std::move(s);
      failure = std::move(err);
      finished = true;
    }
    ready.notify_one();
  }
};

// Asks the coordinator for the run and relays its progress reports (each a
// request acknowledged once the callback has handled it, which keeps the
// coordinator's flow control) and its reply into `channel`.
template <class... Args>
caf::behavior run_driver(caf::stateful_actor<std::deque<caf::response_promise>>* self,
                         std::shared_ptr<run_channel> channel,
                         coordinator_actor coordinator, bool with_progress,
                         Args... args) {
  caf::actor listener;
  if (with_progress)
    listener = caf::actor_cast<caf::actor>(self);
  self
    ->request(coordinator, caf::infinite, atom::generate::value,
              std::move(args)..., listener)
    .then(
      [=](run_summary& r) {
        channel->finish(std::move(r), caf::error{});
        self->quit();
      },
      [=](caf::error& err) {
        channel->finish(run_summary{}, std::move(err));
        self->quit();
      });
  return {
    [=](atom::progress, generation_result& r, std::uint64_t done,
        std::uint64_t total) {
      auto promise = self->make_response_promise();
      if (channel->push({std::move(r), done, total}))
        self->state.push_back(std::move(promise));
      else
        promise.deliver(caf::unit);
    },
    [=](atom::done) {
      if (self->state.empty())
        return;
      self->state.front().deliver(caf::unit);
      self->state.pop_front();
    },
  };
}

template <class... Ts>
run_summary run_many(engine_core::impl& d, engine_core::result_callback on_result,
                     Ts&&... xs) {
  auto channel = std::make_shared<run_channel>();
  auto unset_logger = d.release_thread_logger();
  auto driver = d.sys->spawn(run_driver<std::decay_t<Ts>...>, channel,
                             d.coordinator, static_cast<bool>(on_result),
                             std::forward<Ts>(xs)...);
  // The coordinator replies only after every report was acknowledged, so
  // once finished no report is left.
  std::unique_lock<std::mutex> lock{channel->mtx};
  for (;;) {
    channel->ready.wait(lock, [&] {
      return !channel->reports.empty() || channel->finished;
    });
    if (channel->reports.empty())
      break;
    auto next = std::move(channel->reports.front());
    channel->reports.pop_front();
    lock.unlock();
    auto driver_handle = caf::actor_cast<caf::actor>(driver);
    try {
      on_result(next.result, static_cast<std::size_t>(next.done),
                static_cast<std::size_t>(next.total));
    } catch (...) {
      // The run goes on without this caller, whose exception reaches it at
      // once: this report and those waiting are acknowledged here, later
      // ones by the driver.
      const auto waiting = channel->abandon();
      for (std::size_t i = 0; i <= waiting; ++i)
        caf::anon_send(driver_handle, atom::done::value);
      throw;
    }
    caf::anon_send(driver_handle, atom::done::value);
    lock.lock();
  }
  if (channel->failure)
    d.raise(channel->failure);
  return std::move(channel->summary);
}

} // namespace

run_summary engine_core::generate_all(std::int64_t now_unix_s,
                                 result_callback on_result) {
  // Not refused at critical: the coordinator holds the run's users instead.
  run_summary out;
  measure_operation("generate-all", *impl_->probe, impl_->budget_bytes, [&] {
    out = run_many(*impl_, std::move(on_result),
                   impl_->clock.or_now_unix_s(now_unix_s));
  });
  return out;
}

run_summary engine_core::generate_users(const std::vector<std::string>& user_ids,
                                   std::int64_t now_unix_s,
                                   result_callback on_result) {
  run_summary out;
  measure_operation("generate-users", *impl_->probe, impl_->budget_bytes,
                    [&] {
                      out = run_many(*impl_, std::move(on_result), user_ids,
                                     impl_->clock.or_now_unix_s(now_unix_s));
                    });
  return out;
}

} // namespace catchup
