// SPDX-License-Identifier: Apache-2.0
// Joining and leaving the cluster (actors/cluster.hpp): the cluster
// settings checked and loaded into CAF, this node published, registered
// and its cluster actor started, and stopped again; and generate_via, the
// client that asks a node to generate.
#include "actors/cluster.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/cluster_detail.hpp"
#include "actors/engine_error.hpp"
#include "actors/system_config.hpp"
#include "storage/node_registry.hpp"

namespace catchup {

using namespace cluster_detail;

namespace {

/// Rows of nodes that left or died are deleted after a day.
constexpr std::int64_t node_row_keep_ms = 24LL * 3600 * 1000;

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
  bool timed_out = false;
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
                   // The node's own "too late", or none in time.
                   timed_out = err.category() == caf::atom("catchup")
                               && err.code()
                                    == static_cast<std::uint8_t>(ec::timeout);
                   if (err == caf::sec::request_timeout) {
                     timed_out = true;
                     failure = "no answer from the node at " + address
                               + " within "
                               + std::to_string(timeout.count()) + " ms";
                   }
                 });
    }
  }
  if (timed_out)
    throw engine_error(ec::timeout, failure);
  if (!failure.empty())
    throw std::runtime_error(failure);
  return out;
}

} // namespace catchup
