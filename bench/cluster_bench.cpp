// SPDX-License-Identifier: Apache-2.0
// `catchup bench --cluster N`: real `catchup serve` processes of this binary
// as a cluster over one database, observed the way an operator would see
// them - through the jobs table and what the nodes print. Two figures: how
// fast 1..N nodes drain a queue together, and how long a SIGKILLed node's
// jobs wait before another node holds them.

#include "bench/cluster_bench.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <catchup/admin.hpp>
#include <catchup/engine.hpp>

#include "bench/bench_support.hpp"
#include "bench/node_process.hpp"

namespace catchup::bench {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

// -- the data set and the nodes' settings ------------------------------------

// bench_now_unix_s is the seed's "now" and every job's, so runs on
// different days generate the same suggestions. The data set has its own
// seed, so its users live beside the other benches' data sets.
constexpr std::uint64_t cluster_seed = 9300;
constexpr std::int64_t contacts_per_user = 20;
// The nodes' names are this plus 1..N; by these names the bench forgets
// the rows its earlier runs' nodes left.
constexpr const char* node_prefix = "bench-";
// Long, so that only the cluster's rescue can be fast: a lease running out
// by itself would take this long.
constexpr std::int64_t node_lease_ms = 30000;
// As the cluster tests: a stopped node is noticed within 2 s, a killed one
// at once (its connection closes).
constexpr std::int64_t peer_timeout_ms = 2000;
constexpr std::int64_t heartbeat_ms = 250;
constexpr std::int64_t membership_interval_ms = 250;
// Death-to-rescue samples per node count.
constexpr int rescue_samples = 3;
// A sample is lost when the node finished every job it held between the
// bench's look and the kill; give up after this many tries in all.
constexpr int rescue_tries_max = 2 * rescue_samples;

// -- limits on every wait ----------------------------------------------------

// A node opens its database connections and its actor system.
constexpr auto node_ready_timeout = 60s;
// Peers find each other in the nodes table every membership interval.
constexpr auto nodes_connected_timeout = 30s;
// Far above what 100,000 jobs of 20 contacts take on one node.
constexpr auto drain_timeout = 600s;
// The queue is full when the wait starts: any node claims within its first
// wake-up.
constexpr auto first_lease_timeout = 30s;
// Far below the 30 s lease: a rescue as slow as this was not the cluster's.
constexpr auto rescue_timeout = 30s;
// SIGTERM: a node finishes its jobs in flight (milliseconds each here) and
// hands the rest back.
constexpr auto node_stop_timeout = 60s;
// After SIGKILL the kernel ends a process at once; reaping is bounded all
// the same.
constexpr auto node_reap_timeout = 10s;
// The victim is stopped before the bench reads its leases, so it cannot
// claim more meanwhile; a statement it sent before the stop still commits
// on the server within this (far less than the peer timeout, so the peers
// do not notice the stop).
constexpr auto stopped_settle = 50ms;
constexpr auto drain_poll = 20ms;
constexpr auto lease_poll = 1ms;
constexpr auto rescue_poll = 1ms;
// Lines of a node's output an error message quotes.
constexpr std::size_t error_tail_lines = 30;

double ms_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

using node_list = std::vector<std::unique_ptr<node_process>>;

std::string tails(const node_list& nodes) {
  std::string out;
  for (auto& n : nodes)
    out += n->tail(error_tail_lines);
  return out;
}

// -- figures -------------------------------------------------------------------

struct drain_figures {
  std::int64_t nodes = 0;
  double start_ms = 0;
  double drain_ms = 0;
  double jobs_per_s = 0;
  std::int64_t failed = 0;
  /// Jobs each node completed, as it said when it stopped (-1: it did not
  /// say).
  std::vector<std::int64_t> completed_per_node;
};

struct rescue_sample {
  std::int64_t jobs_held = 0;
  double rescue_ms = 0;
};

struct rescue_figures {
  std::int64_t nodes = 0;
  std::vector<rescue_sample> samples;
  double median_ms = 0;
  double max_ms = 0;
};

// -- one bench run ---------------------------------------------------------------

class cluster_bench {
public:
  /// Watches the queue through `eng` (which holds the database open) and
  /// manages the nodes table through `config`, the engine's configuration.
  cluster_bench(engine& eng, engine_config config,
                std::vector<std::string> users,
                std::int64_t jobs_max_per_node)
    : eng_(eng),
      config_(std::move(config)),
      url_(eng.database_url()),
      users_(std::move(users)),
      jobs_max_per_node_(jobs_max_per_node),
      executable_(own_executable()) {
    // nop
  }

  drain_figures drain(std::int64_t n) {
    say("bench: " + std::to_string(n) + " node(s) draining "
         + std::to_string(users_.size()) + " jobs");
    reset();
    drain_figures f;
    f.nodes = n;
    auto started = clock_type::now();
    auto nodes = start_nodes(n);
    auto enqueue_started = clock_type::now();
    f.start_ms = ms_between(started, enqueue_started);
    auto ids = enqueue_all();
    auto deadline = enqueue_started + drain_timeout;
    for (;;) {
      auto counts = checked(admin::count_jobs(eng_, ids));
      if (counts.pending + counts.running == 0) {
        f.drain_ms = ms_between(enqueue_started, clock_type::now());
        f.failed = counts.failed + counts.cancelled;
        break;
      }
      if (clock_type::now() >= deadline)
        throw std::runtime_error(
          "cluster bench: " + std::to_string(n) + " node(s) did not drain "
          + std::to_string(ids.size()) + " jobs within "
          + std::to_string(drain_timeout.count()) + " s ("
          + std::to_string(counts.pending) + " pending, "
          + std::to_string(counts.running) + " running); the nodes said:\n"
          + tails(nodes));
      std::this_thread::sleep_for(drain_poll);
    }
    f.jobs_per_s = static_cast<double>(ids.size()) * 1000.0 / f.drain_ms;
    f.completed_per_node = stop_nodes(nodes);
    return f;
  }

  rescue_figures rescue(std::int64_t n) {
    say("bench: " + std::to_string(n) + " nodes, death-to-rescue");
    rescue_figures f;
    f.nodes = n;
    for (int tries = 0; static_cast<int>(f.samples.size()) < rescue_samples;
         ++tries) {
      if (tries == rescue_tries_max)
        throw std::runtime_error(
          "cluster bench: only " + std::to_string(f.samples.size()) + " of "
          + std::to_string(rescue_tries_max) + " tries killed a node that "
          "still held a job (it finished them between the bench's look and "
          "the kill)");
      if (auto s = rescue_once(n))
        f.samples.push_back(*s);
    }
    std::vector<double> ms;
    for (auto& s : f.samples)
      ms.push_back(s.rescue_ms);
    std::sort(ms.begin(), ms.end());
    f.median_ms = ms[ms.size() / 2];
    f.max_ms = ms.back();
    return f;
  }

  std::int64_t jobs_max_per_node() const {
    return jobs_max_per_node_;
  }

private:
  // A generation job for every user, in one statement: the nodes, idle and
  // connected, are woken once and find them all. Returns the jobs' ids.
  std::vector<std::int64_t> enqueue_all() {
    admin::job_batch batch;
    batch.kind = "generate";
    batch.user_ids = users_;
    batch.payload_json
      = "{\"now\": " + std::to_string(bench_now_unix_s) + "}";
    std::vector<std::int64_t> ids;
    for (auto& job : checked(admin::enqueue_batch(eng_, batch)))
      ids.push_back(job.id);
    return ids;
  }

  // Pending or running jobs in the queue, up to the most one list holds.
  std::int64_t open_jobs() {
    constexpr std::size_t listed_max = 100000;
    std::int64_t out = 0;
    for (const char* state : {"pending", "running"})
      out += static_cast<std::int64_t>(
        checked(admin::list_jobs(config_, state, listed_max)).size());
    return out;
  }

  // How many of `held` (ascending) `owner` still holds: the job is running
  // under its lease (an ended lease nobody took over yet counts).
  std::int64_t still_held(const std::vector<std::int64_t>& held,
                          const std::string& owner) {
    auto now = checked(admin::jobs_held_by(eng_, owner));
    std::vector<std::int64_t> both;
    std::set_intersection(held.begin(), held.end(), now.begin(), now.end(),
                          std::back_inserter(both));
    return static_cast<std::int64_t>(both.size());
  }

  // Earlier runs' jobs and nodes go, so each run starts from an empty queue
  // and a fresh membership. By the seed rather than by these users: an
  // earlier run with more jobs seeded more users of it, and a run that died
  // may have left their jobs pending.
  void reset() {
    checked(admin::delete_demo_jobs(eng_, cluster_seed));
    for (std::int64_t i = 1; i <= cluster_bench_nodes_max; ++i)
      checked(admin::forget_node(config_, node_prefix + std::to_string(i)));
    auto others = open_jobs();
    if (others > 0)
      throw std::runtime_error(
        "cluster bench: the database holds " + std::to_string(others)
        + " pending or running jobs of other users, which the bench's nodes "
          "would take too and so skew its figures; let them finish, or run "
          "the bench on a database of its own (--database-data-dir)");
  }

  std::vector<std::string> node_args(const std::string& owner) const {
    return {executable_,
            "serve",
            "--database-url",
            url_,
            "--node-owner",
            owner,
            "--node-lease-ms",
            std::to_string(node_lease_ms),
            "--node-jobs-max",
            std::to_string(jobs_max_per_node_),
            "--schedule-generate-interval-ms",
            "0",
            "--http-port",
            "0",
            "--cluster-enabled",
            "true",
            "--cluster-insecure",
            "true",
            "--cluster-port",
            "0",
            "--cluster-peer-timeout-ms",
            std::to_string(peer_timeout_ms),
            "--cluster-heartbeat-ms",
            std::to_string(heartbeat_ms),
            "--cluster-membership-interval-ms",
            std::to_string(membership_interval_ms),
            // The bench reads the nodes' "connected to node" lines, which
            // are logged at info.
            "--log-level",
            "info",
            "--log-format",
            "text"};
  }

  // Starts `n` nodes at once and returns when every one is ready and
  // connected to every other.
  node_list start_nodes(std::int64_t n) {
    node_list nodes;
    for (std::int64_t i = 1; i <= n; ++i) {
      auto owner = node_prefix + std::to_string(i);
      nodes.push_back(std::make_unique<node_process>(owner, node_args(owner)));
    }
    for (auto& node : nodes)
      if (!node->wait_for("catchup serve: node " + node->owner() + " ready",
                          node_ready_timeout))
        throw std::runtime_error(
          "cluster bench: node " + node->owner()
          + (node->output_closed()
               ? " exited before it was ready"
               : " was not ready within "
                   + std::to_string(node_ready_timeout.count()) + " s")
          + "; it said:\n" + node->tail(error_tail_lines));
    for (auto& from : nodes)
      for (auto& to : nodes)
        if (from != to
            && !from->wait_for("cluster: connected to node " + to->owner()
                                 + " at ",
                               nodes_connected_timeout))
          throw std::runtime_error(
            "cluster bench: node " + from->owner()
            + " did not connect to node " + to->owner() + " within "
            + std::to_string(nodes_connected_timeout.count())
            + " s; the nodes said:\n" + tails(nodes));
    return nodes;
  }

  // SIGTERM to all at once (each finishes or hands back what it holds),
  // then what each says it completed.
  std::vector<std::int64_t> stop_nodes(node_list& nodes) {
    for (auto& node : nodes)
      node->signal(SIGTERM);
    std::vector<std::int64_t> completed;
    for (auto& node : nodes) {
      auto status = node->wait(node_stop_timeout);
      auto line = node->find_line("catchup serve: stopped; ");
      unsigned long long n = 0;
      auto at = line.find("stopped; ");
      if (status != 0 || at == std::string::npos
          || std::sscanf(line.c_str() + at, "stopped; %llu jobs completed",
                         &n)
               != 1) {
        say("bench: node " + node->owner() + " did not stop cleanly (exit "
             + std::to_string(status) + "); it said:\n"
             + node->tail(error_tail_lines));
        completed.push_back(-1);
        continue;
      }
      completed.push_back(static_cast<std::int64_t>(n));
    }
    return completed;
  }

  // One sample: the last node dies holding leases; nullopt if it held none
  // by the time it was stopped.
  std::optional<rescue_sample> rescue_once(std::int64_t n) {
    reset();
    auto nodes = start_nodes(n);
    auto& victim = *nodes.back();
    auto victim_owner = victim.owner();
    auto ids = enqueue_all();
    auto deadline = clock_type::now() + first_lease_timeout;
    while (checked(admin::jobs_held_by(eng_, victim.owner())).empty()) {
      if (clock_type::now() >= deadline)
        throw std::runtime_error(
          "cluster bench: node " + victim.owner() + " held no lease within "
          + std::to_string(first_lease_timeout.count()) + " s of the enqueue "
          "of " + std::to_string(ids.size()) + " jobs; the nodes said:\n"
          + tails(nodes));
      std::this_thread::sleep_for(lease_poll);
    }
    // Stopped first, so that what it holds cannot change before the kill:
    // read after the kill, the peers may have taken some jobs over already.
    victim.signal(SIGSTOP);
    std::this_thread::sleep_for(stopped_settle);
    auto held = checked(admin::jobs_held_by(eng_, victim.owner()));
    victim.signal(SIGKILL);
    auto killed_at = clock_type::now();
    victim.wait(node_reap_timeout);
    if (held.empty()) {
      say("bench: node " + victim.owner()
           + " finished its jobs before it was killed; another try");
      nodes.pop_back();
      stop_nodes(nodes);
      return std::nullopt;
    }
    rescue_sample s;
    s.jobs_held = static_cast<std::int64_t>(held.size());
    deadline = killed_at + rescue_timeout;
    for (;;) {
      auto left = still_held(held, victim.owner());
      if (left == 0) {
        s.rescue_ms = ms_between(killed_at, clock_type::now());
        break;
      }
      if (clock_type::now() >= deadline)
        throw std::runtime_error(
          "cluster bench: " + std::to_string(left) + " of the "
          + std::to_string(held.size()) + " jobs node " + victim.owner()
          + " held were not taken over within "
          + std::to_string(rescue_timeout.count())
          + " s of its SIGKILL; the nodes said:\n" + tails(nodes));
      std::this_thread::sleep_for(rescue_poll);
    }
    say("bench: " + std::to_string(s.jobs_held) + " jobs taken over "
         + std::to_string(static_cast<long long>(s.rescue_ms))
         + " ms after the SIGKILL");
    nodes.pop_back();
    // How each survivor saw the death (by the closed connection, or by
    // missed heartbeats), for whoever reads the progress lines.
    for (auto& node : nodes) {
      auto line = node->find_line("node " + victim_owner + " is down");
      if (!line.empty())
        say("bench:   " + node->owner() + "| " + line);
    }
    stop_nodes(nodes);
    return s;
  }

  engine& eng_;
  engine_config config_;
  std::string url_;
  std::vector<std::string> users_;
  std::int64_t jobs_max_per_node_;
  std::string executable_;
};

// -- output ----------------------------------------------------------------------

std::string per_node_text(const std::vector<std::int64_t>& completed) {
  std::string out;
  for (auto c : completed)
    out += (out.empty() ? "" : " / ")
           + (c < 0 ? std::string{"?"} : std::to_string(c));
  return out;
}

const char* meaning_text =
  "start: from starting the first node until every node is ready and "
  "connected to every other. drain: from enqueueing all jobs (one statement, "
  "nodes idle and connected) until none is pending or running; jobs/s = "
  "jobs / drain. death-to-rescue: from the SIGKILL of a node holding leases "
  "(30 s long) until another node holds, or has finished, every job it held; "
  "without the cluster those jobs would wait for the lease to run out. All "
  "nodes share this machine's cores and one PostgreSQL server.";

void print_figures(std::int64_t jobs, std::int64_t jobs_max_per_node,
                   const std::vector<drain_figures>& drains,
                   const std::vector<rescue_figures>& rescues) {
  std::printf("\ncluster: %lld generation jobs per run (users of %lld "
              "contacts), `catchup serve` nodes on this machine (%u cores), "
              "%lld jobs at once per node\n\n",
              static_cast<long long>(jobs),
              static_cast<long long>(contacts_per_user),
              std::thread::hardware_concurrency(),
              static_cast<long long>(jobs_max_per_node));
  std::printf("%5s  %10s  %10s  %9s  %6s  %s\n", "nodes", "start ms",
              "drain ms", "jobs/s", "failed", "completed by each node");
  for (auto& f : drains)
    std::printf("%5lld  %10.1f  %10.1f  %9.1f  %6lld  %s\n",
                static_cast<long long>(f.nodes), f.start_ms, f.drain_ms,
                f.jobs_per_s, static_cast<long long>(f.failed),
                per_node_text(f.completed_per_node).c_str());
  if (!rescues.empty()) {
    std::printf("\ndeath-to-rescue (SIGKILL of node %s<nodes>):\n",
                node_prefix);
    std::printf("%5s  %7s  %10s  %10s  %10s  %s\n", "nodes", "samples",
                "jobs held", "median ms", "max ms", "each ms");
    for (auto& f : rescues) {
      std::string held;
      std::string each;
      for (auto& s : f.samples) {
        held += (held.empty() ? "" : "/") + std::to_string(s.jobs_held);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", s.rescue_ms);
        each += (each.empty() ? "" : " / ") + std::string{buf};
      }
      std::printf("%5lld  %7zu  %10s  %10.1f  %10.1f  %s\n",
                  static_cast<long long>(f.nodes), f.samples.size(),
                  held.c_str(), f.median_ms, f.max_ms, each.c_str());
    }
  }
  std::printf("\n%s\n", meaning_text);
}

nlohmann::json figures_json(std::int64_t jobs, std::int64_t jobs_max_per_node,
                            const std::vector<drain_figures>& drains,
                            const std::vector<rescue_figures>& rescues) {
  auto drain_rows = nlohmann::json::array();
  for (auto& f : drains)
    drain_rows.push_back({{"nodes", f.nodes},
                          {"start_ms", f.start_ms},
                          {"drain_ms", f.drain_ms},
                          {"jobs_per_s", f.jobs_per_s},
                          {"failed", f.failed},
                          {"completed_per_node", f.completed_per_node}});
  auto rescue_rows = nlohmann::json::array();
  for (auto& f : rescues) {
    auto samples = nlohmann::json::array();
    for (auto& s : f.samples)
      samples.push_back(
        {{"jobs_held", s.jobs_held}, {"rescue_ms", s.rescue_ms}});
    rescue_rows.push_back({{"nodes", f.nodes},
                           {"samples", samples},
                           {"median_ms", f.median_ms},
                           {"max_ms", f.max_ms}});
  }
  return {{"jobs", jobs},
          {"contacts_per_user", contacts_per_user},
          {"jobs_max_per_node", jobs_max_per_node},
          {"cores", std::thread::hardware_concurrency()},
          {"node_lease_ms", node_lease_ms},
          {"peer_timeout_ms", peer_timeout_ms},
          {"drain", drain_rows},
          {"rescue", rescue_rows},
          {"meaning", meaning_text}};
}

/// While it lives, SIGINT or SIGTERM (through `set`, the host's signal
/// plumbing) kill the nodes and stop the private database if this process
/// started it: the signal thread ends the process without unwinding.
/// Cleared when the bench ends, before the engine that holds the database
/// closes.
class interrupt_cleanup {
public:
  interrupt_cleanup(cluster_bench_options::interrupt_setter set,
                    const engine_config& config)
    : set_(std::move(set)) {
    if (!set_)
      return;
    set_([config] {
      kill_live_nodes();
      // Only the process that started it stops it.
      (void) admin::stop_database_if_started_here(config);
    });
  }
  ~interrupt_cleanup() {
    if (set_)
      set_({});
  }
  interrupt_cleanup(const interrupt_cleanup&) = delete;
  interrupt_cleanup& operator=(const interrupt_cleanup&) = delete;

private:
  cluster_bench_options::interrupt_setter set_;
};

} // namespace

int run_cluster_bench(const engine_config& config,
                      const cluster_bench_options& options) {
  if (options.nodes_max < 1 || options.nodes_max > cluster_bench_nodes_max)
    throw std::invalid_argument(
      "cluster bench: nodes must be 1.." + std::to_string(cluster_bench_nodes_max));
  if (options.jobs < 1 || options.jobs > cluster_bench_jobs_max)
    throw std::invalid_argument(
      "cluster bench: jobs must be 1.." + std::to_string(cluster_bench_jobs_max));
  auto bench_engine_config = bench_config(config);
  bench_settings settings{bench_engine_config};
  // Declared before everything that uses it: the nodes are gone before the
  // engine, and with it the database (and a private cluster this process
  // started), closes.
  auto e = checked(engine::open(bench_engine_config));
  interrupt_cleanup cleanup{options.on_interrupt, bench_engine_config};
  say("bench: database "
      + (e.embedded_database()
           ? "private cluster in " + settings.value("database.data_dir")
           : std::string{"external server"})
      + ", now = 2026-11-01T09:00:00Z, nodes " + own_executable() + " serve");

  admin::seed_params seed;
  seed.users = options.jobs;
  seed.contacts_per_user = contacts_per_user;
  seed.seed = cluster_seed;
  seed.now_unix_s = bench_now_unix_s;
  auto users = checked(admin::seeded_users(e, seed));
  if (users.empty()) {
    say("bench: seeding " + std::to_string(options.jobs) + " users x "
        + std::to_string(contacts_per_user) + " contacts; kept for later runs");
    users = checked(admin::seed(e, seed)).user_ids;
  }

  cluster_bench bench{e, bench_engine_config, std::move(users),
                      settings.integer("node.jobs_max")};
  std::vector<drain_figures> drains;
  std::vector<rescue_figures> rescues;
  for (std::int64_t n = 1; n <= options.nodes_max; ++n)
    drains.push_back(bench.drain(n));
  for (std::int64_t n = 2; n <= options.nodes_max; ++n)
    rescues.push_back(bench.rescue(n));

  if (options.as_json)
    std::cout << figures_json(options.jobs, bench.jobs_max_per_node(), drains,
                              rescues)
                   .dump(2)
              << '\n';
  else
    print_figures(options.jobs, bench.jobs_max_per_node(), drains, rescues);
  return 0;
}

} // namespace catchup::bench
