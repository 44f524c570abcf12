// SPDX-License-Identifier: Apache-2.0
#include "actors/generation.hpp"

#include <algorithm>
#include <chrono>
#include <deque>

#include <caf/all.hpp>

#include "core/free_slots.hpp"
#include "core/priority.hpp"
#include "core/top_k.hpp"
#include "messages/error.hpp"
#include "storage/session.hpp"

namespace catchup {

namespace {

using clock_type = std::chrono::steady_clock;

// -- user actor: one generation ------------------------------------------------

using user_actor = caf::typed_actor<
  caf::replies_to<atom::generate, generation_request>::with<generation_result>>;

struct user_state {
  repository_actor repo;
  generation_config cfg;
  generation_request req;
  clock_type::time_point started;
  user_context ctx;
  std::vector<time_slot> slots;
  std::size_t k = 0;
  top_k best{0};
  generation_result result;
  caf::typed_response_promise<generation_result> rp;
  static inline const char* name = "user-generation";
};

using user_pointer = user_actor::stateful_pointer<user_state>;

void fail(user_pointer self, caf::error err) {
  self->state.rp.deliver(std::move(err));
  self->quit();
}

void finish(user_pointer self) {
  auto& st = self->state;
  auto chosen = st.best.take_sorted();
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    suggestion_record rec;
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
  st.result.suggestions = static_cast<std::int64_t>(st.result.items.size());
  generation_output out{st.result, st.req.now_unix_s};
  out.result.wall_ms = std::chrono::duration<double, std::milli>(
                         clock_type::now() - st.started)
                         .count();
  self->request(st.repo, st.cfg.user_timeout, atom::save::value, out)
    .then(
      [=](const std::string& generation_id) {
        auto& st = self->state;
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
  auto want = std::min(st.cfg.batch_rows_max, st.k - st.best.size());
  self->request(st.repo, st.cfg.user_timeout, atom::next::value,
                std::move(cursor), static_cast<std::uint64_t>(want))
    .then(
      [=](contact_batch& batch) {
        auto& st = self->state;
        ++st.result.batches;
        st.result.contacts_read += batch.rows_read;
        for (auto& row : batch.rows)
          st.best.offer(storage::to_candidate(row, st.req.now_unix_s));
        // The priority stream is in rank order: once K are kept, no later
        // row can displace one, so reading stops exactly here.
        if (st.best.size() >= st.k || batch.next.done)
          finish(self);
        else
          pull(self, std::move(batch.next));
      },
      [=](caf::error& err) { fail(self, std::move(err)); });
}

user_actor::behavior_type user(user_pointer self, repository_actor repo,
                               generation_config cfg) {
  self->state.repo = std::move(repo);
  self->state.cfg = cfg;
  return {
    [=](atom::generate, const generation_request& req) {
      auto& st = self->state;
      st.req = req;
      st.started = clock_type::now();
      st.result.user_id = req.user_id;
      st.rp = self->make_response_promise<generation_result>();
      self->request(st.repo, st.cfg.user_timeout, atom::context::value,
                    req.user_id, req.now_unix_s, st.cfg.window_days)
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
            std::vector<availability_window> windows;
            for (auto& w : st.ctx.availability)
              windows.push_back({w.weekday, w.start_minute, w.end_minute});
            if (windows.empty())
              windows = default_availability();
            std::vector<busy_interval> busy;
            for (auto& b : st.ctx.busy)
              busy.push_back({b.start_unix_s, b.end_unix_s});
            slot_rules rules;
            rules.window_days = st.cfg.window_days;
            try {
              st.slots = free_slots(st.ctx.timezone, windows, std::move(busy),
                                    st.req.now_unix_s, rules);
            } catch (const std::exception& e) {
              return fail(self, caf::make_error(ec::invalid_input,
                                                "user " + st.req.user_id
                                                  + ": " + e.what()));
            }
            st.result.free_slots = static_cast<std::int64_t>(st.slots.size());
            st.k = std::min(st.cfg.suggestions_max, st.slots.size());
            st.best = top_k{st.k};
            if (st.k == 0) {
              st.result.warnings.push_back("no free slot in the next "
                                           + std::to_string(st.cfg.window_days)
                                           + " days");
              return finish(self);
            }
            pull(self, storage::session::open_priority(st.req.user_id,
                                                       st.req.now_unix_s));
          },
          [=](caf::error& err) { fail(self, std::move(err)); });
      return st.rp;
    },
  };
}

// -- coordinator -----------------------------------------------------------------

struct coordinator_state {
  repository_actor repo;
  generation_config cfg;
  static inline const char* name = "generation-coordinator";
};

using coordinator_pointer = coordinator_actor::stateful_pointer<
  coordinator_state>;

// One multi-user run: at most `concurrent_users_max` user actors at once.
struct run_state {
  std::deque<std::string> pending;
  std::size_t total = 0;
  std::size_t running = 0;
  std::vector<generation_result> results;
  std::int64_t now = 0;
  caf::actor listener;
  caf::typed_response_promise<std::vector<generation_result>> rp;
};

void launch(coordinator_pointer self, std::shared_ptr<run_state> run);

// Records one user's result (a failure is a result with a warning), reports
// progress and starts the next user or delivers the run.
void user_done(coordinator_pointer self, std::shared_ptr<run_state> run,
               generation_result r) {
  --run->running;
  run->results.push_back(std::move(r));
  if (run->listener)
    caf::anon_send(run->listener, atom::progress::value,
                   static_cast<std::uint64_t>(run->results.size()),
                   static_cast<std::uint64_t>(run->total));
  if (run->results.size() == run->total)
    run->rp.deliver(std::move(run->results));
  else
    launch(self, run);
}

void launch(coordinator_pointer self, std::shared_ptr<run_state> run) {
  auto& cfg = self->state.cfg;
  while (run->running < cfg.concurrent_users_max && !run->pending.empty()) {
    auto user_id = std::move(run->pending.front());
    run->pending.pop_front();
    ++run->running;
    auto worker = self->spawn(user, self->state.repo, cfg);
    self->request(worker, cfg.user_timeout, atom::generate::value,
                  generation_request{user_id, run->now})
      .then(
        [=](generation_result& r) { user_done(self, run, std::move(r)); },
        [=](caf::error& err) {
          generation_result failed;
          failed.user_id = user_id;
          failed.warnings.push_back("failed: " + self->system().render(err));
          user_done(self, run, std::move(failed));
        });
  }
}

std::shared_ptr<run_state> start_run(coordinator_pointer self,
                                     std::int64_t now, caf::actor listener) {
  auto run = std::make_shared<run_state>();
  run->now = now;
  run->listener = std::move(listener);
  run->rp = self->make_response_promise<std::vector<generation_result>>();
  return run;
}

void begin_run(coordinator_pointer self, std::shared_ptr<run_state> run,
               std::vector<std::string> users) {
  run->total = users.size();
  run->pending.assign(std::make_move_iterator(users.begin()),
                      std::make_move_iterator(users.end()));
  if (run->total == 0)
    run->rp.deliver(std::vector<generation_result>{});
  else
    launch(self, run);
}

coordinator_actor::behavior_type coordinator(coordinator_pointer self,
                                             repository_actor repo,
                                             generation_config cfg) {
  self->state.repo = std::move(repo);
  self->state.cfg = cfg;
  return {
    [=](atom::generate, const generation_request& req)
      -> caf::typed_response_promise<generation_result> {
      auto rp = self->make_response_promise<generation_result>();
      auto worker = self->spawn(user, self->state.repo, self->state.cfg);
      self->request(worker, self->state.cfg.user_timeout,
                    atom::generate::value, req)
        .then([=](generation_result& r) mutable { rp.deliver(std::move(r)); },
              [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [=](atom::generate, std::int64_t now, caf::actor listener)
      -> caf::typed_response_promise<std::vector<generation_result>> {
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
      -> caf::typed_response_promise<std::vector<generation_result>> {
      auto run = start_run(self, now, std::move(listener));
      begin_run(self, run, std::move(users));
      return run->rp;
    },
  };
}

} // namespace

coordinator_actor spawn_coordinator(caf::actor_system& sys,
                                    repository_actor repo,
                                    const generation_config& cfg) {
  return sys.spawn(coordinator, std::move(repo), cfg);
}

} // namespace catchup
