// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to api/: the state behind a `catchup::engine`, shared by the
// facade's source files and by the admin tasks and the server built on it
// (through `detail::engine_access`).

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/engine_core.hpp"
#include "call_pool.hpp"
#include "catchup/engine.hpp"
#include "config/settings.hpp"
#include "core/clock.hpp"
#include "convert.hpp"
#include "storage/queue_admin.hpp"

namespace catchup {

namespace api {

inline constexpr const char* closed_text = "the engine is closed";

/// One pressure subscription. The recursive mutex is held while the
/// callback runs, so `unsubscribe` waits for a running call (and a
/// callback may end its own subscription).
struct subscription {
  std::recursive_mutex mtx;
  bool active = true;
  /// The change_seq last delivered: deliveries run on any call thread, so
  /// an older one arriving late is dropped rather than reported as news.
  bool delivered = false;
  std::uint64_t seq = 0;
  std::function<void(const memory_snapshot&)> fn;

  void deliver(const memory_snapshot& snapshot, std::uint64_t change_seq) {
    std::lock_guard<std::recursive_mutex> guard{mtx};
    if (!active || (delivered && change_seq <= seq))
      return;
    delivered = true;
    seq = change_seq;
    try {
      fn(snapshot);
    } catch (...) {
      // A subscriber's failure is its own; the others still hear.
    }
  }
};

/// A future that is ready with `closed`.
template <class T>
std::future<result<T>> closed_future() {
  std::promise<result<T>> p;
  p.set_value(error{error_code::closed, closed_text});
  return p.get_future();
}

} // namespace api

struct engine::impl {
  config::settings settings;
  std::unique_ptr<engine_core> core;
  std::unique_ptr<api::call_pool> pool;

  // Calls in flight; `close` waits for them.
  std::mutex calls_mtx;
  std::condition_variable calls_idle;
  std::size_t calls_active = 0;
  bool closing = false;

  // Pressure subscriptions.
  std::mutex subs_mtx;
  std::map<subscription_id, std::shared_ptr<api::subscription>> subs;
  subscription_id next_sub = 1;
  std::mutex latest_mtx;
  memory_status latest;
  std::uint64_t latest_seq = 0;
  bool delivery_queued = false;

  std::mutex dispatcher_mtx;

  // The connection of catchup/admin.hpp's calls on batches of jobs, opened
  // at the first of them and used by one call at a time.
  std::mutex queue_admin_mtx;
  std::unique_ptr<storage::queue_admin> queue_admin;

  // One close at a time; `closed` once it finished.
  std::mutex close_mtx;
  bool closed = false;

  // Run by a close before the core goes: what holds the core outside the
  // engine's calls (a server's HTTP endpoint) lets go of it here. Set once,
  // before the engine is shared.
  std::function<void()> before_close;

  // Read without a call: fixed at open.
  bool embedded = false;
  std::string url;
  std::string data_dir;
  /// A copy of the core's clock, so `now_unix_s` needs no call.
  wall_clock clock;

  bool enter() {
    std::lock_guard<std::mutex> guard{calls_mtx};
    if (closing)
      return false;
    ++calls_active;
    return true;
  }

  void leave() {
    std::lock_guard<std::mutex> guard{calls_mtx};
    if (--calls_active == 0)
      calls_idle.notify_all();
  }

  /// Runs `f` as one call: refused once closing, counted while it runs,
  /// every failure turned into an error value.
  template <class T, class F>
  result<T> call(F&& f, api::input_means input = api::input_means::argument) noexcept {
    if (!enter())
      return error{error_code::closed, api::closed_text};
    struct leave_on_exit {
      impl* d;
      ~leave_on_exit() {
        d->leave();
      }
    } guard{this};
    try {
      return f();
    } catch (...) {
      return api::current_error(input);
    }
  }

  /// Runs `f` (a blocking form) on a call thread and hands its result to
  /// `done`, there too.
  template <class T>
  void post(std::function<result<T>()> f,
            std::function<void(result<T>)> done) {
    auto refusal = pool->post([f = std::move(f), done]() mutable {
      done(f());
    });
    if (refusal == api::call_pool::refusal::full)
      done(error{error_code::busy,
                 "more than " + std::to_string(settings_queue_max)
                   + " asynchronous calls are waiting"});
    else if (refusal == api::call_pool::refusal::stopped)
      done(error{error_code::closed, api::closed_text});
  }

  template <class T>
  std::future<result<T>> post_future(std::function<result<T>()> f) {
    auto promise = std::make_shared<std::promise<result<T>>>();
    auto future = promise->get_future();
    post<T>(std::move(f),
            [promise](result<T> r) { promise->set_value(std::move(r)); });
    return future;
  }

  /// On the memory supervisor's thread, after every sample: a level change
  /// queues one delivery; changes arriving before it runs merge into it.
  void on_sample(const memory_status& m) {
    {
      std::lock_guard<std::mutex> guard{latest_mtx};
      if (m.change_seq == latest_seq)
        return;
      latest_seq = m.change_seq;
      latest = m;
      if (delivery_queued)
        return;
      delivery_queued = true;
    }
    auto refusal = pool->post([this] { deliver_pressure(); }, false);
    if (refusal != api::call_pool::refusal::none) {
      std::lock_guard<std::mutex> guard{latest_mtx};
      delivery_queued = false; // closing: nobody hears any more
    }
  }

  void deliver_pressure() {
    memory_status m;
    {
      std::lock_guard<std::mutex> guard{latest_mtx};
      m = latest;
      delivery_queued = false;
    }
    auto snapshot = api::to_public(m);
    std::vector<std::shared_ptr<api::subscription>> targets;
    {
      std::lock_guard<std::mutex> guard{subs_mtx};
      for (auto& [id, sub] : subs)
        targets.push_back(sub);
    }
    for (auto& sub : targets)
      sub->deliver(snapshot, m.change_seq);
  }

  /// A new subscriber hears the current level first.
  void deliver_current(std::shared_ptr<api::subscription> sub) {
    memory_status m;
    {
      std::lock_guard<std::mutex> guard{latest_mtx};
      m = latest;
    }
    // Unbounded: one per subscription call, which the caller paces.
    auto refusal = pool->post(
      [sub, m] { sub->deliver(api::to_public(m), m.change_seq); }, false);
    (void) refusal; // closing: nobody hears any more
  }

  std::size_t settings_queue_max = 0;
};

namespace detail {

/// The library's way into an engine's state.
struct engine_access {
  /// The state of `eng`; null for a moved-from engine.
  static engine::impl* state(engine& eng) noexcept {
    return eng.impl_.get();
  }
};

} // namespace detail

} // namespace catchup
