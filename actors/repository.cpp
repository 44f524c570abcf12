// SPDX-License-Identifier: Apache-2.0
#include "actors/repository.hpp"

#include <deque>
#include <map>
#include <functional>
#include <memory>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/pressure.hpp"
#include "messages/error_codes.hpp"
#include "storage/storage_error.hpp"
#include "storage/session.hpp"

namespace catchup {

namespace {

// -- worker: one connection, one thread ---------------------------------------

struct worker_state {
  std::string url;
  std::int64_t statement_timeout_ms = 60000;
  std::unique_ptr<storage::session> db;
  static inline const char* name = "repository-worker";

  // Runs `f` on the session (connecting on first use) and turns storage
  // errors into error values; a lost connection is reopened next time.
  template <class F>
  auto run(F f) -> caf::result<decltype(f(*db))> {
    try {
      if (!db)
        db = std::make_unique<storage::session>(url, statement_timeout_ms);
      return f(*db);
    } catch (const storage::storage_error& e) {
      if (e.code() == ec::db_unavailable)
        db.reset();
      return caf::make_error(e.code(), std::string{e.what()});
    } catch (const std::exception& e) {
      db.reset();
      return caf::make_error(ec::db_query_failed, std::string{e.what()});
    }
  }
};

repository_actor::behavior_type
worker(repository_actor::stateful_pointer<worker_state> self,
       std::string url, std::int64_t statement_timeout_ms) {
  self->state.url = std::move(url);
  self->state.statement_timeout_ms = statement_timeout_ms;
  return {
    [=](atom::next, const stream_cursor& cursor, std::uint64_t n) {
      return self->state.run([&](storage::session& db) {
        return cursor.kind == stream_kind::bulk ? db.next_bulk(cursor, n)
                                                : db.next_batch(cursor, n);
      });
    },
    [=](atom::close, const stream_cursor&) {
      if (self->state.db)
        self->state.db->close_bulk();
    },
    [=](atom::close, std::uint64_t, std::uint64_t) {
      // Idle checks are the front's business.
    },
    [=](atom::context, const std::string& user, std::int64_t now,
        std::int64_t days, bool with_busy) {
      return self->state.run([&](storage::session& db) {
        return db.load_user_context(user, now, days, with_busy);
      });
    },
    [=](atom::busy, const std::string& user, std::int64_t from,
        std::int64_t to) {
      return self->state.run(
        [&](storage::session& db) { return db.load_busy(user, from, to); });
    },
    [=](atom::contact, const std::string& user, const std::string& id) {
      return self->state.run(
        [&](storage::session& db) { return db.read_contact(user, id); });
    },
    [=](atom::users, bool active_only) {
      return self->state.run(
        [&](storage::session& db) { return db.list_users(active_only); });
    },
    [=](atom::save, const generation_output& out) {
      return self->state.run(
        [&](storage::session& db) { return db.save_generation(out); });
    },
    [=](atom::read, const std::string& user, const std::string& status,
        std::int64_t now_unix_s) {
      return self->state.run([&](storage::session& db) {
        return db.read_suggestions(user, status, now_unix_s);
      });
    },
    [=](atom::pressure, const memory_status&) {
      // The front applies pressure before a request reaches a worker.
    },
  };
}

// -- front: dispatch to idle workers, bounded queue ---------------------------

// An open bulk stream: the worker it pins and its last activity.
struct bulk_stream {
  std::size_t worker = 0;
  std::uint64_t tick = 0;
  std::string user_id;
};

struct front_state {
  repository_config cfg;
  std::vector<repository_actor> workers;
  std::vector<std::size_t> idle;
  std::deque<std::function<void(std::size_t)>> waiting;
  // Bulk streams accepted (open or waiting for a worker) and open ones.
  std::size_t bulk_accepted = 0;
  std::map<std::uint64_t, bulk_stream> bulk;
  std::uint64_t tick = 0;
  pressure_level level = pressure_level::normal;
  static inline const char* name = "streaming-repository";

  // The rows a pull of `n` gets at the current level: as asked at normal
  // pressure, at most the level's batch size above it.
  std::uint64_t rows_for(std::uint64_t n) const {
    if (level == pressure_level::normal)
      return n;
    return std::min<std::uint64_t>(n, cfg.policy.at(level).batch_rows_max);
  }
};

using front_pointer = repository_actor::stateful_pointer<front_state>;

void release(front_pointer self, std::size_t w) {
  auto& st = self->state;
  if (st.waiting.empty()) {
    st.idle.push_back(w);
    return;
  }
  auto job = std::move(st.waiting.front());
  st.waiting.pop_front();
  job(w);
}

// Runs `job` on an idle worker now, or queues it; false when the queue is
// full (the caller refuses the request).
bool schedule(front_pointer self, std::function<void(std::size_t)> job) {
  auto& st = self->state;
  if (!st.idle.empty()) {
    auto w = st.idle.back();
    st.idle.pop_back();
    job(w);
    return true;
  }
  if (st.waiting.size() >= st.cfg.queued_requests_max)
    return false;
  st.waiting.emplace_back(std::move(job));
  return true;
}

caf::error queue_full(front_pointer self) {
  return caf::make_error(ec::db_unavailable,
                         "repository queue is full ("
                           + std::to_string(
                             self->state.cfg.queued_requests_max)
                           + " requests wait for a connection)");
}

template <class Reply, class... Ts>
caf::typed_response_promise<Reply> dispatch(front_pointer self, Ts... xs) {
  auto rp = self->make_response_promise<Reply>();
  auto job = [self, rp, xs...](std::size_t w) mutable {
    self->request(self->state.workers[w], caf::infinite, xs...)
      .then(
        [self, rp, w](Reply reply) mutable {
          rp.deliver(std::move(reply));
          release(self, w);
        },
        [self, rp, w](caf::error& err) mutable {
          rp.deliver(std::move(err));
          release(self, w);
        });
  };
  if (!schedule(self, std::move(job)))
    rp.deliver(queue_full(self));
  return rp;
}

// Frees a bulk stream's worker (after it was told to close, if needed).
void unpin(front_pointer self, std::uint64_t id, bool tell_worker) {
  auto& st = self->state;
  auto i = st.bulk.find(id);
  if (i == st.bulk.end())
    return;
  auto w = i->second.worker;
  st.bulk.erase(i);
  --st.bulk_accepted;
  if (tell_worker)
    self->send(st.workers[w], atom::close::value, stream_cursor{});
  release(self, w);
}

// Pulls a bulk stream's next batch on its pinned worker `w`; `opening`:
// this pull declares the cursor.
void bulk_pull(front_pointer self,
               caf::typed_response_promise<contact_batch> rp, std::size_t w,
               stream_cursor cursor, std::uint64_t n, bool opening) {
  self->request(self->state.workers[w], caf::infinite, atom::next::value,
                cursor, n)
    .then(
      [=](contact_batch& batch) mutable {
        auto& st = self->state;
        auto id = batch.next.bulk_id;
        if (opening)
          st.bulk[id] = bulk_stream{w, 0, cursor.user_id};
        if (batch.next.done) {
          unpin(self, id, false); // the worker closed it already
        } else if (auto i = st.bulk.find(id); i != st.bulk.end()) {
          i->second.tick = ++st.tick;
          self->delayed_send(self, st.cfg.bulk_idle_timeout,
                             atom::close::value, id, i->second.tick);
        }
        rp.deliver(std::move(batch));
      },
      [=](caf::error& err) mutable {
        auto& st = self->state;
        if (opening) {
          --st.bulk_accepted;
          release(self, w);
        } else {
          unpin(self, cursor.bulk_id, false); // failed: the worker closed it
        }
        rp.deliver(std::move(err));
      });
}

caf::typed_response_promise<contact_batch>
bulk_next(front_pointer self, const stream_cursor& cursor, std::uint64_t n) {
  auto rp = self->make_response_promise<contact_batch>();
  auto& st = self->state;
  if (cursor.bulk_id != 0) {
    auto i = st.bulk.find(cursor.bulk_id);
    if (i == st.bulk.end()) {
      rp.deliver(caf::make_error(
        ec::not_found, "bulk stream " + std::to_string(cursor.bulk_id)
                         + " is closed (done, closed or idle longer than "
                         + std::to_string(st.cfg.bulk_idle_timeout.count())
                         + " ms)"));
      return rp;
    }
    i->second.tick = ++st.tick; // busy: no idle check may close it now
    bulk_pull(self, rp, i->second.worker, cursor, n, false);
    return rp;
  }
  if (st.bulk_accepted >= st.cfg.bulk_streams_max) {
    rp.deliver(caf::make_error(
      ec::db_unavailable, "too many bulk streams open ("
                            + std::to_string(st.cfg.bulk_streams_max)
                            + "); finish or close one first"));
    return rp;
  }
  auto job = [self, rp, cursor, n](std::size_t w) {
    bulk_pull(self, rp, w, cursor, n, true);
  };
  if (schedule(self, std::move(job)))
    ++st.bulk_accepted;
  else
    rp.deliver(queue_full(self));
  return rp;
}

repository_actor::behavior_type front(front_pointer self,
                                      repository_config cfg) {
  if (cfg.bulk_streams_max == 0)
    cfg.bulk_streams_max = std::max<std::size_t>(1, cfg.connections_max - 1);
  self->state.cfg = cfg;
  for (std::size_t i = 0; i < cfg.connections_max; ++i) {
    auto w = self->spawn<caf::detached + caf::linked>(
      worker, cfg.url,
      static_cast<std::int64_t>(cfg.request_timeout.count()));
    self->state.workers.push_back(w);
    self->state.idle.push_back(i);
  }
  return {
    [=](atom::next a, const stream_cursor& c, std::uint64_t n) {
      n = self->state.rows_for(n);
      if (c.kind == stream_kind::bulk)
        return bulk_next(self, c, n);
      return dispatch<contact_batch>(self, a, c, n);
    },
    [=](atom::pressure, const memory_status& x) {
      if (x.level == self->state.level)
        return;
      self->state.level = x.level;
      spdlog::info("repository: batches of at most {} rows at {} pressure",
                   self->state.rows_for(
                     self->state.cfg.policy.at(pressure_level::normal)
                       .batch_rows_max),
                   to_string(x.level));
    },
    [=](atom::close, const stream_cursor& c) {
      unpin(self, c.bulk_id, true);
    },
    [=](atom::close, std::uint64_t id, std::uint64_t tick) {
      auto i = self->state.bulk.find(id);
      if (i == self->state.bulk.end() || i->second.tick != tick)
        return; // done, closed, or pulled since this check was set
      spdlog::warn("bulk stream {} of user {} was not pulled for {} ms; "
                   "closed to free its connection",
                   id, i->second.user_id,
                   self->state.cfg.bulk_idle_timeout.count());
      unpin(self, id, true);
    },
    [=](atom::context a, const std::string& user, std::int64_t now,
        std::int64_t days, bool with_busy) {
      return dispatch<user_context>(self, a, user, now, days, with_busy);
    },
    [=](atom::busy a, const std::string& user, std::int64_t from,
        std::int64_t to) {
      return dispatch<std::vector<busy_record>>(self, a, user, from, to);
    },
    [=](atom::contact a, const std::string& user, const std::string& id) {
      return dispatch<contact_record>(self, a, user, id);
    },
    [=](atom::users a, bool active_only) {
      return dispatch<std::vector<std::string>>(self, a, active_only);
    },
    [=](atom::save a, const generation_output& out) {
      return dispatch<std::string>(self, a, out);
    },
    [=](atom::read a, const std::string& user, const std::string& status,
        std::int64_t now_unix_s) {
      return dispatch<std::vector<suggestion_record>>(self, a, user, status,
                                                      now_unix_s);
    },
  };
}

} // namespace

repository_actor spawn_repository(caf::actor_system& sys,
                                  const repository_config& cfg) {
  return sys.spawn(front, cfg);
}

} // namespace catchup
