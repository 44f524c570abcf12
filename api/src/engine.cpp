// SPDX-License-Identifier: Apache-2.0
#include "catchup/engine.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include "actors/dispatcher.hpp"
#include "config/logging.hpp"
#include "convert.hpp"
#include "engine_impl.hpp"
#include "load_settings.hpp"
#include "core/memory.hpp"

namespace catchup {

using api::closed_text;
using api::current_error;
using api::input_means;


// -- lifetime -----------------------------------------------------------------

namespace {

/// The call threads and queue `config` asks for, or why they are refused.
result<void> check_call_limits(const engine_config& config) {
  if (config.async_threads < 1 || config.async_threads > 256)
    return error{error_code::invalid_config,
                 "engine_config.async_threads is "
                   + std::to_string(config.async_threads)
                   + ", must be 1..256"};
  if (config.async_queue_max < 1 || config.async_queue_max > 1000000)
    return error{error_code::invalid_config,
                 "engine_config.async_queue_max is "
                   + std::to_string(config.async_queue_max)
                   + ", must be 1..1000000"};
  return {};
}

/// What the core hands the facade: every memory sample, for the pressure
/// subscriptions and the host's own hook.
engine_options core_options(engine::impl& d, const engine_config& config) {
  engine_options options;
  options.clock = wall_clock{config.clock_unix_ms};
  options.on_memory_sample = [raw = &d, hook = config.on_memory_sample](
                               const memory_status& m) {
    raw->on_sample(m);
    if (!hook)
      return;
    try {
      hook(api::to_public(m));
    } catch (...) {
      // The host's timeline failing must not stop the sampling.
    }
  };
  return options;
}

} // namespace

result<engine> engine::open(const engine_config& config) noexcept {
  try {
    if (auto limits = check_call_limits(config); !limits)
      return limits.error();
    auto settings = api::load_settings(config);
    if (!settings)
      return settings.error();
    if (config.configure_logging)
      config::setup_logging(settings->log);
    auto d = std::make_unique<impl>();
    d->settings = std::move(*settings);
    d->settings_queue_max = config.async_queue_max;
    d->pool = std::make_unique<api::call_pool>(config.async_threads,
                                               config.async_queue_max);
    try {
      d->core = std::make_unique<engine_core>(d->settings,
                                              core_options(*d, config));
    } catch (...) {
      d->pool->stop();
      return api::opening_error();
    }
    {
      std::lock_guard<std::mutex> guard{d->latest_mtx};
      if (d->latest_seq == 0)
        d->latest = d->core->last_memory_status();
    }
    d->embedded = d->core->embedded_database();
    d->url = d->core->database_url();
    d->data_dir = d->core->data_dir();
    d->clock = d->core->clock();
    return engine{std::move(d)};
  } catch (...) {
    return current_error();
  }
}

engine::engine() noexcept = default;

engine::engine(std::unique_ptr<impl> d) noexcept : impl_(std::move(d)) {
  // nop
}

engine::engine(engine&&) noexcept = default;

namespace {

/// Closes `d` (see engine::close). On one of the engine's own call threads
/// it only refuses new calls: that thread cannot wait for itself; the rest
/// happens when the engine is destroyed or closed from another thread.
void close_impl(engine::impl& d) noexcept {
  std::lock_guard<std::mutex> closing{d.close_mtx};
  {
    std::lock_guard<std::mutex> guard{d.calls_mtx};
    d.closing = true;
  }
  if (d.closed || d.pool->on_pool_thread())
    return;
  if (d.before_close) {
    try {
      d.before_close();
    } catch (...) {
      // Closing goes on; what the hook holds ends with the process.
    }
  }
  // Waiting asynchronous calls now complete with `closed`; running ones
  // finish.
  d.pool->stop();
  {
    std::unique_lock<std::mutex> guard{d.calls_mtx};
    d.calls_idle.wait(guard, [&] { return d.calls_active == 0; });
  }
  {
    // Before the core, which may stop the private database it is on.
    std::lock_guard<std::mutex> guard{d.queue_admin_mtx};
    d.queue_admin.reset();
  }
  try {
    if (d.core)
      d.core->stop_worker(
        std::chrono::milliseconds{d.settings.node.shutdown_grace_ms});
  } catch (...) {
    // Closing goes on: the jobs' leases expire and another node takes them.
  }
  d.core.reset();
  d.closed = true;
}

/// Closes and frees an engine's state. On one of its own call threads (a
/// callback that held the last reference to its engine) that is handed to
/// a thread of its own, which can wait for the call threads to end.
void retire(std::unique_ptr<engine::impl> d) noexcept {
  if (!d)
    return;
  if (!d->pool->on_pool_thread()) {
    close_impl(*d);
    return;
  }
  try {
    std::thread([raw = d.release()] {
      close_impl(*raw);
      delete raw;
    }).detach();
  } catch (...) {
    // No thread to be had: leaking the engine beats aborting the host.
    (void) d.release();
  }
}

} // namespace

engine& engine::operator=(engine&& other) noexcept {
  if (this != &other) {
    retire(std::move(impl_));
    impl_ = std::move(other.impl_);
  }
  return *this;
}

engine::~engine() {
  retire(std::move(impl_));
}

void engine::close() noexcept {
  if (impl_)
    close_impl(*impl_);
}

bool engine::is_open() const noexcept {
  if (!impl_)
    return false;
  std::lock_guard<std::mutex> guard{impl_->calls_mtx};
  return !impl_->closing;
}

// -- users ----------------------------------------------------------------------

result<std::string> engine::put_user(const user_profile& profile) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::string>(
    [&] { return impl_->core->put_user(profile); });
}

result<std::vector<user_info>> engine::users() {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::vector<user_info>>(
    [&] { return impl_->core->read_users(); });
}

result<user_info> engine::user(const std::string& user_id) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<user_info>(
    [&] { return impl_->core->read_user(user_id); });
}

result<void> engine::delete_user(const std::string& user_id) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  auto r = impl_->call<bool>([&] {
    impl_->core->delete_user(user_id);
    return true;
  });
  if (!r)
    return r.error();
  return {};
}

// -- generation -------------------------------------------------------------------

// The bodies of calls that also have asynchronous forms take the impl, not
// the engine: a queued call must survive the engine object being moved.

namespace {

result<generation_summary> generate_on(engine::impl* d,
                                       const std::string& user_id,
                                       std::int64_t now_unix_s) {
  if (!d)
    return error{error_code::closed, closed_text};
  return d->call<generation_summary>([&] {
    return api::to_public(d->core->generate(user_id, now_unix_s));
  });
}

/// The core's per-user callback for a host's `on_user` (none if empty).
engine_core::result_callback
user_callback(const engine::user_done_fn& on_user) {
  if (!on_user)
    return {};
  return [&on_user](const generation_result& r, std::size_t done,
                    std::size_t total) {
    try {
      on_user(api::to_public(r), done, total);
    } catch (...) {
      // The host's callback failing must not end the run.
    }
  };
}

result<run_totals> generate_all_on(engine::impl* d, std::int64_t now_unix_s,
                                   const engine::user_done_fn& on_user) {
  if (!d)
    return error{error_code::closed, closed_text};
  return d->call<run_totals>([&] {
    return api::to_public(
      d->core->generate_all(now_unix_s, user_callback(on_user)));
  });
}

result<run_totals> generate_users_on(engine::impl* d,
                                     const std::vector<std::string>& user_ids,
                                     std::int64_t now_unix_s,
                                     const engine::user_done_fn& on_user) {
  if (!d)
    return error{error_code::closed, closed_text};
  return d->call<run_totals>([&] {
    return api::to_public(d->core->generate_users(user_ids, now_unix_s,
                                                  user_callback(on_user)));
  });
}

result<std::vector<suggestion>> suggestions_on(engine::impl* d,
                                               const std::string& user_id) {
  if (!d)
    return error{error_code::closed, closed_text};
  return d->call<std::vector<suggestion>>([&] {
    std::vector<suggestion> out;
    for (const auto& s : d->core->suggestions(user_id))
      out.push_back(api::to_public(s));
    return out;
  });
}

} // namespace

result<generation_summary> engine::generate(const std::string& user_id,
                                            std::int64_t now_unix_s) {
  return generate_on(impl_.get(), user_id, now_unix_s);
}

std::future<result<generation_summary>>
engine::generate_async(const std::string& user_id, std::int64_t now_unix_s) {
  if (!impl_)
    return api::closed_future<generation_summary>();
  return impl_->post_future<generation_summary>(
    [d = impl_.get(), user_id, now_unix_s] {
      return generate_on(d, user_id, now_unix_s);
    });
}

void engine::generate_async(
  const std::string& user_id, std::int64_t now_unix_s,
  std::function<void(result<generation_summary>)> done) {
  if (!impl_) {
    done(error{error_code::closed, closed_text});
    return;
  }
  impl_->post<generation_summary>(
    [d = impl_.get(), user_id, now_unix_s] {
      return generate_on(d, user_id, now_unix_s);
    },
    std::move(done));
}

result<run_totals> engine::generate_all(std::int64_t now_unix_s,
                                        user_done_fn on_user) {
  return generate_all_on(impl_.get(), now_unix_s, on_user);
}

std::future<result<run_totals>>
engine::generate_all_async(std::int64_t now_unix_s, user_done_fn on_user) {
  if (!impl_)
    return api::closed_future<run_totals>();
  return impl_->post_future<run_totals>(
    [d = impl_.get(), now_unix_s, on_user = std::move(on_user)] {
      return generate_all_on(d, now_unix_s, on_user);
    });
}

result<run_totals>
engine::generate_users(const std::vector<std::string>& user_ids,
                       std::int64_t now_unix_s, user_done_fn on_user) {
  return generate_users_on(impl_.get(), user_ids, now_unix_s, on_user);
}

std::future<result<run_totals>>
engine::generate_users_async(std::vector<std::string> user_ids,
                             std::int64_t now_unix_s, user_done_fn on_user) {
  if (!impl_)
    return api::closed_future<run_totals>();
  return impl_->post_future<run_totals>(
    [d = impl_.get(), user_ids = std::move(user_ids), now_unix_s,
     on_user = std::move(on_user)] {
      return generate_users_on(d, user_ids, now_unix_s, on_user);
    });
}

// -- suggestions ------------------------------------------------------------------

result<std::vector<suggestion>>
engine::suggestions(const std::string& user_id) {
  return suggestions_on(impl_.get(), user_id);
}

std::future<result<std::vector<suggestion>>>
engine::suggestions_async(const std::string& user_id) {
  if (!impl_)
    return api::closed_future<std::vector<suggestion>>();
  return impl_->post_future<std::vector<suggestion>>(
    [d = impl_.get(), user_id] { return suggestions_on(d, user_id); });
}

result<suggestion> engine::respond(const suggestion_response& response) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<suggestion>([&] {
    return api::to_public(
      impl_->core->respond(api::to_internal(response)).suggestion);
  });
}

result<suggestion> engine::accept(const std::string& user_id,
                                  const std::string& suggestion_id) {
  suggestion_response r;
  r.user_id = user_id;
  r.suggestion_id = suggestion_id;
  r.action = suggestion_action::accept;
  return respond(r);
}

result<suggestion> engine::dismiss(const std::string& user_id,
                                   const std::string& suggestion_id,
                                   const std::string& reason) {
  suggestion_response r;
  r.user_id = user_id;
  r.suggestion_id = suggestion_id;
  r.action = suggestion_action::dismiss;
  r.reason = reason;
  return respond(r);
}

result<suggestion> engine::snooze(const std::string& user_id,
                                  const std::string& suggestion_id,
                                  std::int64_t until_unix_s) {
  suggestion_response r;
  r.user_id = user_id;
  r.suggestion_id = suggestion_id;
  r.action = suggestion_action::snooze;
  r.snooze_until_unix_s = until_unix_s;
  return respond(r);
}

// -- contacts ---------------------------------------------------------------------

result<contact_info> engine::contact(const std::string& user_id,
                                     const std::string& contact_id) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<contact_info>([&] {
    auto info = api::to_public(impl_->core->contact(user_id, contact_id));
    info.dates = impl_->core->contact_dates(user_id, contact_id);
    return info;
  });
}

result<std::vector<upcoming_date>>
engine::upcoming_dates(const std::string& user_id, int horizon_days,
                       std::int64_t now_unix_s) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::vector<upcoming_date>>([&] {
    return impl_->core->upcoming_dates(user_id, horizon_days, now_unix_s);
  });
}

result<std::int64_t> engine::for_each_contact(
  const std::string& user_id,
  const std::function<bool(const contact_info&)>& visit) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::int64_t>([&] {
    // Rows as the stream reads them: a batch no larger than the priority
    // stream's, and every column a contact_info has.
    constexpr std::size_t batch_rows = 1000;
    // A visitor that throws stops the stream like one that returns false,
    // so its cursor and connection are let go before the failure returns.
    std::exception_ptr failure;
    auto visited = impl_->core->for_each_contact(
      user_id, contact_order::last_contact, false, true, batch_rows,
      [&](const contact_record& r) {
        try {
          return visit(api::to_public(r));
        } catch (...) {
          failure = std::current_exception();
          return false;
        }
      });
    if (failure)
      std::rethrow_exception(failure);
    return visited;
  });
}

// -- job dispatcher ---------------------------------------------------------------

result<void> engine::start_dispatcher() {
  if (!impl_)
    return error{error_code::closed, closed_text};
  auto r = impl_->call<bool>([&] {
    std::lock_guard<std::mutex> guard{impl_->dispatcher_mtx};
    if (impl_->core->worker_running())
      throw engine_error(ec::conflict, "the dispatcher already runs");
    impl_->core->start_worker(worker_options_from(impl_->settings));
    return true;
  });
  if (!r)
    return r.error();
  return {};
}

result<void> engine::stop_dispatcher(std::chrono::milliseconds grace) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  auto r = impl_->call<bool>([&] {
    std::lock_guard<std::mutex> guard{impl_->dispatcher_mtx};
    if (!impl_->core->stop_worker(grace))
      throw engine_error(ec::db_unavailable,
                         "the dispatcher did not answer the stop");
    return true;
  });
  if (!r)
    return r.error();
  return {};
}

result<std::int64_t> engine::enqueue_generation(const std::string& user_id,
                                                std::int64_t run_at_unix_ms) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::int64_t>([&] {
    return impl_->core->enqueue("generate", user_id, "{}", run_at_unix_ms).id;
  });
}

result<dispatcher_figures> engine::dispatcher() const {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<dispatcher_figures>([&] {
    const auto& w = impl_->core->worker();
    dispatcher_figures out;
    out.claimed = w.claimed.load();
    out.completed = w.completed.load();
    out.failed = w.failed.load();
    out.released = w.released.load();
    out.in_flight = w.in_flight.load();
    return out;
  });
}

// -- memory and metrics -----------------------------------------------------------

result<memory_snapshot> engine::memory() {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<memory_snapshot>(
    [&] { return api::to_public(impl_->core->sample_memory()); });
}

result<metrics_snapshot> engine::metrics() {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<metrics_snapshot>([&] {
    auto& core = *impl_->core;
    metrics_snapshot out;
    out.prometheus_text = core.metrics().render_prometheus()
                          + render_worker_metrics(core.worker());
    out.memory = api::to_public(core.sample_memory());
    for (const auto& m : core.metrics().snapshot()) {
      if (m.name == "catchup_generations_total")
        out.generations = static_cast<std::int64_t>(m.value);
      else if (m.name == "catchup_generations_failed_total")
        out.generations_failed = static_cast<std::int64_t>(m.value);
    }
    out.jobs_done = static_cast<std::int64_t>(core.worker().completed.load());
    out.jobs_failed = static_cast<std::int64_t>(core.worker().failed.load());
    out.jobs_in_flight
      = static_cast<std::int64_t>(core.worker().in_flight.load());
    for (const auto& m : core.metrics().snapshot())
      out.readings.push_back(api::to_public(m));
    out.peak_resident_bytes = read_process_memory().peak_resident_bytes;
    return out;
  });
}

result<subscription_id> engine::on_pressure_change(
  std::function<void(const memory_snapshot&)> on_change) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<subscription_id>([&]() -> result<subscription_id> {
    if (!on_change)
      return error{error_code::invalid_argument,
                   "on_pressure_change needs a callback"};
    auto sub = std::make_shared<api::subscription>();
    sub->fn = std::move(on_change);
    subscription_id id = 0;
    {
      std::lock_guard<std::mutex> guard{impl_->subs_mtx};
      id = impl_->next_sub++;
      impl_->subs.emplace(id, sub);
    }
    impl_->deliver_current(std::move(sub));
    return id;
  });
}

void engine::unsubscribe(subscription_id id) noexcept {
  if (!impl_)
    return;
  std::shared_ptr<api::subscription> sub;
  {
    std::lock_guard<std::mutex> guard{impl_->subs_mtx};
    auto i = impl_->subs.find(id);
    if (i == impl_->subs.end())
      return;
    sub = std::move(i->second);
    impl_->subs.erase(i);
  }
  std::lock_guard<std::recursive_mutex> guard{sub->mtx};
  sub->active = false;
}

// -- about this engine ------------------------------------------------------------

bool engine::embedded_database() const noexcept {
  return impl_ && impl_->embedded;
}

std::string engine::database_url() const {
  return impl_ ? impl_->url : std::string{};
}

std::string engine::data_dir() const {
  return impl_ ? impl_->data_dir : std::string{};
}

std::int64_t engine::now_unix_s() const noexcept {
  try {
    return impl_ ? impl_->clock.now_unix_s() : 0;
  } catch (...) {
    return 0; // a host's clock that failed
  }
}

} // namespace catchup
