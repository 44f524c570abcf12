// SPDX-License-Identifier: Apache-2.0
#include "actors/generation.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <map>
#include <set>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "adapters/tz_database.hpp"
#include "core/assert.hpp"
#include "core/free_slots.hpp"
#include "core/pressure.hpp"
#include "core/priority.hpp"
#include "core/top_k.hpp"
#include "core/uuid.hpp"
#include "messages/error_codes.hpp"
#include "storage/session.hpp"

namespace catchup {

namespace {

using clock_type = std::chrono::steady_clock;

// -- metrics ----------------------------------------------------------------------

struct generation_metrics {
  histogram* duration_seconds = nullptr;
  histogram* heap_bytes = nullptr;
  counter* contacts_processed = nullptr;
  counter* generations = nullptr;
  counter* partial = nullptr;
  counter* failed = nullptr;
  counter* breaker_trips = nullptr;
  gauge* running = nullptr;

  explicit generation_metrics(metrics_registry* r) {
    if (r == nullptr)
      return;
    duration_seconds = &r->histogram_named(
      "catchup_generation_duration_seconds",
      "wall time of one user's generation",
      default_duration_buckets_seconds());
    heap_bytes = &r->histogram_named(
      "catchup_generation_heap_bytes",
      "process heap in use when a generation finished (latest sample)",
      default_size_buckets_bytes());
    contacts_processed = &r->counter_named(
      "catchup_generation_contacts_processed_total",
      "contact rows read by generations");
    generations = &r->counter_named("catchup_generations_total",
                                    "user generations finished");
    partial = &r->counter_named("catchup_generations_partial_total",
                                "generations cut short by memory pressure");
    failed = &r->counter_named("catchup_generations_failed_total",
                               "user generations that failed");
    breaker_trips = &r->counter_named(
      "catchup_memory_circuit_breaker_triggered_total",
      "requests refused or held because memory pressure was critical");
    running = &r->gauge_named("catchup_generations_running",
                              "user generations in progress");
  }
};

// -- user actor: one generation ------------------------------------------------

using user_actor = caf::typed_actor<
  caf::replies_to<atom::generate, generation_request>::with<generation_result>,
  caf::reacts_to<atom::pressure, memory_status>>;

struct user_state {
  repository_actor repo;
  // Busy time comes through it, and a saved generation invalidates the
  // user's cached suggestions in it (may be invalid: no cache).
  cache_actor cache;
  generation_config cfg;
  generation_request req;
  clock_type::time_point started;
  user_context ctx;
  std::vector<time_slot> slots;
  // The pressure level now and the highest seen during this generation.
  pressure_level level = pressure_level::normal;
  pressure_level worst = pressure_level::normal;
  // K now (shrinks when pressure rises) and K at normal pressure.
  std::size_t k = 0;
  std::size_t k_full = 0;
  top_k best{0};
  generation_result result;
  caf::typed_response_promise<generation_result> rp;
  static inline const char* name = "user-generation";

  const pressure_policy& policy() const {
    return cfg.policy.at(level);
  }
};

using user_pointer = user_actor::stateful_pointer<user_state>;

void fail(user_pointer self, caf::error err) {
  self->state.rp.deliver(std::move(err));
  self->quit();
}

void finish(user_pointer self) {
  auto& st = self->state;
  auto chosen = st.best.take_sorted();
  // Pressure may have cut K after these were kept: the first K of a rank-
  // ordered stream are still the exact top K.
  if (chosen.size() > st.k)
    chosen.resize(st.k);
  // K never exceeds the free slots (plan), so rank i gets slot i.
  CATCHUP_ASSERT(chosen.size() <= st.slots.size(),
                 "every suggestion has a slot of its own");
  // Partial when the reduced K was reached: a full run might have made
  // more. A stream that ended below K lost nothing.
  if (st.k < st.k_full && chosen.size() >= st.k) {
    st.result.partial = true;
    st.result.warnings.push_back(
      "memory pressure " + std::string{to_string(st.worst)}
      + ": suggestion cap " + std::to_string(st.k) + " instead of "
      + std::to_string(st.k_full));
  }
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    suggestion_record rec;
    rec.id = random_uuid();
    rec.contact_id = chosen[i].contact_id;
    rec.contact_name = chosen[i].name;
    rec.rank = static_cast<std::int32_t>(i + 1);
    rec.priority = chosen[i].priority;
    // The most overdue contact gets the earliest slot.
    rec.slot_start_unix_s = st.slots[i].start;
    rec.slot_end_unix_s = st.slots[i].end;
    rec.slot_timezone = st.ctx.timezone;
    rec.reason = reason_text(chosen[i]);
    rec.status = "pending";
    st.result.items.push_back(std::move(rec));
  }
  CATCHUP_ASSERT(st.result.items.empty()
                   || st.result.items.back().rank
                        == static_cast<std::int32_t>(st.result.items.size()),
                 "a generation ranks its suggestions 1..K");
  st.result.suggestions = static_cast<std::int64_t>(st.result.items.size());
  generation_output out{st.result, st.req.now_unix_s};
  out.result.wall_ms = std::chrono::duration<double, std::milli>(
                         clock_type::now() - st.started)
                         .count();
  // No timer per request (see repository.hpp): the coordinator's watchdog
  // bounds the whole generation.
  self->request(st.repo, caf::infinite, atom::save::value, out)
    .then(
      [=](const std::string& generation_id) {
        auto& st = self->state;
        // Before the result leaves: whoever reads after it sees the new
        // suggestions, not cached old ones.
        if (st.cache)
          self->send(st.cache, atom::invalidate::value,
                     static_cast<std::uint8_t>(cache_suggestions),
                     st.req.user_id);
        st.result.generation_id = generation_id;
        st.result.wall_ms = std::chrono::duration<double, std::milli>(
                              clock_type::now() - st.started)
                              .count();
        st.rp.deliver(st.result);
        self->quit();
      },
      [=](caf::error& err) { fail(self, std::move(err)); });
}

void pull(user_pointer self, stream_cursor cursor) {
  auto& st = self->state;
  // The batch follows the level at the moment of the pull.
  auto want = std::min(st.policy().batch_rows_max, st.k - st.best.size());
  // Pulled only while fewer than K are kept, at a level that has a batch.
  CATCHUP_ASSERT(want >= 1, "a pull asks for at least one row");
  self->request(st.repo, caf::infinite, atom::next::value,
                std::move(cursor), static_cast<std::uint64_t>(want))
    .then(
      [=](contact_batch& batch) {
        auto& st = self->state;
        ++st.result.batches;
        st.result.contacts_read += batch.rows_read;
        for (auto& row : batch.rows)
          st.best.offer(storage::to_candidate(
            row, st.req.now_unix_s, st.ctx.default_cadence_days));
        // The priority stream is in rank order: once K are kept, no later
        // row can displace one, so reading stops exactly here.
        if (st.best.size() >= st.k || batch.next.done)
          finish(self);
        else
          pull(self, std::move(batch.next));
      },
      [=](caf::error& err) { fail(self, std::move(err)); });
}

// Applies a pressure level: a higher one cuts K at once (never below what
// the generation needs to stay exact for the smaller K).
void apply_level(user_pointer self, pressure_level level) {
  auto& st = self->state;
  st.level = level;
  st.worst = std::max(st.worst, level);
  if (st.k_full > 0)
    st.k = std::min(st.k, std::min(st.policy().suggestions_max, st.k_full));
}

// The days searched for slots: the user's horizon, else the engine's.
std::int64_t window_days(const user_state& st) {
  return st.ctx.slot_horizon_days > 0 ? st.ctx.slot_horizon_days
                                      : st.cfg.window_days;
}

// Computes free slots and K, then pulls the priority stream (or finishes
// at once when there is no slot).
void plan(user_pointer self) {
  auto& st = self->state;
  std::vector<availability_window> windows;
  for (auto& w : st.ctx.availability)
    windows.push_back({w.weekday, w.start_minute, w.end_minute});
  if (windows.empty())
    windows = default_availability();
  std::vector<busy_interval> busy;
  for (auto& b : st.ctx.busy)
    busy.push_back({b.start_unix_s, b.end_unix_s});
  slot_rules rules;
  rules.window_days = window_days(st);
  // The user's slot policy where they set one, else the engine's.
  if (st.ctx.slot_minutes > 0)
    rules.slot_minutes = st.ctx.slot_minutes;
  if (st.ctx.slots_per_day > 0)
    rules.slots_per_day_max = st.ctx.slots_per_day;
  try {
    st.slots = free_slots(tz_database_zone::locate(st.ctx.timezone), windows,
                          std::move(busy), st.req.now_unix_s, rules);
  } catch (const std::exception& e) {
    return fail(self, caf::make_error(ec::invalid_input,
                                      "user " + st.req.user_id
                                        + ": " + e.what()));
  }
  st.result.free_slots = static_cast<std::int64_t>(st.slots.size());
  st.k_full = std::min(st.cfg.policy.at(pressure_level::normal).suggestions_max,
                       st.slots.size());
  if (st.ctx.suggestions_per_run > 0)
    st.k_full = std::min<std::size_t>(
      st.k_full, static_cast<std::size_t>(st.ctx.suggestions_per_run));
  st.k = std::min(st.policy().suggestions_max, st.k_full);
  st.best = top_k{st.k};
  if (st.k == 0) {
    st.result.warnings.push_back("no free slot in the next "
                                 + std::to_string(window_days(st))
                                 + " days");
    return finish(self);
  }
  pull(self, storage::session::open_priority(
               st.req.user_id, st.req.now_unix_s,
               st.ctx.default_cadence_days, st.ctx.dismiss_cooldown_days));
}

user_actor::behavior_type user(user_pointer self, repository_actor repo,
                               cache_actor cache, generation_config cfg,
                               pressure_level level) {
  self->state.repo = std::move(repo);
  self->state.cache = std::move(cache);
  self->state.cfg = cfg;
  self->state.level = level;
  self->state.worst = level;
  return {
    [=](atom::pressure, const memory_status& x) { apply_level(self, x.level); },
    [=](atom::generate, const generation_request& req) {
      auto& st = self->state;
      st.req = req;
      st.started = clock_type::now();
      st.result.user_id = req.user_id;
      st.rp = self->make_response_promise<generation_result>();
      self->request(st.repo, caf::infinite, atom::context::value,
                    req.user_id, req.now_unix_s, st.cfg.window_days,
                    !st.cache)
        .then(
          [=](user_context& ctx) {
            auto& st = self->state;
            if (!ctx.exists)
              return fail(self, caf::make_error(ec::not_found,
                                                "no user " + st.req.user_id));
            st.ctx = std::move(ctx);
            if (st.ctx.paused) {
              // A paused user keeps what they have; nothing is written.
              st.result.paused = true;
              st.result.warnings.push_back("user is paused");
              st.rp.deliver(st.result);
              return self->quit();
            }
            if (!st.cache)
              return plan(self);
            // Busy time through the calendar cache, for whole UTC days
            // around the window, so generations on the same day share it.
            // Floor division: `now` may be before 1970.
            auto day = st.req.now_unix_s / 86400
                       - (st.req.now_unix_s % 86400 < 0 ? 1 : 0);
            auto from = day * 86400;
            auto to = from + (window_days(st) + 1) * 86400;
            self->request(st.cache, caf::infinite, atom::busy::value,
                          st.req.user_id, from, to)
              .then(
                [=](std::vector<busy_record>& busy) {
                  self->state.ctx.busy = std::move(busy);
                  plan(self);
                },
                [=](caf::error& err) { fail(self, std::move(err)); });
          },
          [=](caf::error& err) { fail(self, std::move(err)); });
      return st.rp;
    },
  };
}

// -- coordinator -----------------------------------------------------------------

// One multi-user run: at most the level's share of `concurrent_users_max`
// user actors at once.
struct run_state {
  std::deque<std::string> pending;
  std::size_t total = 0;
  std::size_t done = 0;
  std::size_t running = 0;
  // Results sent to the listener and not yet handled by it.
  std::size_t unacked = 0;
  run_summary summary;
  clock_type::time_point started = clock_type::now();
  std::int64_t now = 0;
  caf::actor listener;
  caf::typed_response_promise<run_summary> rp;
  // Set while the breaker holds this run's pending users.
  std::optional<clock_type::time_point> held_since;
};

// One running user generation: for a run (`run` set) or a single request.
struct running_user {
  caf::actor handle;
  clock_type::time_point since;
  std::string user_id;
  std::shared_ptr<run_state> run;
  caf::typed_response_promise<generation_result> rp;
  bool overdue = false;
};

struct coordinator_state {
  repository_actor repo;
  cache_actor cache;
  memory_supervisor_actor supervisor;
  generation_config cfg;
  std::shared_ptr<metrics_registry> registry;
  generation_metrics metrics{nullptr};
  memory_status memory;
  // Running user generations, told about every pressure change, stopped by
  // the watchdog after `user_timeout`, and monitored: CAF 0.17 sends no
  // error for a promise that dies with its actor, so a user actor's end
  // (stopped, crashed) is noticed here, not through its reply.
  std::map<caf::actor_addr, running_user> workers;
  bool watchdog_armed = false;
  // Runs with users still to start.
  std::vector<std::shared_ptr<run_state>> runs;
  // The breaker's retry timer and its next wait.
  bool retry_armed = false;
  std::chrono::milliseconds backoff{0};
  static inline const char* name = "generation-coordinator";

  bool breaker_open() const {
    return memory.level == pressure_level::critical;
  }

  // User generations a run may have in flight at the current level.
  std::size_t running_max() const {
    const auto& p = cfg.policy.at(memory.level);
    if (p.concurrency_percent <= 0)
      return 0;
    auto n = cfg.concurrent_users_max
             * static_cast<std::size_t>(p.concurrency_percent) / 100;
    return std::max<std::size_t>(1, n);
  }
};

using coordinator_pointer = coordinator_actor::stateful_pointer<
  coordinator_state>;

template <class T>
void count(T* metric) {
  if (metric)
    metric->add();
}

std::string overdue_text(const generation_config& cfg) {
  return "generation did not finish within "
         + std::to_string(cfg.user_timeout.count()) + " ms and was stopped";
}

// One timer for all running generations, instead of one per request: a CAF
// 0.17 request timer lives until it expires, even after the reply.
void arm_watchdog(coordinator_pointer self) {
  auto& st = self->state;
  if (st.watchdog_armed || st.workers.empty())
    return;
  st.watchdog_armed = true;
  self->delayed_send(self,
                     std::min(st.cfg.user_timeout,
                              std::chrono::milliseconds{1000}),
                     atom::tick::value);
}

// Stops generations running longer than `user_timeout`; their end arrives
// as a down message and the user gets the overdue text.
void watchdog(coordinator_pointer self) {
  auto& st = self->state;
  st.watchdog_armed = false;
  auto now = clock_type::now();
  for (auto& [addr, w] : st.workers)
    if (!w.overdue && now - w.since > st.cfg.user_timeout) {
      w.overdue = true;
      self->send_exit(w.handle, caf::exit_reason::user_shutdown);
    }
  arm_watchdog(self);
}

void user_done(coordinator_pointer self, std::shared_ptr<run_state> run,
               generation_result r, bool started);

// Removes a finished generation and counts it; false if it was already
// handled (its reply and its down message both arrive).
bool take_user(coordinator_pointer self, const caf::actor_addr& addr,
               running_user& out) {
  auto& st = self->state;
  auto i = st.workers.find(addr);
  if (i == st.workers.end())
    return false;
  out = std::move(i->second);
  st.workers.erase(i);
  if (st.metrics.running)
    st.metrics.running->set(static_cast<double>(st.workers.size()));
  return true;
}

void user_succeeded(coordinator_pointer self, const caf::actor_addr& addr,
                    generation_result r) {
  auto& st = self->state;
  running_user w;
  if (!take_user(self, addr, w))
    return;
  self->demonitor(w.handle);
  count(st.metrics.generations);
  if (r.partial)
    count(st.metrics.partial);
  if (st.metrics.contacts_processed)
    st.metrics.contacts_processed->add(r.contacts_read);
  if (st.metrics.duration_seconds)
    st.metrics.duration_seconds->observe(r.wall_ms / 1000.0);
  if (st.metrics.heap_bytes)
    st.metrics.heap_bytes->observe(
      static_cast<double>(st.memory.allocated_bytes));
  if (w.run)
    user_done(self, w.run, std::move(r), true);
  else
    w.rp.deliver(std::move(r));
}

void user_failed(coordinator_pointer self, const caf::actor_addr& addr,
                 caf::error err) {
  auto& st = self->state;
  running_user w;
  if (!take_user(self, addr, w))
    return;
  self->demonitor(w.handle);
  count(st.metrics.failed);
  // The generation may have saved before it failed (e.g. stopped by the
  // watchdog right after its commit): its suggestions may have changed.
  if (st.cache)
    self->send(st.cache, atom::invalidate::value,
               static_cast<std::uint8_t>(cache_suggestions), w.user_id);
  if (w.overdue)
    err = caf::make_error(ec::timeout, overdue_text(st.cfg));
  if (!w.run) {
    w.rp.deliver(std::move(err));
    return;
  }
  generation_result failed;
  failed.user_id = w.user_id;
  failed.warnings.push_back("failed: " + self->system().render(err));
  user_done(self, w.run, std::move(failed), true);
}

// Starts one user generation at the current level; its reply or its end
// goes to `run` (null: to `rp`).
void start_user(coordinator_pointer self, const std::string& user_id,
                std::int64_t now, std::shared_ptr<run_state> run,
                caf::typed_response_promise<generation_result> rp) {
  auto& st = self->state;
  auto worker = self->spawn<caf::monitored>(user, st.repo, st.cache, st.cfg,
                                            st.memory.level);
  auto addr = worker.address();
  st.workers.emplace(addr, running_user{caf::actor_cast<caf::actor>(worker),
                                        clock_type::now(), user_id,
                                        std::move(run), std::move(rp), false});
  if (st.metrics.running)
    st.metrics.running->set(static_cast<double>(st.workers.size()));
  arm_watchdog(self);
  self->request(worker, caf::infinite, atom::generate::value,
                generation_request{user_id, now})
    .then(
      [=](generation_result& r) { user_succeeded(self, addr, std::move(r)); },
      [=](caf::error& err) { user_failed(self, addr, std::move(err)); });
}

caf::error refusal(const memory_status& x) {
  return caf::make_error(ec::memory_critical,
                         describe(x) + "; new work refused, retry later");
}

// Results a run's listener may have waiting before the run starts no new
// user generations.
constexpr std::size_t results_unacked_max = 64;

void launch(coordinator_pointer self, std::shared_ptr<run_state> run);
void advance(coordinator_pointer self, std::shared_ptr<run_state> run);

// Records one user's result (a failure is a result with a warning), reports
// progress and starts the next user or delivers the run.
void user_done(coordinator_pointer self, std::shared_ptr<run_state> run,
               generation_result r, bool started) {
  if (started)
    --run->running;
  auto& sum = run->summary;
  ++run->done;
  ++sum.users;
  sum.contacts_read += r.contacts_read;
  sum.suggestions += r.suggestions;
  sum.partial += r.partial ? 1 : 0;
  sum.paused += r.paused ? 1 : 0;
  sum.failed += r.generation_id.empty() && !r.paused ? 1 : 0;
  if (run->listener) {
    // The items stay out: the suggestions are in the database. Each report
    // is a request the listener acknowledges by handling it, so a slow
    // callback holds back new generations instead of letting reports pile
    // up in its mailbox.
    r.items.clear();
    ++run->unacked;
    auto acked = [=] {
      --run->unacked;
      advance(self, run);
    };
    self
      ->request(run->listener, caf::infinite, atom::progress::value,
                std::move(r), static_cast<std::uint64_t>(run->done),
                static_cast<std::uint64_t>(run->total))
      .then([=]() { acked(); }, [=](caf::error&) { acked(); });
  }
  advance(self, run);
}

// Delivers the run when every user is done and reported, else starts more.
void advance(coordinator_pointer self, std::shared_ptr<run_state> run) {
  auto& sum = run->summary;
  if (run->done == run->total && run->unacked == 0) {
    auto& runs = self->state.runs;
    runs.erase(std::remove(runs.begin(), runs.end(), run), runs.end());
    sum.wall_ms = std::chrono::duration<double, std::milli>(
                    clock_type::now() - run->started)
                    .count();
    run->rp.deliver(sum);
  } else {
    launch(self, run);
  }
}

void arm_retry(coordinator_pointer self) {
  auto& st = self->state;
  if (st.retry_armed)
    return;
  st.retry_armed = true;
  if (st.backoff.count() == 0)
    st.backoff = st.cfg.breaker_backoff_min;
  self->delayed_send(self, st.backoff, atom::retry::value);
  st.backoff = std::min(st.backoff * 2, st.cfg.breaker_backoff_max);
}

// Fails the pending users of a run held by the breaker for too long.
void give_up(coordinator_pointer self, std::shared_ptr<run_state> run) {
  auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
    clock_type::now() - *run->held_since);
  auto why = "failed (memory_critical): " + describe(self->state.memory)
             + "; held by the circuit breaker for "
             + std::to_string(waited.count()) + " ms, past its "
             + std::to_string(self->state.cfg.breaker_wait_max.count())
             + " ms limit";
  // Taken out first, so user_done finds nothing left to launch.
  auto given_up = std::move(run->pending);
  run->pending.clear();
  for (auto& user_id : given_up) {
    generation_result failed;
    failed.user_id = std::move(user_id);
    failed.warnings.push_back(why);
    count(self->state.metrics.failed);
    user_done(self, run, std::move(failed), false);
  }
}

void launch(coordinator_pointer self, std::shared_ptr<run_state> run) {
  auto& st = self->state;
  auto& cfg = st.cfg;
  if (run->pending.empty())
    return;
  if (st.breaker_open()) {
    if (!run->held_since) {
      run->held_since = clock_type::now();
      ++run->summary.breaker_holds;
      count(st.metrics.breaker_trips);
      spdlog::warn("generation: {}; {} user(s) held until it falls",
                   describe(st.memory), run->pending.size());
    } else if (clock_type::now() - *run->held_since > cfg.breaker_wait_max) {
      return give_up(self, run);
    }
    return arm_retry(self);
  }
  run->held_since.reset();
  auto limit = st.running_max();
  while (run->running < limit && !run->pending.empty()
         && run->unacked < results_unacked_max) {
    auto user_id = std::move(run->pending.front());
    run->pending.pop_front();
    ++run->running;
    start_user(self, user_id, run->now, run, {});
  }
}

// Takes a new memory status: tells running generations, and starts held or
// queued users when the level allows more.
void apply_memory(coordinator_pointer self, const memory_status& x) {
  auto& st = self->state;
  if (x.change_seq < st.memory.change_seq)
    return; // an older status overtaken by a newer one
  st.memory = x;
  for (auto& w : st.workers)
    caf::anon_send<caf::message_priority::high>(w.second.handle,
                                                atom::pressure::value, x);
  if (!st.breaker_open())
    st.backoff = std::chrono::milliseconds{0};
  auto runs = st.runs; // launch may finish and remove runs
  for (auto& run : runs)
    launch(self, run);
}

std::shared_ptr<run_state> start_run(coordinator_pointer self,
                                     std::int64_t now, caf::actor listener) {
  auto run = std::make_shared<run_state>();
  run->now = now;
  run->listener = std::move(listener);
  run->rp = self->make_response_promise<run_summary>();
  return run;
}

void begin_run(coordinator_pointer self, std::shared_ptr<run_state> run,
               std::vector<std::string> users) {
  run->total = users.size();
  run->pending.assign(std::make_move_iterator(users.begin()),
                      std::make_move_iterator(users.end()));
  if (run->total == 0) {
    run->rp.deliver(run_summary{});
    return;
  }
  self->state.runs.push_back(run);
  launch(self, run);
}

coordinator_actor::behavior_type
coordinator(coordinator_pointer self, repository_actor repo,
            generation_config cfg, memory_supervisor_actor supervisor,
            std::shared_ptr<metrics_registry> registry, cache_actor cache) {
  auto& st = self->state;
  st.repo = std::move(repo);
  st.cache = std::move(cache);
  st.cfg = cfg;
  st.supervisor = std::move(supervisor);
  st.registry = std::move(registry);
  st.metrics = generation_metrics{st.registry.get()};
  self->set_down_handler([=](caf::down_msg& dm) {
    user_failed(self, dm.source,
                dm.reason ? dm.reason
                          : caf::make_error(ec::db_unavailable,
                                            "generation ended without a "
                                            "result"));
  });
  // The coordinator's end (engine shutdown) ends its generations, which
  // would otherwise wait for replies that never come and keep the actor
  // system from shutting down.
  self->set_exit_handler([=](caf::exit_msg& em) {
    for (auto& w : self->state.workers)
      self->send_exit(w.second.handle, em.reason);
    self->quit(em.reason);
  });
  return {
    [=](atom::generate, const generation_request& req)
      -> caf::typed_response_promise<generation_result> {
      auto rp = self->make_response_promise<generation_result>();
      auto& st = self->state;
      if (!is_uuid_text(req.user_id)) {
        rp.deliver(caf::make_error(ec::invalid_input,
                                   "user id '" + req.user_id
                                     + "' is not a UUID"));
        return rp;
      }
      if (st.breaker_open()) {
        // A single request is refused, not held: its caller decides.
        count(st.metrics.breaker_trips);
        rp.deliver(refusal(st.memory));
        return rp;
      }
      start_user(self, req.user_id, req.now_unix_s, nullptr, rp);
      return rp;
    },
    [=](atom::generate, std::int64_t now, caf::actor listener)
      -> caf::typed_response_promise<run_summary> {
      auto run = start_run(self, now, std::move(listener));
      self->request(self->state.repo, self->state.cfg.user_timeout,
                    atom::users::value, true)
        .then(
          [=](std::vector<std::string>& users) {
            begin_run(self, run, std::move(users));
          },
          [=](caf::error& err) { run->rp.deliver(std::move(err)); });
      return run->rp;
    },
    [=](atom::generate, std::vector<std::string>& users, std::int64_t now,
        caf::actor listener)
      -> caf::typed_response_promise<run_summary> {
      auto run = start_run(self, now, std::move(listener));
      begin_run(self, run, std::move(users));
      return run->rp;
    },
    [=](atom::pressure, const memory_status& x) { apply_memory(self, x); },
    [=](atom::tick) { watchdog(self); },
    [=](atom::retry) {
      auto& st = self->state;
      st.retry_armed = false;
      if (!st.supervisor) {
        apply_memory(self, st.memory);
        return;
      }
      // A fresh sample decides; the reply (or its change broadcast) starts
      // the held users or arms the next, longer wait.
      self->request(st.supervisor, st.cfg.user_timeout, atom::sample::value)
        .then([=](const memory_status& x) { apply_memory(self, x); },
              [=](const caf::error&) { apply_memory(self, self->state.memory); });
    },
  };
}

} // namespace

coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    repository_actor repo,
                                    const generation_config& cfg,
                                    memory_supervisor_actor supervisor,
                                    std::shared_ptr<metrics_registry> metrics,
                                    cache_actor cache) {
  return sys.spawn(coordinator, std::move(repo), cfg, std::move(supervisor),
                   std::move(metrics), std::move(cache));
}

} // namespace catchup
