// SPDX-License-Identifier: Apache-2.0
#include "actors/dispatcher.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/assert.hpp"
#include "core/pressure.hpp"
#include "messages/atoms.hpp"

namespace catchup {

namespace {

using std::chrono::milliseconds;

/// How long the listener waits for a notification before it looks at its
/// mailbox again (so it exits promptly with its dispatcher).
constexpr std::int64_t listen_wait_ms = 250;

struct dispatcher_state {
  std::string url;
  worker_options options;
  job_executor execute;
  memory_supervisor_actor supervisor;
  std::shared_ptr<worker_figures> figures;
  /// Jobs are due and finished by it (leases are on the database's clock).
  wall_clock clock;
  std::unique_ptr<storage::job_queue> queue;
  /// A job this node runs.
  struct running_job {
    storage::job_record job;
    /// When it first failed for the database's sake, if it did.
    std::optional<std::chrono::steady_clock::time_point> transient_since;
    int transient_runs = 0;
    /// Stopped by an outage and waiting for its retry (no actor runs it).
    bool waiting_retry = false;
  };
  std::map<std::int64_t, running_job> in_flight;
  pressure_level level = pressure_level::normal;
  /// The lowest level among the cluster's live peers; empty without any.
  std::optional<pressure_level> lowest_peer_level;
  /// The last lease renewal failed (the database is out of reach): claim
  /// nothing until one succeeds, since peers may be rescuing our jobs.
  bool renewal_failing = false;
  std::chrono::steady_clock::time_point last_renewal_try{};
  bool draining = false;
  caf::response_promise stopped;
  bool stop_pending = false;
  std::chrono::steady_clock::time_point next_schedule_check{};
  /// The NOTIFY listener: a normal exit does not travel over links, so
  /// the dispatcher stops it explicitly.
  caf::actor listener;

  std::size_t capacity() const {
    if (renewal_failing)
      return 0;
    return claim_capacity(level, lowest_peer_level, options.jobs_max,
                          options.policy);
  }

  void publish() {
    figures->in_flight = in_flight.size();
    figures->draining = draining;
  }
};

caf::behavior job_actor(caf::event_based_actor* self, caf::actor dispatcher,
                        storage::job_record job, job_executor execute) {
  job_result result;
  try {
    result = execute(job);
  } catch (const std::exception& e) {
    result.error = e.what();
    if (result.error.empty())
      result.error = "job failed without a message";
    result.transient = false;
  }
  self->send(dispatcher, atom::done::value, job.id, result.error,
             result.transient);
  self->quit();
  return {};
}

caf::behavior listener_actor(caf::event_based_actor* self,
                             caf::actor dispatcher, std::string url,
                             wall_clock clock) {
  auto queue = std::make_shared<std::unique_ptr<storage::job_queue>>();
  try {
    *queue = std::make_unique<storage::job_queue>(url, std::move(clock));
    (*queue)->listen();
  } catch (const std::exception& e) {
    // Polling still finds the jobs; only the wake-up latency suffers.
    spdlog::warn("job listener: cannot LISTEN ({}); polling only", e.what());
    self->quit();
    return {};
  }
  self->send(self, atom::tick::value);
  return {
    [=](atom::tick) {
      try {
        if ((*queue)->wait_for_notification(listen_wait_ms))
          self->send(dispatcher, atom::wake::value);
      } catch (const std::exception& e) {
        spdlog::warn("job listener: {}; polling only", e.what());
        self->quit();
        return;
      }
      self->send(self, atom::tick::value);
    },
  };
}

void finish_stop(caf::event_based_actor* self, dispatcher_state& st) {
  if (!st.stop_pending)
    return;
  std::vector<std::int64_t> ids;
  for (auto& [id, what] : st.in_flight)
    ids.push_back(id);
  if (!ids.empty()) {
    if (st.options.on_release)
      st.options.on_release();
    try {
      auto n = st.queue->release(st.options.owner, ids, st.options.lease_ms);
      st.figures->released += n;
      spdlog::info("worker: handed {} unfinished jobs back to the queue", n);
    } catch (const std::exception& e) {
      // Their leases expire and another node rescues them.
      spdlog::error("worker: cannot hand jobs back ({}); their leases "
                    "expire in {} ms",
                    e.what(), st.options.lease_ms);
    }
  }
  st.in_flight.clear();
  st.publish();
  st.stop_pending = false;
  st.stopped.deliver(true);
  if (st.listener)
    self->send_exit(st.listener, caf::exit_reason::user_shutdown);
  self->quit();
}

void claim(caf::event_based_actor* self, dispatcher_state& st) {
  if (st.draining)
    return;
  auto capacity = st.capacity();
  if (st.in_flight.size() >= capacity)
    return;
  std::vector<storage::job_record> jobs;
  try {
    auto now = std::chrono::steady_clock::now();
    if (st.options.generate_interval_ms > 0 && now >= st.next_schedule_check) {
      st.next_schedule_check = now + milliseconds(st.options.schedule_check_ms);
      if (auto n = st.queue->schedule_generation(
            "generate", st.options.generate_interval_ms);
          n > 0)
        spdlog::info("scheduler: enqueued generation for {} users over the "
                     "next {} ms",
                     n, st.options.generate_interval_ms);
    }
    jobs = st.queue->claim(st.options.owner, capacity - st.in_flight.size(),
                           st.options.lease_ms);
  } catch (const std::exception& e) {
    spdlog::error("worker: cannot claim jobs: {}", e.what());
    return;
  }
  for (auto& job : jobs) {
    st.figures->claimed += 1;
    st.in_flight.emplace(job.id, dispatcher_state::running_job{job, {}, 0});
    spdlog::debug("worker: job {} ({} for user {}), attempt {} of {}", job.id,
                  job.kind, job.user_id, job.attempts, job.max_attempts);
    self->spawn<caf::detached>(job_actor, caf::actor_cast<caf::actor>(self),
                               job, st.execute);
  }
  CATCHUP_ASSERT(st.in_flight.size() <= capacity,
                 "a node runs no more jobs than it claimed room for");
  st.publish();
}

// A job failed because the database was out of reach: run it again here
// after a backoff, keeping its lease and its attempt, until
// transient_retry_max_ms passed since the first such failure. Returns false
// when that time is up (the failure then counts).
bool retry_transient(caf::event_based_actor* self, dispatcher_state& st,
                     dispatcher_state::running_job& run,
                     const std::string& error) {
  auto now = std::chrono::steady_clock::now();
  if (!run.transient_since)
    run.transient_since = now;
  auto waited = std::chrono::duration_cast<milliseconds>(
                  now - *run.transient_since)
                  .count();
  std::int64_t wait_ms = std::max<std::int64_t>(1, st.options.retry.backoff_initial_ms);
  for (int i = 0; i < run.transient_runs && wait_ms < st.options.retry.backoff_max_ms; ++i)
    wait_ms *= 2;
  wait_ms = std::min(wait_ms, st.options.retry.backoff_max_ms);
  if (waited + wait_ms > st.options.transient_retry_max_ms)
    return false;
  run.transient_runs += 1;
  run.waiting_retry = true;
  spdlog::warn("worker: job {} stopped because the database is out of reach "
               "({}); running it again in {} ms without using an attempt",
               run.job.id, error, wait_ms);
  self->delayed_send(self, milliseconds(wait_ms), atom::retry::value,
                     run.job.id);
  return true;
}

// Renews the leases of the jobs in flight. A job waiting to run again
// after an outage whose lease another node took over meanwhile is dropped,
// so its slot takes new work. While renewals fail, nothing is claimed.
void renew_leases(caf::event_based_actor* self, dispatcher_state& st) {
  st.last_renewal_try = std::chrono::steady_clock::now();
  if (!st.in_flight.empty()) {
    std::vector<std::int64_t> ids;
    for (auto& [id, what] : st.in_flight)
      ids.push_back(id);
    try {
      auto held = st.queue->renew(st.options.owner, ids,
                                   st.options.lease_ms);
      if (held.size() < ids.size())
        spdlog::warn("worker: {} of {} leases were taken over by "
                     "another node",
                     ids.size() - held.size(), ids.size());
      // A job waiting to run again after an outage whose lease another
      // node took over (it declared this one down meanwhile) is theirs
      // now: drop it, so its slot takes new work instead of a retry
      // nobody would record.
      bool dropped = false;
      for (auto id : ids) {
        auto it = st.in_flight.find(id);
        if (it == st.in_flight.end() || !it->second.waiting_retry
            || std::find(held.begin(), held.end(), id) != held.end())
          continue;
        spdlog::warn("worker: job {} waited to run again after an outage, "
                     "but another node took it over; dropped here",
                     id);
        st.in_flight.erase(it);
        st.figures->leases_lost += 1;
        dropped = true;
      }
      if (dropped) {
        st.publish();
        if (st.draining && st.in_flight.empty())
          finish_stop(self, st);
      }
      if (st.renewal_failing)
        spdlog::info("worker: leases renewed again; claiming resumes");
      st.renewal_failing = false;
    } catch (const std::exception& e) {
      if (!st.renewal_failing)
        spdlog::error("worker: cannot renew leases ({}); claiming "
                      "nothing until a renewal succeeds",
                      e.what());
      st.renewal_failing = true;
    }
  } else {
    // Nothing to renew: a claim is the next contact with the queue.
    st.renewal_failing = false;
  }
}

// Records the end of a job that ran here - done, failed, or to run again
// after a database outage - then claims more work, or ends a stop.
void job_ended(caf::event_based_actor* self, dispatcher_state& st,
               std::int64_t id, const std::string& error, bool transient) {
  auto it = st.in_flight.find(id);
  if (it == st.in_flight.end())
    return; // handed back already (graceful stop)
  if (transient && !st.draining && retry_transient(self, st, it->second, error))
    return;
  st.in_flight.erase(it);
  try {
    if (error.empty()) {
      if (st.queue->complete(id, st.options.owner)) {
        st.figures->completed += 1;
      } else {
        st.figures->leases_lost += 1;
        spdlog::warn("worker: job {} finished after its lease was taken "
                     "over; its result stands, the queue's record is "
                     "the other node's",
                     id);
      }
    } else {
      auto state = st.queue->fail(id, st.options.owner, error,
                                  st.options.retry);
      if (state.empty()) {
        st.figures->leases_lost += 1;
      } else {
        st.figures->failed += 1;
        spdlog::warn("worker: job {} failed ({}): {}", id, state, error);
      }
    }
  } catch (const std::exception& e) {
    // The lease expires and another node (or this one) reruns the
    // job; results are idempotent.
    spdlog::error("worker: cannot record the end of job {} ({}): {}",
                  id, error.empty() ? "done" : "failed: " + error,
                  e.what());
  }
  st.publish();
  if (st.draining && st.in_flight.empty())
    finish_stop(self, st);
  else
    claim(self, st);
}

// The cluster's view of its peers: the lowest level among them, or -1
// without live peers. Claims at once when that leaves more room here.
void peers_changed(caf::event_based_actor* self, dispatcher_state& st,
                   std::int32_t lowest_peer_level) {
  auto before = st.capacity();
  if (lowest_peer_level < 0)
    st.lowest_peer_level.reset();
  else
    st.lowest_peer_level = static_cast<pressure_level>(
      std::min<std::int32_t>(lowest_peer_level, 3));
  if (st.capacity() != before)
    spdlog::info("worker: {} jobs at once now (own level {}, lowest "
                 "peer {})",
                 st.capacity(), to_string(st.level),
                 st.lowest_peer_level
                   ? std::string{to_string(*st.lowest_peer_level)}
                   : std::string{"none"});
  if (st.capacity() > before)
    claim(self, st);
}

// Opens the job queue, spawns the NOTIFY listener, subscribes to memory
// pressure and starts the poll and the heartbeat. False, the actor having
// quit, without a queue.
bool start(caf::event_based_actor* self, dispatcher_state& st) {
  try {
    st.queue = std::make_unique<storage::job_queue>(
      st.url, st.clock, st.options.statement_timeout_ms);
  } catch (const std::exception& e) {
    spdlog::error("worker: cannot open the job queue: {}", e.what());
    self->quit(caf::make_error(caf::sec::runtime_error, e.what()));
    return false;
  }
  st.listener = self->spawn<caf::detached + caf::linked>(
    listener_actor, caf::actor_cast<caf::actor>(self), st.url, st.clock);
  if (st.supervisor)
    self
      ->request(st.supervisor, caf::infinite, atom::subscribe::value,
                caf::actor_cast<caf::actor>(self))
      .then([](std::uint64_t) {}, [](const caf::error&) {});
  self->send(self, atom::tick::value);
  self->delayed_send(self, milliseconds(st.options.lease_ms / 3),
                     atom::heartbeat::value);
  return true;
}

caf::behavior dispatcher_actor(caf::event_based_actor* self,
                               std::shared_ptr<dispatcher_state> st) {
  if (!start(self, *st))
    return {};
  return {
    // The poll: claims, then comes back after poll_interval_ms.
    [=](atom::tick) {
      // While renewals fail, try again at every poll (once a second at
      // most), not only at the next heartbeat: once the database is back,
      // jobs other nodes took over are dropped and claiming resumes at once.
      if (st->renewal_failing
          && std::chrono::steady_clock::now() - st->last_renewal_try
               >= std::chrono::seconds(1))
        renew_leases(self, *st);
      claim(self, *st);
      if (!st->draining)
        self->delayed_send(self, milliseconds(st->options.poll_interval_ms),
                           atom::tick::value);
    },
    // A NOTIFY or a finished job: claim now, without a timer of its own.
    [=](atom::wake) {
      st->figures->wakeups += 1;
      claim(self, *st);
    },
    [=](atom::done, std::int64_t id, const std::string& error,
        bool transient) { job_ended(self, *st, id, error, transient); },
    // A job's run again after a database outage, if it is still ours.
    [=](atom::retry, std::int64_t id) {
      auto it = st->in_flight.find(id);
      if (it == st->in_flight.end() || st->draining)
        return;
      it->second.waiting_retry = false;
      st->figures->transient_retries += 1;
      self->spawn<caf::detached>(job_actor, caf::actor_cast<caf::actor>(self),
                                 it->second.job, st->execute);
    },
    [=](atom::heartbeat) {
      renew_leases(self, *st);
      self->delayed_send(self, milliseconds(st->options.lease_ms / 3),
                         atom::heartbeat::value);
    },
    [=](atom::pressure, const memory_status& status) {
      st->level = status.level;
    },
    [=](atom::peers, std::int32_t lowest_peer_level) {
      peers_changed(self, *st, lowest_peer_level);
    },
    [=](atom::stop, std::int64_t grace_ms) -> caf::result<bool> {
      st->draining = true;
      st->publish();
      st->stopped = self->make_response_promise();
      st->stop_pending = true;
      spdlog::info("worker: stopping; {} jobs in flight get {} ms to finish",
                   st->in_flight.size(), grace_ms);
      if (st->in_flight.empty())
        finish_stop(self, *st);
      else
        self->delayed_send(self, milliseconds(grace_ms), atom::close::value);
      return st->stopped;
    },
    // The grace period ended: hand back what is still running.
    [=](atom::close) { finish_stop(self, *st); },
  };
}

} // namespace

caf::actor spawn_dispatcher(caf::actor_system& sys, std::string database_url,
                            wall_clock clock, worker_options options,
                            job_executor execute,
                            memory_supervisor_actor supervisor,
                            std::shared_ptr<worker_figures> figures) {
  auto st = std::make_shared<dispatcher_state>();
  st->url = std::move(database_url);
  st->clock = std::move(clock);
  st->options = std::move(options);
  st->execute = std::move(execute);
  st->supervisor = std::move(supervisor);
  st->figures = std::move(figures);
  return sys.spawn<caf::detached>(dispatcher_actor, st);
}

namespace {

std::string default_owner() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0)
    std::snprintf(host, sizeof host, "node");
  return std::string{host} + ":" + std::to_string(::getpid());
}

void append_metric(std::string& out, const char* name, const char* help,
                   std::uint64_t value, const char* type = "counter") {
  out += std::string{"# HELP "} + name + " " + help + "\n# TYPE " + name + " "
         + type + "\n" + name + " " + std::to_string(value) + "\n";
}

} // namespace

worker_options worker_options_from(const config::settings& s) {
  worker_options wo;
  wo.owner = s.node.owner.empty() ? default_owner() : s.node.owner;
  wo.lease_ms = s.node.lease_ms;
  wo.poll_interval_ms = s.node.poll_interval_ms;
  wo.jobs_max = static_cast<std::size_t>(s.node.jobs_max);
  wo.generate_interval_ms = s.schedule.generate_interval_ms;
  wo.retry.backoff_initial_ms = s.node.retry_backoff_initial_ms;
  wo.retry.backoff_max_ms = s.node.retry_backoff_max_ms;
  wo.transient_retry_max_ms = s.node.transient_retry_max_ms;
  return wo;
}

std::string render_worker_metrics(const worker_figures& w) {
  std::string out;
  append_metric(out, "catchup_jobs_claimed_total",
                "Jobs this node claimed from the queue.", w.claimed);
  append_metric(out, "catchup_jobs_completed_total",
                "Jobs this node completed.", w.completed);
  append_metric(out, "catchup_jobs_failed_total",
                "Job attempts that failed on this node.", w.failed);
  append_metric(out, "catchup_jobs_released_total",
                "Jobs handed back to the queue on shutdown.", w.released);
  append_metric(out, "catchup_jobs_leases_lost_total",
                "Jobs whose lease another node took over.", w.leases_lost);
  append_metric(out, "catchup_jobs_transient_retries_total",
                "Job runs repeated after a database outage, without using "
                "an attempt.",
                w.transient_retries);
  append_metric(out, "catchup_jobs_in_flight", "Jobs this node runs now.",
                w.in_flight, "gauge");
  return out;
}

} // namespace catchup
