// SPDX-License-Identifier: Apache-2.0
// Routing of interactive generations (actors/cluster.hpp): each runs on the
// least-pressured node that is not at critical pressure, this one on a tie;
// if that node fails or goes down, once more on another, all within the
// caller's time limit.
#include "actors/cluster_detail.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/pressure.hpp"
#include "messages/error_codes.hpp"

namespace catchup::cluster_detail {

namespace {

/// A generation is tried on at most this many nodes.
constexpr std::int32_t route_attempts_max = 2;

void finish(const route_ptr& r, routed_generation result) {
  if (r->done)
    return;
  r->done = true;
  r->promise.deliver(std::move(result));
}

void fail(const route_ptr& r, caf::error err) {
  if (r->done)
    return;
  r->done = true;
  r->promise.deliver(std::move(err));
}

bool worth_another_node(const caf::error& err) {
  // The node or the link failed, or the node filled up since it last said
  // its level; the engine's other errors (not found, invalid input) would
  // fail the same way elsewhere.
  if (err.category() != caf::atom("catchup"))
    return true;
  auto code = static_cast<ec>(err.code());
  return code == ec::memory_critical || code == ec::unavailable;
}

void run_on_peer(cluster_self self, const cluster_ptr& st, const route_ptr& r,
                 peer_info& peer, milliseconds remaining) {
  auto attempt = r->attempts;
  r->on_peer = peer.address;
  // Only the ones still out matter (the down handler re-routes them); the
  // list stays as long as the requests in flight to this peer.
  peer.routes.erase(std::remove_if(peer.routes.begin(), peer.routes.end(),
                                   [](const route_ptr& x) { return x->done; }),
                    peer.routes.end());
  peer.routes.push_back(r);
  auto peer_id = peer.node_id;
  self
    ->request(peer.handle, remaining, atom::local::value, r->user_id,
              r->now_unix_s, static_cast<std::int64_t>(remaining.count()))
    .then(
      [=](routed_generation& result) {
        if (r->attempts != attempt)
          return;
        result.attempts = attempt;
        finish(r, std::move(result));
      },
      [=](caf::error& err) {
        if (r->attempts != attempt || r->done)
          return;
        if (!worth_another_node(err)) {
          fail(r, std::move(err));
          return;
        }
        r->last_failure = peer_id + ": " + self->system().render(err);
        spdlog::warn("cluster: generation for user {} failed on {} ({}); "
                     "trying elsewhere",
                     r->user_id, peer_id, self->system().render(err));
        route(self, st, r);
      });
}

} // namespace

void run_locally(cluster_self self, const cluster_ptr& st,
                 const route_ptr& r, milliseconds remaining) {
  auto attempt = r->attempts;
  self
    ->request(st->opt.coordinator, remaining, atom::generate::value,
              generation_request{r->user_id, r->now_unix_s})
    .then(
      [=](generation_result& result) {
        if (r->attempts == attempt)
          finish(r, {st->opt.node_id, attempt, std::move(result)});
      },
      [=](caf::error& err) {
        if (r->attempts != attempt)
          return;
        if (err == caf::sec::request_timeout)
          err = caf::make_error(ec::timeout,
                                "the generation did not finish in time on "
                                  + st->opt.node_id);
        fail(r, std::move(err));
      });
}

void route(cluster_self self, const cluster_ptr& st, const route_ptr& r) {
  if (r->done)
    return;
  auto remaining = std::chrono::duration_cast<milliseconds>(r->deadline
                                                            - steady_clock::now());
  if (remaining.count() <= 0) {
    fail(r, caf::make_error(ec::timeout, "no answer for user " + r->user_id
                                           + " in time"
                                           + (r->last_failure.empty()
                                                ? std::string{}
                                                : "; " + r->last_failure)));
    return;
  }
  if (r->attempts >= route_attempts_max) {
    fail(r, caf::make_error(ec::unavailable,
                            "generation for user " + r->user_id + " failed on "
                              + std::to_string(r->attempts)
                              + " nodes; last: " + r->last_failure));
    return;
  }
  // This node first, so a tie runs here without a hop.
  struct candidate {
    route_candidate figures;
    peer_info* peer; // null: this node
  };
  std::vector<candidate> candidates;
  auto own = st->own_status();
  if (r->tried.count(own.node_id) == 0)
    candidates.push_back(
      {{own.level, own.used_percent, own.jobs_in_flight}, nullptr});
  for (auto& [address, p] : st->peers)
    if (p.status_known && r->tried.count(p.node_id) == 0)
      candidates.push_back({{p.status.level, p.status.used_percent,
                             p.status.jobs_in_flight},
                            &p});
  candidates.erase(std::remove_if(candidates.begin(), candidates.end(),
                                  [](const candidate& c) {
                                    return c.figures.level
                                           == pressure_level::critical;
                                  }),
                   candidates.end());
  if (candidates.empty()) {
    fail(r, caf::make_error(ec::unavailable,
                            "no reachable node can generate for user "
                              + r->user_id
                              + " now: every one is at critical memory "
                                "pressure or failed"
                              + (r->last_failure.empty()
                                   ? std::string{}
                                   : " (" + r->last_failure + ")")));
    return;
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const candidate& a, const candidate& b) {
                     return less_pressured(a.figures, b.figures);
                   });
  auto& pick = candidates.front();
  r->attempts += 1;
  if (pick.peer == nullptr) {
    r->tried.insert(own.node_id);
    r->on_peer.clear();
    run_locally(self, st, r, remaining);
  } else {
    r->tried.insert(pick.peer->node_id);
    run_on_peer(self, st, r, *pick.peer, remaining);
  }
}

} // namespace catchup::cluster_detail
