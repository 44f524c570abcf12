// SPDX-License-Identifier: Apache-2.0
#include "catchup/engine.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "actors/dispatcher.hpp"
#include "actors/engine_core.hpp"
#include "call_pool.hpp"
#include "config/config.hpp"
#include "config/logging.hpp"
#include "convert.hpp"
#include "load_settings.hpp"
#include "storage/user_store.hpp"

namespace catchup {

using api::current_error;
using api::input_means;

namespace {

constexpr const char* closed_text = "the engine is closed";

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

} // namespace

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
  std::map<subscription_id, std::shared_ptr<subscription>> subs;
  subscription_id next_sub = 1;
  std::mutex latest_mtx;
  memory_status latest;
  std::uint64_t latest_seq = 0;
  bool delivery_queued = false;

  std::mutex dispatcher_mtx;

  // One close at a time; `closed` once it finished.
  std::mutex close_mtx;
  bool closed = false;

  // Read without a call: fixed at open.
  bool embedded = false;
  std::string url;

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
  result<T> call(F&& f, input_means input = input_means::argument) noexcept {
    if (!enter())
      return error{error_code::closed, closed_text};
    struct leave_on_exit {
      impl* d;
      ~leave_on_exit() {
        d->leave();
      }
    } guard{this};
    try {
      return f();
    } catch (...) {
      return current_error(input);
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
      done(error{error_code::closed, closed_text});
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
    std::vector<std::shared_ptr<subscription>> targets;
    {
      std::lock_guard<std::mutex> guard{subs_mtx};
      for (auto& [id, sub] : subs)
        targets.push_back(sub);
    }
    for (auto& sub : targets)
      sub->deliver(snapshot, m.change_seq);
  }

  /// A new subscriber hears the current level first.
  void deliver_current(std::shared_ptr<subscription> sub) {
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

// -- lifetime -----------------------------------------------------------------

result<engine> engine::open(const engine_config& config) noexcept {
  try {
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
    engine_options options;
    options.clock = wall_clock{config.clock_unix_ms};
    auto* raw = d.get();
    options.on_memory_sample = [raw](const memory_status& m) {
      raw->on_sample(m);
    };
    try {
      d->core = std::make_unique<engine_core>(d->settings, std::move(options));
    } catch (...) {
      auto err = current_error();
      d->pool->stop();
      // A database that cannot be opened is unavailable, whatever layer
      // noticed.
      if (err.code == error_code::internal)
        err.code = error_code::database_unavailable;
      return err;
    }
    {
      std::lock_guard<std::mutex> guard{d->latest_mtx};
      if (d->latest_seq == 0)
        d->latest = d->core->last_memory_status();
    }
    d->embedded = d->core->embedded_database();
    d->url = d->core->database_url();
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
  // Waiting asynchronous calls now complete with `closed`; running ones
  // finish.
  d.pool->stop();
  {
    std::unique_lock<std::mutex> guard{d.calls_mtx};
    d.calls_idle.wait(guard, [&] { return d.calls_active == 0; });
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
  return impl_->call<std::string>([&] {
    storage::user_profile p;
    p.id = profile.id;
    p.email = profile.email;
    p.name = profile.name;
    p.timezone = profile.timezone;
    p.active = profile.active;
    if (profile.availability) {
      p.availability.emplace();
      for (const auto& w : *profile.availability)
        p.availability->push_back({w.weekday, w.start_minute, w.end_minute});
    }
    return impl_->core->put_user(p);
  });
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

result<run_totals> generate_all_on(engine::impl* d, std::int64_t now_unix_s,
                                   const engine::user_done_fn& on_user) {
  if (!d)
    return error{error_code::closed, closed_text};
  return d->call<run_totals>([&] {
    engine_core::result_callback cb;
    if (on_user)
      cb = [&on_user](const generation_result& r, std::size_t done,
                      std::size_t total) {
        try {
          on_user(api::to_public(r), done, total);
        } catch (...) {
          // The host's callback failing must not end the run.
        }
      };
    return api::to_public(
      d->core->generate_all(now_unix_s, std::move(cb)));
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

template <class T>
std::future<result<T>> closed_future() {
  std::promise<result<T>> p;
  p.set_value(error{error_code::closed, closed_text});
  return p.get_future();
}

} // namespace

result<generation_summary> engine::generate(const std::string& user_id,
                                            std::int64_t now_unix_s) {
  return generate_on(impl_.get(), user_id, now_unix_s);
}

std::future<result<generation_summary>>
engine::generate_async(const std::string& user_id, std::int64_t now_unix_s) {
  if (!impl_)
    return closed_future<generation_summary>();
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
    return closed_future<run_totals>();
  return impl_->post_future<run_totals>(
    [d = impl_.get(), now_unix_s, on_user = std::move(on_user)] {
      return generate_all_on(d, now_unix_s, on_user);
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
    return closed_future<std::vector<suggestion>>();
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

// -- imports ----------------------------------------------------------------------

namespace {

/// The internal request of an import, or why there is none.
result<import_request> request_of(const std::string& path_or_name,
                                  const import_params& params,
                                  bool needs_format) {
  import_request r;
  r.user_id = params.user_id;
  r.path = path_or_name;
  r.strict = params.strict;
  r.calendar_id = params.calendar_id;
  r.now_unix_s = params.now_unix_s; // 0: the engine's clock
  auto format = params.format;
  if (format == import_format::by_extension) {
    if (needs_format)
      return error{error_code::invalid_argument,
                   path_or_name + ": a stream import needs its format"};
    // Contacts by the importer's own rule; calendars by theirs.
    auto contacts = contact_format_of(path_or_name);
    auto dot = path_or_name.rfind('.');
    auto ext = dot == std::string::npos ? std::string{}
                                        : path_or_name.substr(dot + 1);
    for (auto& c : ext)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (contacts)
      format = *contacts == contact_format::vcard ? import_format::vcard
                                                  : import_format::csv;
    else if (ext == "ics" || ext == "ical" || ext == "ifb")
      format = import_format::icalendar;
    else
      return error{error_code::invalid_argument,
                   path_or_name
                     + ": unknown format (name it, or use a .vcf, .csv or "
                       ".ics file)"};
  }
  switch (format) {
    case import_format::vcard:
      r.format = contact_format::vcard;
      break;
    case import_format::csv:
      r.format = contact_format::csv;
      break;
    case import_format::icalendar:
      r.what = import_request::kind::calendar;
      break;
    case import_format::by_extension:
      break;
  }
  return r;
}

/// A finished import as a result: a run that stopped early is an error
/// whose message says where and how far it got.
result<import_summary> outcome_of(const import_report& report, bool strict) {
  if (report.ok())
    return api::to_public(report);
  auto code = strict && report.skipped > 0 ? error_code::invalid_input
                                           : error_code::database_error;
  return error{code, report.error + " (" + std::to_string(report.pages)
                       + " pages committed before it)"};
}

::catchup::import_progress_fn progress_of(engine::import_progress_fn progress) {
  if (!progress)
    return {};
  return [progress = std::move(progress)](
           const import_report& r, const std::vector<import_problem>&) {
    try {
      progress(api::to_public(r));
    } catch (...) {
      // The host's progress callback failing must not stop the import.
    }
  };
}

} // namespace

namespace {

result<import_summary> import_file_on(engine::impl* d, const std::string& path,
                                      const import_params& params,
                                      engine::import_progress_fn progress) {
  if (!d)
    return error{error_code::closed, closed_text};
  return d->call<import_summary>(
    [&]() -> result<import_summary> {
      auto request = request_of(path, params, false);
      if (!request)
        return request.error();
      auto report = d->core->import_file(*request,
                                         progress_of(std::move(progress)));
      return outcome_of(report, params.strict);
    },
    input_means::data);
}

} // namespace

result<import_summary> engine::import_file(const std::string& path,
                                           const import_params& params,
                                           import_progress_fn progress) {
  return import_file_on(impl_.get(), path, params, std::move(progress));
}

std::future<result<import_summary>>
engine::import_file_async(const std::string& path, const import_params& params,
                          import_progress_fn progress) {
  if (!impl_)
    return closed_future<import_summary>();
  return impl_->post_future<import_summary>(
    [d = impl_.get(), path, params, progress = std::move(progress)] {
      return import_file_on(d, path, params, progress);
    });
}

result<import_summary> engine::import_stream(std::istream& in,
                                             const std::string& name,
                                             const import_params& params,
                                             import_progress_fn progress) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<import_summary>(
    [&]() -> result<import_summary> {
      auto request = request_of(name, params, true);
      if (!request)
        return request.error();
      // A second stream on the caller's buffer: the engine reads through
      // it and the caller's stream stays the caller's.
      auto reader = std::make_unique<std::istream>(in.rdbuf());
      auto report = impl_->core->import_stream(
        *request, std::move(reader), progress_of(std::move(progress)));
      return outcome_of(report, params.strict);
    },
    input_means::data);
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
    auto sub = std::make_shared<subscription>();
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
  std::shared_ptr<subscription> sub;
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

} // namespace catchup
