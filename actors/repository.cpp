// SPDX-License-Identifier: Apache-2.0
#include "actors/repository.hpp"

#include <deque>
#include <functional>
#include <memory>

#include <caf/all.hpp>

#include "messages/error.hpp"
#include "storage/error.hpp"
#include "storage/session.hpp"

namespace catchup {

namespace {

// -- worker: one connection, one thread ---------------------------------------

struct worker_state {
  std::string url;
  std::unique_ptr<storage::session> db;
  static inline const char* name = "repository-worker";

  // Runs `f` on the session (connecting on first use) and turns storage
  // errors into error values; a lost connection is reopened next time.
  template <class F>
  auto run(F f) -> caf::result<decltype(f(*db))> {
    try {
      if (!db)
        db = std::make_unique<storage::session>(url);
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
       std::string url) {
  self->state.url = std::move(url);
  return {
    [=](atom::next, const stream_cursor& cursor, std::uint64_t n) {
      return self->state.run(
        [&](storage::session& db) { return db.next_batch(cursor, n); });
    },
    [=](atom::context, const std::string& user, std::int64_t now,
        std::int64_t days) {
      return self->state.run([&](storage::session& db) {
        return db.load_user_context(user, now, days);
      });
    },
    [=](atom::users, bool active_only) {
      return self->state.run(
        [&](storage::session& db) { return db.list_users(active_only); });
    },
    [=](atom::save, const generation_output& out) {
      return self->state.run(
        [&](storage::session& db) { return db.save_generation(out); });
    },
    [=](atom::read, const std::string& user, const std::string& status) {
      return self->state.run([&](storage::session& db) {
        return db.read_suggestions(user, status);
      });
    },
  };
}

// -- front: dispatch to idle workers, bounded queue ---------------------------

struct front_state {
  repository_config cfg;
  std::vector<repository_actor> workers;
  std::vector<std::size_t> idle;
  std::deque<std::function<void(std::size_t)>> waiting;
  static inline const char* name = "streaming-repository";
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

template <class Reply, class... Ts>
caf::typed_response_promise<Reply> dispatch(front_pointer self, Ts... xs) {
  auto rp = self->make_response_promise<Reply>();
  auto job = [self, rp, xs...](std::size_t w) mutable {
    self->request(self->state.workers[w], self->state.cfg.request_timeout,
                  xs...)
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
  auto& st = self->state;
  if (!st.idle.empty()) {
    auto w = st.idle.back();
    st.idle.pop_back();
    job(w);
  } else if (st.waiting.size() < st.cfg.queued_requests_max) {
    st.waiting.emplace_back(std::move(job));
  } else {
    rp.deliver(caf::make_error(ec::db_unavailable,
                               "repository queue is full ("
                                 + std::to_string(st.cfg.queued_requests_max)
                                 + " requests wait for a connection)"));
  }
  return rp;
}

repository_actor::behavior_type front(front_pointer self,
                                      repository_config cfg) {
  self->state.cfg = cfg;
  for (std::size_t i = 0; i < cfg.connections_max; ++i) {
    auto w = self->spawn<caf::detached + caf::linked>(worker, cfg.url);
    self->state.workers.push_back(w);
    self->state.idle.push_back(i);
  }
  return {
    [=](atom::next a, const stream_cursor& c, std::uint64_t n) {
      return dispatch<contact_batch>(self, a, c, n);
    },
    [=](atom::context a, const std::string& user, std::int64_t now,
        std::int64_t days) {
      return dispatch<user_context>(self, a, user, now, days);
    },
    [=](atom::users a, bool active_only) {
      return dispatch<std::vector<std::string>>(self, a, active_only);
    },
    [=](atom::save a, const generation_output& out) {
      return dispatch<std::string>(self, a, out);
    },
    [=](atom::read a, const std::string& user, const std::string& status) {
      return dispatch<std::vector<suggestion_record>>(self, a, user, status);
    },
  };
}

} // namespace

repository_actor spawn_repository(caf::actor_system& sys,
                                  const repository_config& cfg) {
  return sys.spawn(front, cfg);
}

} // namespace catchup
