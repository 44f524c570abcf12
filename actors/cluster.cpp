// SPDX-License-Identifier: Apache-2.0
#include "actors/cluster.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/system_config.hpp"
#include "messages/error_codes.hpp"
#include "storage/job_queue.hpp"
#include "storage/node_registry.hpp"

namespace catchup {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

/// Upper bound of one database call of the registry actor, and of the
/// cluster actor's wait for it.
constexpr std::int64_t registry_statement_timeout_ms = 10000;
/// How long a connection attempt may take before the cluster actor gives
/// up on it (the connecting thread may stay blocked longer, in the kernel's
/// connect; the address is not dialled again until it ended).
constexpr std::int64_t connect_timeout_ms = 5000;
/// A peer that does not say who it is within this long is dropped.
constexpr std::int64_t hello_timeout_ms = 5000;
/// The longest wait before dialling an unreachable address again.
constexpr std::int64_t retry_wait_max_ms = 30000;
/// A generation is tried on at most this many nodes.
constexpr std::int32_t route_attempts_max = 2;
/// A row whose node is not connected to us counts as dead when its
/// heartbeat is older than this many membership intervals (and than the
/// peer timeout): it died before we ever reached it.
constexpr std::int64_t stale_row_intervals = 3;
/// Rows of nodes that left or died are deleted after a day.
constexpr std::int64_t node_row_keep_ms = 24LL * 3600 * 1000;

std::string level_text(pressure_level level) {
  return std::string{to_string(level)};
}

pressure_level level_of(const std::string& text) {
  for (auto level : {pressure_level::normal, pressure_level::elevated,
                     pressure_level::high, pressure_level::critical})
    if (text == to_string(level))
      return level;
  return pressure_level::critical; // unknown: treat as unable to take work
}

node_status status_of(const storage::node_record& r) {
  node_status s;
  s.node_id = r.id;
  s.address = r.address;
  s.version = r.version;
  s.state = r.state;
  s.level = level_of(r.level);
  s.allocated_bytes = r.allocated_bytes;
  s.budget_bytes = r.budget_bytes;
  s.used_percent = r.budget_bytes > 0 ? 100.0
                                          * static_cast<double>(
                                            r.allocated_bytes)
                                          / static_cast<double>(r.budget_bytes)
                                      : 0.0;
  s.jobs_in_flight = r.jobs_in_flight;
  s.heartbeat_age_ms = r.heartbeat_age_ms;
  return s;
}

storage::node_heartbeat heartbeat_of(const node_status& s) {
  storage::node_heartbeat hb;
  hb.level = level_text(s.level);
  hb.allocated_bytes = std::max<std::int64_t>(0, s.allocated_bytes);
  hb.budget_bytes = std::max<std::int64_t>(0, s.budget_bytes);
  hb.jobs_in_flight = std::max<std::int64_t>(0, s.jobs_in_flight);
  return hb;
}

caf::error runtime_error(const std::string& what) {
  return caf::make_error(caf::sec::runtime_error, what);
}

// -- the registry actor: the cluster's database calls, off the scheduler --

caf::behavior registry_actor(caf::event_based_actor*, std::string url,
                             wall_clock clock, std::string node_id,
                             std::string version) {
  struct db {
    std::unique_ptr<storage::node_registry> nodes;
    std::unique_ptr<storage::job_queue> queue;
  };
  auto d = std::make_shared<db>();
  // Opened lazily and again after a failure, so a database that comes back
  // is used again.
  auto open = [=] {
    if (!d->nodes)
      d->nodes = std::make_unique<storage::node_registry>(
        url, registry_statement_timeout_ms);
    if (!d->queue)
      d->queue = std::make_unique<storage::job_queue>(
        url, clock, registry_statement_timeout_ms);
  };
  auto reset = [=] {
    d->nodes.reset();
    d->queue.reset();
  };
  return {
    [=](atom::heartbeat,
        const node_status& own) -> caf::result<std::vector<node_status>> {
      try {
        open();
        if (!d->nodes->heartbeat(node_id, heartbeat_of(own))) {
          d->nodes->register_node(node_id, own.address, version,
                                  heartbeat_of(own));
        }
        std::vector<node_status> out;
        for (auto& r : d->nodes->list(storage::node_list_rows_max))
          out.push_back(status_of(r));
        return out;
      } catch (const std::exception& e) {
        reset();
        return runtime_error(e.what());
      }
    },
    // -1 when the peer beat after the decision (it is alive: the request
    // waited behind slow database calls), or another node declared it
    // down first (and rescued its jobs).
    [=](atom::down, const std::string& peer_id, const std::string& reason,
        std::int64_t decided_ns) -> caf::result<std::int64_t> {
      try {
        open();
        auto waited = steady_clock::now().time_since_epoch()
                      - std::chrono::nanoseconds(decided_ns);
        auto silent_for_ms = std::max<std::int64_t>(
          0, std::chrono::duration_cast<milliseconds>(waited).count());
        if (!d->nodes->mark_down(peer_id, reason, silent_for_ms))
          return std::int64_t{-1};
        return d->queue->expire_leases(peer_id);
      } catch (const std::exception& e) {
        reset();
        return runtime_error(e.what());
      }
    },
    // After every heartbeat queued before it, so no late beat makes the
    // node look up again.
    [=](atom::leave) -> caf::result<bool> {
      try {
        open();
        d->nodes->leave(node_id);
        return true;
      } catch (const std::exception& e) {
        reset();
        return runtime_error(e.what());
      }
    },
  };
}

// -- connecting: remote_actor blocks, so each attempt has its own thread --

/// Whether `host:port` takes a TCP connection within `limit`: "" if it
/// does, else why not. CAF 0.17 connects without a time limit, inside its
/// middleman, so an address that drops SYNs would hold a dial (and what
/// queues behind it in the middleman) for the kernel's two minutes; this
/// probe bounds that. DNS resolution is not bounded by it.
std::string tcp_probe(const std::string& host, std::uint16_t port,
                      milliseconds limit) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    return std::string{"cannot resolve "} + host + ": " + ::gai_strerror(rc);
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard{found, ::freeaddrinfo};
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK,
                    found->ai_protocol);
  if (fd < 0)
    return std::string{"cannot open a socket: "} + std::strerror(errno);
  std::string why;
  if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      why = std::strerror(errno);
    } else {
      pollfd p{fd, POLLOUT, 0};
      int ready = ::poll(&p, 1, static_cast<int>(limit.count()));
      int err = 0;
      socklen_t len = sizeof err;
      if (ready == 0)
        why = "no answer to the connection within "
              + std::to_string(limit.count()) + " ms";
      else if (ready < 0
               || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        why = std::strerror(errno);
      else if (err != 0)
        why = std::strerror(err);
    }
  }
  ::close(fd);
  return why;
}

caf::behavior connector_actor(caf::event_based_actor* self, bool tls) {
  return {
    [=](atom::connect, const std::string& host,
        std::uint16_t port) -> caf::result<caf::strong_actor_ptr> {
      self->quit();
      if (auto why = tcp_probe(host, port, milliseconds(connect_timeout_ms));
          !why.empty())
        return caf::make_error(caf::sec::cannot_connect_to_node, why);
      auto& sys = self->home_system();
      auto node = tls ? caf::openssl::remote_actor<cluster_node_actor>(
                          sys, host, port)
                      : sys.middleman().remote_actor<cluster_node_actor>(
                          host, port);
      if (!node)
        return node.error();
      return caf::actor_cast<caf::strong_actor_ptr>(*node);
    },
  };
}

// -- the cluster actor --------------------------------------------------------

/// One interactive generation on its way through the cluster.
struct route_state {
  std::string user_id;
  std::int64_t now_unix_s = 0;
  steady_clock::time_point deadline;
  caf::typed_response_promise<routed_generation> promise;
  /// Nodes tried so far, by id.
  std::set<std::string> tried;
  std::int32_t attempts = 0;
  /// The peer (by address) the current attempt runs on; "" when local.
  std::string on_peer;
  /// Why the last attempt failed, for the final error.
  std::string last_failure;
  bool done = false;
};
using route_ptr = std::shared_ptr<route_state>;

struct peer_info {
  std::string address;
  cluster_node_actor handle;
  /// Empty until the peer said who it is.
  std::string node_id;
  node_status status;
  bool status_known = false;
  /// Routed generations running on it now.
  std::vector<route_ptr> routes;
};

struct cluster_state {
  cluster_options opt;
  bool tls = true;
  caf::actor registry;
  /// host:port this node registered; set by join_cluster after publishing.
  std::mutex address_mtx;
  std::string self_address;
  pressure_level own_level = pressure_level::normal;
  /// Connected peers by the address we reached them at.
  std::map<std::string, peer_info> peers;
  /// Addresses a connection attempt runs for, until its connector thread
  /// ended (a connect the kernel still waits on keeps its address here, so
  /// a dead address never holds more than one thread).
  std::set<std::string> connecting;
  /// The connector actors, by address, to clear `connecting` when they end.
  std::map<caf::actor_addr, std::string> connectors;
  /// Addresses whose last attempt failed: when to try again (the wait
  /// doubles up to `retry_wait_max`), and whether the failure was logged.
  struct retry {
    steady_clock::time_point not_before;
    milliseconds wait{0};
  };
  std::map<std::string, retry> unreachable;
  /// One heartbeat at a time: a slow database must not pile them up.
  bool heartbeat_in_flight = false;
  std::vector<std::string> seeds;
  /// The lowest peer level last told to the dispatcher (-2: never told).
  std::int32_t told_lowest = -2;
  /// Nodes this node declared down and not seen up since.
  std::set<std::string> declared_down;
  /// When the next membership tick is due, and until when this node
  /// counts as just resumed from a stall (see `stalled`).
  steady_clock::time_point next_tick_due = steady_clock::now();
  steady_clock::time_point stalled_until{};

  /// True while this node itself was, or just was, not running (SIGSTOP,
  /// a VM pause, heavy swapping): its connections then time out on its
  /// side too, and the peers at their other ends are alive. Declaring
  /// them down would end their leases for nothing.
  bool stalled() const {
    auto now = steady_clock::now();
    auto slack = milliseconds(opt.settings.peer_timeout_ms / 2);
    return now < stalled_until || now > next_tick_due + slack;
  }

  std::string address() {
    std::lock_guard<std::mutex> lock{address_mtx};
    return self_address;
  }

  node_status own_status() {
    node_status s = opt.self_status ? opt.self_status() : node_status{};
    s.node_id = opt.node_id;
    s.address = address();
    s.version = opt.version;
    s.state = "up";
    // The supervisor's broadcast is the newest word on the level.
    s.level = std::max(s.level, own_level);
    s.heartbeat_age_ms = 0;
    return s;
  }

  peer_info* find_by_handle(const caf::actor_addr& addr) {
    for (auto& [address, p] : peers)
      if (p.handle.address() == addr)
        return &p;
    return nullptr;
  }

  peer_info* find_by_id(const std::string& id) {
    for (auto& [address, p] : peers)
      if (p.node_id == id)
        return &p;
    return nullptr;
  }
};
using cluster_ptr = std::shared_ptr<cluster_state>;
using cluster_self = cluster_node_actor::pointer;

void tell_dispatcher(cluster_self, cluster_state& st) {
  std::int32_t lowest = -1;
  for (auto& [address, p] : st.peers)
    if (p.status_known)
      lowest = lowest < 0 ? static_cast<std::int32_t>(p.status.level)
                          : std::min(lowest, static_cast<std::int32_t>(
                                               p.status.level));
  if (lowest == st.told_lowest || !st.opt.dispatcher)
    return;
  st.told_lowest = lowest;
  caf::anon_send(st.opt.dispatcher, atom::peers::value, lowest);
}

void route(cluster_self self, const cluster_ptr& st, const route_ptr& r);

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

void declare_down(cluster_self self, const cluster_ptr& st,
                  const std::string& node_id, const std::string& reason) {
  if (node_id.empty() || node_id == st->opt.node_id)
    return;
  st->declared_down.insert(node_id);
  auto started = steady_clock::now();
  auto decided_ns = static_cast<std::int64_t>(
    std::chrono::duration_cast<std::chrono::nanoseconds>(
      started.time_since_epoch())
      .count());
  self
    ->request(st->registry, milliseconds(registry_statement_timeout_ms * 2),
              atom::down::value, node_id, reason, decided_ns)
    .then(
      [=](std::int64_t rescued) {
        auto took_ms = std::chrono::duration_cast<milliseconds>(
                         steady_clock::now() - started)
                         .count();
        if (rescued < 0) {
          spdlog::info("cluster: lost node {} ({}), but it beat since or "
                       "another node declared it down first; nothing to "
                       "rescue here",
                       node_id, reason);
          return;
        }
        spdlog::warn("cluster: node {} is down ({}); ended its {} job "
                     "leases in {} ms, so they are claimed again now",
                     node_id, reason, rescued, took_ms);
        if (st->opt.dispatcher && rescued > 0)
          caf::anon_send(st->opt.dispatcher, atom::wake::value);
      },
      [=](caf::error& err) {
        // Its leases then run out by themselves and any node rescues the
        // jobs; only the delay suffers.
        spdlog::error("cluster: node {} is down ({}), but its jobs cannot "
                      "be rescued now: {}",
                      node_id, reason, self->system().render(err));
      });
}

/// Forgets the peer entry at `i`; stops monitoring its handle only when no
/// other entry holds it (CAF gives one proxy per remote actor, and
/// demonitor removes every monitor on it).
void drop_peer(cluster_self self, cluster_state& st,
               std::map<std::string, peer_info>::iterator i) {
  auto addr = i->second.handle.address();
  st.peers.erase(i);
  if (addr && st.find_by_handle(addr) == nullptr)
    self->demonitor(addr);
}

/// Remembers a failed dial: the next one waits twice as long as the last
/// (1 s first, 30 s at most). @returns true on the first failure.
bool note_unreachable(cluster_state& st, const std::string& address) {
  auto [it, first] = st.unreachable.try_emplace(address);
  auto& r = it->second;
  r.wait = std::min(std::max(r.wait * 2, milliseconds(1000)),
                    milliseconds(retry_wait_max_ms));
  r.not_before = steady_clock::now() + r.wait;
  return first;
}

// A dial reached a node: it becomes a peer once its hello says who it is
// (and that it is neither this node nor one already connected).
void on_dialled(cluster_self self, const cluster_ptr& st,
                const std::string& address, caf::strong_actor_ptr& ptr) {
  st->unreachable.erase(address);
  auto handle = caf::actor_cast<cluster_node_actor>(ptr);
  if (st->find_by_handle(handle.address()) != nullptr)
    return; // the same node, reached by another address or its hello
  self->monitor(handle);
  auto& p = st->peers[address];
  p.address = address;
  p.handle = handle;
  self->send(handle, atom::pressure::value, st->own_status());
  self->request(handle, milliseconds(hello_timeout_ms), atom::status::value)
    .then(
      [=](node_status& status) {
        auto i = st->peers.find(address);
        if (i == st->peers.end())
          return;
        auto* same = st->find_by_id(status.node_id);
        if (status.node_id == st->opt.node_id
            || (same != nullptr && same != &i->second)) {
          // Ourselves, or a node reached by two addresses: keep one.
          drop_peer(self, *st, i);
          return;
        }
        i->second.node_id = status.node_id;
        i->second.status = status;
        i->second.status_known = true;
        self->send(i->second.handle, atom::connect::value,
                   st->own_status(), caf::actor_cast<caf::actor>(self));
        st->declared_down.erase(status.node_id);
        spdlog::info("cluster: connected to node {} at {} ({}, {} "
                     "jobs in flight)",
                     status.node_id, address, level_text(status.level),
                     status.jobs_in_flight);
        tell_dispatcher(self, *st);
      },
      [=](caf::error& err) {
        spdlog::warn("cluster: node at {} did not say who it is ({}); "
                     "dropping the connection",
                     address, self->system().render(err));
        auto i = st->peers.find(address);
        if (i != st->peers.end())
          drop_peer(self, *st, i);
      });
}

void connect(cluster_self self, const cluster_ptr& st,
             const std::string& address) {
  if (address.empty() || st->connecting.count(address) > 0
      || st->peers.count(address) > 0 || address == st->address()
      || st->peers.size() + st->connecting.size()
           >= static_cast<std::size_t>(st->opt.settings.peers_max))
    return;
  if (auto u = st->unreachable.find(address);
      u != st->unreachable.end() && steady_clock::now() < u->second.not_before)
    return;
  std::pair<std::string, std::uint16_t> target;
  try {
    target = split_address(address);
  } catch (const std::exception& e) {
    if (note_unreachable(*st, address))
      spdlog::warn("cluster: ignoring peer address: {}", e.what());
    return;
  }
  st->connecting.insert(address);
  auto connector = self->spawn<caf::detached>(connector_actor, st->tls);
  st->connectors.emplace(connector.address(), address);
  self->monitor(connector);
  self
    ->request(connector, milliseconds(connect_timeout_ms), atom::connect::value,
              target.first, target.second)
    .then(
      [=](caf::strong_actor_ptr& ptr) { on_dialled(self, st, address, ptr); },
      [=](caf::error& err) {
        // `connecting` is cleared when the connector thread ends.
        if (note_unreachable(*st, address)) {
          auto text = self->system().render(err);
          if (err == caf::sec::disconnect_during_handshake)
            text += " (the TLS handshake failed: one side's certificate is "
                    "not signed by the other's cluster.tls.ca, or one side "
                    "runs without TLS)";
          spdlog::warn("cluster: cannot connect to {}: {}", address, text);
        }
      });
}

void on_rows(cluster_self self, const cluster_ptr& st,
             std::vector<node_status>& rows) {
  // Generous: the beats of a live node go through a database that may be
  // slow, and an unconnected node may just be waiting for its dial.
  auto stale_ms = std::max(st->opt.settings.peer_timeout_ms,
                           stale_row_intervals
                             * st->opt.settings.membership_interval_ms)
                  + 2 * registry_statement_timeout_ms;
  for (auto& row : rows) {
    if (row.node_id == st->opt.node_id || row.state != "up")
      continue;
    auto* peer = st->find_by_id(row.node_id);
    if (peer == nullptr && row.heartbeat_age_ms > stale_ms) {
      // Died before we reached it, or while we could not: nobody saw its
      // connection drop, so its silence in the table is the signal.
      declare_down(self, st, row.node_id,
                   "no heartbeat for " + std::to_string(row.heartbeat_age_ms)
                     + " ms");
      continue;
    }
    // One connection per pair: two nodes dialling each other at once
    // make CAF drop one of the connections, and the proxies on it report
    // the peer down. The lower id dials; the other learns of it by hello.
    if (peer == nullptr && st->opt.node_id < row.node_id)
      connect(self, st, row.address);
  }
  for (auto& seed : st->seeds)
    connect(self, st, seed);
}

// A monitored actor ended: a connector thread, or the proxy of peers. A
// peer that did not leave gracefully is declared down (unless this node was
// stalled), and the generations running there are routed elsewhere.
void on_down(cluster_self self, const cluster_ptr& st,
             const caf::down_msg& dm) {
  if (auto c = st->connectors.find(dm.source); c != st->connectors.end()) {
    st->connecting.erase(c->second);
    st->connectors.erase(c);
    return;
  }
  // Every entry on this handle (one node reached twice holds one proxy).
  std::vector<peer_info> gone;
  for (auto i = st->peers.begin(); i != st->peers.end();) {
    if (i->second.handle.address() == dm.source) {
      gone.push_back(std::move(i->second));
      i = st->peers.erase(i);
    } else {
      ++i;
    }
  }
  std::set<std::string> declared;
  for (auto& peer : gone) {
    auto reason = self->system().render(dm.reason);
    if (dm.reason == caf::exit_reason::user_shutdown
        || dm.reason == caf::exit_reason::normal) {
      // A graceful stop: it handed its jobs back before it went.
      spdlog::info("cluster: node {} left",
                   peer.node_id.empty() ? peer.address : peer.node_id);
    } else if (st->stalled()) {
      spdlog::warn("cluster: lost the connection to {} while this node "
                   "was stalled; reconnecting instead of declaring it "
                   "down",
                   peer.node_id.empty() ? peer.address : peer.node_id);
    } else if (peer.node_id.empty()) {
      spdlog::warn("cluster: lost the connection to {} before it said who "
                   "it is ({})",
                   peer.address, reason);
    } else if (declared.insert(peer.node_id).second) {
      declare_down(self, st, peer.node_id, reason);
    }
    // Generations running there go elsewhere now, not at their timeout.
    for (auto& r : peer.routes)
      if (!r->done && r->on_peer == peer.address) {
        r->last_failure = (peer.node_id.empty() ? peer.address
                                                : peer.node_id)
                          + " went down (" + reason + ")";
        route(self, st, r);
      }
  }
  if (!gone.empty())
    tell_dispatcher(self, *st);
}

// A node that dialled this one says hello: it becomes a peer, unless it is
// this node or one already connected.
void on_hello(cluster_self self, const cluster_ptr& st, node_status& status,
              const caf::actor& handle) {
  if (!handle || status.node_id.empty()
      || status.node_id == st->opt.node_id
      || st->find_by_id(status.node_id) != nullptr
      || st->find_by_handle(handle.address()) != nullptr)
    return;
  auto key = status.address.empty() ? status.node_id : status.address;
  auto& p = st->peers[key];
  p.address = key;
  p.handle = caf::actor_cast<cluster_node_actor>(handle);
  p.node_id = status.node_id;
  p.status = std::move(status);
  p.status_known = true;
  st->connecting.erase(key);
  st->unreachable.erase(key);
  st->declared_down.erase(p.node_id);
  self->monitor(p.handle);
  spdlog::info("cluster: connected to node {} at {} (it dialled; {}, {} "
               "jobs in flight)",
               p.node_id, key, level_text(p.status.level),
               p.status.jobs_in_flight);
  tell_dispatcher(self, *st);
}

// The membership interval: notes a stall of this node, sends its status
// to its peers, writes its heartbeat (reading the table back for peers to
// dial) and schedules the next tick.
void on_tick(cluster_self self, const cluster_ptr& st) {
  auto now = steady_clock::now();
  auto late = now - st->next_tick_due;
  if (late > milliseconds(st->opt.settings.peer_timeout_ms / 2)) {
    st->stalled_until
      = now + milliseconds(2 * st->opt.settings.peer_timeout_ms);
    spdlog::warn("cluster: this node stalled for {} ms; peers may have "
                 "declared it down and rescued its jobs (its late "
                 "results are refused)",
                 std::chrono::duration_cast<milliseconds>(late).count());
  }
  st->next_tick_due
    = now + milliseconds(st->opt.settings.membership_interval_ms);
  auto own = st->own_status();
  for (auto& [address, p] : st->peers)
    self->send(p.handle, atom::pressure::value, own);
  if (!st->heartbeat_in_flight) {
    st->heartbeat_in_flight = true;
    self
      ->request(st->registry,
                milliseconds(registry_statement_timeout_ms * 2),
                atom::heartbeat::value, own)
      .then(
        [=](std::vector<node_status>& rows) {
          st->heartbeat_in_flight = false;
          on_rows(self, st, rows);
        },
        [=](caf::error& err) {
          st->heartbeat_in_flight = false;
          spdlog::error("cluster: cannot write this node's heartbeat: "
                        "{}",
                        self->system().render(err));
          // Seeds need no table.
          for (auto& seed : st->seeds)
            connect(self, st, seed);
        });
  }
  self->delayed_send(self,
                     milliseconds(st->opt.settings.membership_interval_ms),
                     atom::tick::value);
}

cluster_node_actor::behavior_type cluster_actor(cluster_self self,
                                                cluster_ptr st) {
  self->set_down_handler(
    [=](caf::down_msg& dm) { on_down(self, st, dm); });
  if (st->opt.supervisor)
    self
      ->request(st->opt.supervisor, caf::infinite, atom::subscribe::value,
                caf::actor_cast<caf::actor>(self))
      .then([](std::uint64_t) {}, [](const caf::error&) {});
  return {
    [=](atom::generate, std::string& user_id, std::int64_t now_unix_s,
        std::int64_t timeout_ms) -> caf::result<routed_generation> {
      auto r = std::make_shared<route_state>();
      r->user_id = std::move(user_id);
      // "Now" is fixed here, so a retry elsewhere generates for the same
      // instant.
      r->now_unix_s = st->opt.clock.or_now_unix_s(now_unix_s);
      r->deadline = steady_clock::now()
                    + milliseconds(timeout_ms > 0
                                     ? timeout_ms
                                     : st->opt.settings.route_timeout_ms);
      r->promise = self->make_response_promise<routed_generation>();
      route(self, st, r);
      return r->promise;
    },
    [=](atom::local, std::string& user_id, std::int64_t now_unix_s,
        std::int64_t timeout_ms) -> caf::result<routed_generation> {
      auto r = std::make_shared<route_state>();
      r->user_id = std::move(user_id);
      r->now_unix_s = st->opt.clock.or_now_unix_s(now_unix_s);
      auto limit = milliseconds(timeout_ms > 0
                                  ? timeout_ms
                                  : st->opt.settings.route_timeout_ms);
      r->deadline = steady_clock::now() + limit;
      r->promise = self->make_response_promise<routed_generation>();
      r->attempts = 1;
      r->tried.insert(st->opt.node_id);
      run_locally(self, st, r, limit);
      return r->promise;
    },
    [=](atom::status) -> node_status { return st->own_status(); },
    [=](atom::peers) -> std::vector<node_status> {
      std::vector<node_status> out{st->own_status()};
      for (auto& [address, p] : st->peers)
        if (p.status_known)
          out.push_back(p.status);
      return out;
    },
    [=](atom::connect, node_status& status, caf::actor& handle) {
      on_hello(self, st, status, handle);
    },
    [=](atom::pressure, node_status& status) {
      auto* peer = st->find_by_id(status.node_id);
      if (peer == nullptr)
        return; // not connected yet: its status comes with the hello
      status.heartbeat_age_ms = 0;
      peer->status = std::move(status);
      tell_dispatcher(self, *st);
    },
    [=](atom::pressure, const memory_status& m) {
      if (m.level == st->own_level)
        return;
      st->own_level = m.level;
      // Peers route and claim by it: tell them now, not next interval.
      auto own = st->own_status();
      for (auto& [address, p] : st->peers)
        self->send(p.handle, atom::pressure::value, own);
    },
    [=](atom::tick) { on_tick(self, st); },
  };
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  auto flush = [&] {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos)
      out.push_back(item.substr(b, e - b + 1));
    item.clear();
  };
  for (char c : text) {
    if (c == ',')
      flush();
    else
      item += c;
  }
  flush();
  return out;
}

bool readable(const std::string& path) {
  std::ifstream in{path};
  return in.good();
}

} // namespace

std::pair<std::string, std::uint16_t>
split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw std::invalid_argument("\"" + address
                                + "\" is not host:port (e.g. 10.0.0.2:4242)");
  auto host = address.substr(0, colon);
  auto port_text = address.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  long port = 0;
  try {
    std::size_t used = 0;
    port = std::stol(port_text, &used);
    if (used != port_text.size())
      port = 0;
  } catch (const std::exception&) {
    port = 0;
  }
  if (port < 1 || port > 65535)
    throw std::invalid_argument("\"" + address + "\": the port must be a "
                                "number from 1 to 65535");
  return {host, static_cast<std::uint16_t>(port)};
}

void check_cluster_security(const config::cluster_settings& c) {
  if (2 * c.heartbeat_ms > c.peer_timeout_ms)
    throw std::invalid_argument(
      "cluster.heartbeat_ms = " + std::to_string(c.heartbeat_ms)
      + " must be at most half of cluster.peer_timeout_ms = "
      + std::to_string(c.peer_timeout_ms)
      + ": an idle peer is heard only through its heartbeats, and one "
        "silent for peer_timeout_ms is declared down");
  if (c.insecure)
    return;
  std::vector<std::string> missing;
  if (c.tls_cert.empty())
    missing.push_back("cluster.tls.cert");
  if (c.tls_key.empty())
    missing.push_back("cluster.tls.key");
  if (c.tls_ca.empty())
    missing.push_back("cluster.tls.ca");
  if (!missing.empty()) {
    std::string names;
    for (auto& m : missing)
      names += (names.empty() ? "" : ", ") + m;
    throw std::invalid_argument(
      "clustering needs TLS certificates, and " + names
      + (missing.size() == 1 ? " is" : " are")
      + " not set: without them CAF would fall back to anonymous, "
        "unauthenticated TLS. Set cluster.tls.cert, cluster.tls.key and "
        "cluster.tls.ca (PEM files; the CA signs every node's certificate), "
        "or set cluster.insecure = true to cluster without TLS on a "
        "network you trust");
  }
  for (auto [key, path] : {std::pair{"cluster.tls.cert", &c.tls_cert},
                           std::pair{"cluster.tls.key", &c.tls_key},
                           std::pair{"cluster.tls.ca", &c.tls_ca}})
    if (!readable(*path))
      throw std::invalid_argument(std::string{key} + " = \"" + *path
                                  + "\": cannot read the file");
}

void configure_cluster_network(caf::actor_system_config& cfg,
                               const config::cluster_settings& c) {
  cfg.load<caf::io::middleman>();
  if (!c.insecure) {
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = c.tls_cert;
    cfg.openssl_key = c.tls_key;
    cfg.openssl_cafile = c.tls_ca;
  }
  // Without both, a hung peer (SIGSTOP, a cut link) is never noticed: the
  // socket stays open and no down message comes.
  cfg.set("middleman.heartbeat-interval",
          caf::timespan{milliseconds(c.heartbeat_ms)});
  cfg.set("middleman.connection-timeout",
          caf::timespan{milliseconds(c.peer_timeout_ms)});
}

cluster_membership join_cluster(caf::actor_system& sys,
                                cluster_options options) {
  auto st = std::make_shared<cluster_state>();
  st->tls = !options.settings.insecure;
  st->seeds = split_list(options.settings.seeds);
  st->opt = std::move(options);
  auto& c = st->opt.settings;
  // The registry first: the cluster actor may be asked to use it as soon
  // as it is published.
  st->registry = sys.spawn<caf::detached>(registry_actor, st->opt.database_url,
                                          st->opt.clock, st->opt.node_id,
                                          st->opt.version);
  auto node = sys.spawn(cluster_actor, st);
  auto stop = [&] {
    caf::anon_send_exit(node, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(st->registry, caf::exit_reason::user_shutdown);
  };
  auto port = static_cast<std::uint16_t>(c.port);
  auto published
    = st->tls ? caf::openssl::publish(node, port, c.address.c_str(), true)
              : sys.middleman().publish(node, port, c.address.c_str(), true);
  if (!published) {
    stop();
    throw std::runtime_error("cannot open the cluster endpoint on "
                             + c.address + ":" + std::to_string(c.port)
                             + ": " + sys.render(published.error()));
  }
  auto host = c.advertise.empty() ? c.address : c.advertise;
  auto address = host + ":" + std::to_string(*published);
  {
    std::lock_guard<std::mutex> lock{st->address_mtx};
    st->self_address = address;
  }
  cluster_membership m{node,    address,         *published,
                       st->tls, st->opt.node_id, st->opt.database_url,
                       st->registry};
  // Registered before the first tick, so `cluster status` lists the node
  // as soon as it says it is ready.
  try {
    storage::node_registry registry{st->opt.database_url,
                                    registry_statement_timeout_ms};
    registry.prune(node_row_keep_ms);
    // With its figures: a node killed before its first beat still shows
    // its budget. self_status, not own_status: the cluster actor already
    // runs and owns what own_status reads.
    registry.register_node(st->opt.node_id, address, st->opt.version,
                           heartbeat_of(st->opt.self_status
                                          ? st->opt.self_status()
                                          : node_status{}));
  } catch (...) {
    // Published actors keep the actor system from ending.
    leave_cluster(sys, m, false);
    throw;
  }
  caf::anon_send(node, atom::tick::value);
  spdlog::info("cluster: node {} listens on {} ({}); heartbeat {} ms, peers "
               "down after {} ms of silence",
               st->opt.node_id, address,
               st->tls ? "TLS with certificates" : "INSECURE: no TLS",
               c.heartbeat_ms, c.peer_timeout_ms);
  return m;
}

void leave_cluster(caf::actor_system& sys, const cluster_membership& m,
                   bool graceful) {
  if (!m.node)
    return;
  if (m.tls)
    // caf::openssl::unpublish of 0.17.6 does not compile (it sends the
    // manager a message shape the manager does not take); this is the
    // message the manager takes.
    caf::anon_send(sys.openssl_manager().actor_handle(),
                   caf::unpublish_atom::value, m.node.address(), m.port);
  else
    sys.middleman().unpublish(m.node, m.port);
  // Peers see the exit reason: user_shutdown says "left, nothing to
  // rescue"; kill makes them rescue this node's jobs.
  caf::anon_send_exit(m.node, graceful ? caf::exit_reason::user_shutdown
                                       : caf::exit_reason::kill);
  if (graceful) {
    caf::scoped_actor self{sys};
    self->request(m.registry, milliseconds(registry_statement_timeout_ms),
                  atom::leave::value)
      .receive([](bool) {},
               [&](caf::error& err) {
                 // Peers see the connection close and mark it down.
                 spdlog::warn("cluster: cannot record that node {} left: {}",
                              m.node_id, sys.render(err));
               });
  }
  caf::anon_send_exit(m.registry, caf::exit_reason::user_shutdown);
  spdlog::info("cluster: node {} {}", m.node_id,
               graceful ? "left" : "left without handing its jobs back");
}

routed_generation generate_via(const config::cluster_settings& settings,
                               const std::string& address,
                               const std::string& user_id,
                               std::int64_t now_unix_s,
                               milliseconds timeout) {
  auto target = split_address(address);
  check_cluster_security(settings);
  // The caller's limit covers reaching the node too.
  auto started = steady_clock::now();
  if (auto why = tcp_probe(target.first, target.second, timeout);
      !why.empty())
    throw std::runtime_error("cannot reach the node at " + address + ": "
                             + why);
  timeout -= std::chrono::duration_cast<milliseconds>(steady_clock::now()
                                                      - started);
  if (timeout.count() <= 0)
    timeout = milliseconds(1);
  system_config cfg;
  configure_cluster_network(cfg, settings);
  routed_generation out;
  std::string failure;
  {
    caf::actor_system sys{cfg};
    auto node
      = settings.insecure
          ? sys.middleman().remote_actor<cluster_node_actor>(target.first,
                                                             target.second)
          : caf::openssl::remote_actor<cluster_node_actor>(sys, target.first,
                                                           target.second);
    if (!node) {
      failure = "cannot reach the node at " + address + ": "
                + sys.render(node.error());
      if (node.error() == caf::sec::disconnect_during_handshake)
        failure += " (the TLS handshake failed: our certificate is not "
                   "signed by the node's cluster.tls.ca, its certificate is "
                   "not signed by ours, or one side runs without TLS)";
    } else {
      // The node gets a little less than the caller's limit, so its own
      // "too late" arrives before ours and says more.
      auto node_limit = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(timeout.count())
             - std::min<std::int64_t>(timeout.count() / 10, 1000));
      caf::scoped_actor self{sys};
      self
        ->request(*node, timeout, atom::generate::value, user_id, now_unix_s,
                  node_limit)
        .receive([&](routed_generation& r) { out = std::move(r); },
                 [&](caf::error& err) {
                   failure = "the node at " + address + " answered: "
                             + sys.render(err);
                   if (err == caf::sec::request_timeout)
                     failure = "no answer from the node at " + address
                               + " within "
                               + std::to_string(timeout.count()) + " ms";
                 });
    }
  }
  if (!failure.empty())
    throw std::runtime_error(failure);
  return out;
}

} // namespace catchup
