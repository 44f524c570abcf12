// SPDX-License-Identifier: Apache-2.0
// `catchup bench --cluster N`: real `catchup serve` processes of this binary
// as a cluster over one database, observed the way an operator would see
// them - through the jobs table and what the nodes print. Two figures: how
// fast 1..N nodes drain a queue together, and how long a SIGKILLed node's
// jobs wait before another node holds them.

#include "app/cluster_bench.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/signals.hpp"
#include "storage/bench_support.hpp"
#include "storage/database.hpp"
#include "storage/seed.hpp"

namespace catchup::app {

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;
using std::chrono::milliseconds;

// -- the data set and the nodes' settings ------------------------------------

// 2026-11-01T09:00:00Z, as in the other benches: the seed's "now" and every
// job's, so runs on different days generate the same suggestions.
constexpr std::int64_t bench_now_unix_s = 1793523600;
// Its own seed, so its users live beside the other benches' data sets.
constexpr std::uint64_t cluster_seed = 9300;
constexpr std::int64_t contacts_per_user = 20;
// The nodes' names are this plus 1..N; the bench deletes the rows of
// earlier runs' nodes by it.
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
// What a node may print that the bench keeps (it prints a few lines per
// run at level info); older lines are dropped.
constexpr std::size_t output_lines_max = 10000;
// Lines of a node's output an error message quotes.
constexpr std::size_t error_tail_lines = 30;

double ms_between(clock_type::time_point from, clock_type::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// -- node processes ------------------------------------------------------------

// The pids of the nodes alive now, for the SIGINT/SIGTERM cleanup: the
// signal thread ends the process without unwinding, so no destructor runs.
std::mutex live_mutex;
std::set<pid_t> live_pids;

void kill_live_nodes() {
  std::lock_guard<std::mutex> guard{live_mutex};
  for (auto pid : live_pids)
    ::kill(pid, SIGKILL);
}

std::string own_executable() {
  char path[4096];
  auto n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0)
    return "/proc/self/exe";
  path[n] = '\0';
  return path;
}

/// A `catchup serve` child whose stdout and stderr lines the bench reads as
/// they come, to wait for what it says. Destroying it kills (SIGKILL) and
/// reaps it unless it has exited, so no exit path of the bench leaves a
/// node behind; and the kernel kills it should the bench die without
/// unwinding (PR_SET_PDEATHSIG).
class node_process {
public:
  /// Starts `argv` (no shell). Call from the main thread: the death signal
  /// fires when the thread that forked ends, not the process.
  node_process(std::string owner, const std::vector<std::string>& argv)
    : owner_(std::move(owner)) {
    // Everything the child needs is made before the fork: between fork and
    // exec a child of a threaded process may only make async-signal-safe
    // calls, so it must not allocate.
    std::vector<std::string> args = argv;
    std::vector<char*> c_args;
    for (auto& a : args)
      c_args.push_back(a.data());
    c_args.push_back(nullptr);
    int fds[2];
    // Close-on-exec, so that nodes started later do not hold this pipe.
    if (::pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error("cluster bench: cannot make a pipe for node "
                               + owner_);
    auto parent = ::getpid();
    std::lock_guard<std::mutex> guard{live_mutex};
    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      throw std::runtime_error("cluster bench: cannot start node " + owner_);
    }
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      // The bench may have died before the line above took effect.
      if (::getppid() != parent)
        ::_exit(127);
      // The bench blocks SIGINT/SIGTERM/SIGHUP for its signal thread; the
      // node must start with them deliverable, as from a shell.
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      auto null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0)
        ::dup2(null_fd, STDIN_FILENO);
      ::dup2(fds[1], STDOUT_FILENO);
      ::dup2(fds[1], STDERR_FILENO);
      ::execv(c_args[0], c_args.data());
      ::_exit(127);
    }
    live_pids.insert(pid_);
    ::close(fds[1]);
    fd_ = fds[0];
    reader_ = std::thread{[this] { read_output(); }};
  }

  ~node_process() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      wait(node_reap_timeout);
    }
    if (reader_.joinable())
      reader_.join();
    if (fd_ >= 0)
      ::close(fd_);
  }

  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  const std::string& owner() const {
    return owner_;
  }

  /// Waits until a line contains `part` (lines printed earlier count) or
  /// `timeout` passes; false on timeout or when the node's output ended.
  bool wait_for(const std::string& part, milliseconds timeout) {
    std::unique_lock<std::mutex> lock{mtx_};
    auto deadline = clock_type::now() + timeout;
    std::size_t seen = 0; // absolute line number
    for (;;) {
      for (seen = std::max(seen, dropped_); seen < dropped_ + lines_.size();
           ++seen)
        if (lines_[seen - dropped_].find(part) != std::string::npos)
          return true;
      if (closed_)
        return false;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout)
        return false;
    }
  }

  /// The last line containing `part`, or "".
  std::string find_line(const std::string& part) const {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto i = lines_.rbegin(); i != lines_.rend(); ++i)
      if (i->find(part) != std::string::npos)
        return *i;
    return {};
  }

  /// True once the node's output ended (it exited, as a rule).
  bool output_closed() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return closed_;
  }

  void signal(int sig) {
    if (!reaped_)
      ::kill(pid_, sig);
  }

  /// Waits up to `timeout` for the exit, then SIGKILLs it; returns the exit
  /// status, or 128 + signal.
  int wait(milliseconds timeout) {
    if (reaped_)
      return status_;
    auto deadline = clock_type::now() + timeout;
    int status = 0;
    for (;;) {
      // Looks without reaping: the pid leaves the registry first, since a
      // reaped pid may be reused and the interrupt cleanup kills by pid.
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid_), &info,
                   WEXITED | WNOHANG | WNOWAIT)
            == 0
          && info.si_pid == pid_)
        break;
      if (clock_type::now() >= deadline) {
        ::kill(pid_, SIGKILL);
        break;
      }
      // waitid has no timeout of its own; the exit closes the output,
      // which ends this wait early as a rule.
      std::unique_lock<std::mutex> lock{mtx_};
      cv_.wait_for(lock, 10ms);
    }
    forget();
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status)
                                : 128 + WTERMSIG(status);
    return status_;
  }

  /// Its last `n` lines, for error messages.
  std::string tail(std::size_t n) const {
    std::lock_guard<std::mutex> guard{mtx_};
    std::string out;
    auto from = lines_.size() > n ? lines_.size() - n : 0;
    for (auto i = from; i < lines_.size(); ++i)
      out += "  " + owner_ + "| " + lines_[i] + "\n";
    return out;
  }

private:
  void forget() {
    std::lock_guard<std::mutex> guard{live_mutex};
    live_pids.erase(pid_);
  }

  void read_output() {
    std::string line;
    char buf[4096];
    for (;;) {
      auto n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      std::lock_guard<std::mutex> guard{mtx_};
      for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] == '\n') {
          keep(std::move(line));
          line.clear();
        } else {
          line += buf[i];
        }
      }
      cv_.notify_all();
    }
    std::lock_guard<std::mutex> guard{mtx_};
    if (!line.empty())
      keep(std::move(line));
    closed_ = true;
    cv_.notify_all();
  }

  // Under mtx_.
  void keep(std::string line) {
    lines_.push_back(std::move(line));
    if (lines_.size() > output_lines_max) {
      lines_.pop_front();
      ++dropped_;
    }
  }

  std::string owner_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;
  // Lines dropped from the front of lines_.
  std::size_t dropped_ = 0;
  bool closed_ = false;
  bool reaped_ = false;
  int status_ = 0;
};

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
  cluster_bench(std::string database_url, std::vector<std::string> users,
                std::int64_t jobs_max_per_node,
                std::function<void(const std::string&)> say)
    : url_(std::move(database_url)),
      users_(std::move(users)),
      jobs_max_per_node_(jobs_max_per_node),
      say_(std::move(say)),
      queue_(url_),
      executable_(own_executable()) {
    // nop
  }

  drain_figures drain(std::int64_t n) {
    say_("bench: " + std::to_string(n) + " node(s) draining "
         + std::to_string(users_.size()) + " jobs");
    reset();
    drain_figures f;
    f.nodes = n;
    auto started = clock_type::now();
    auto nodes = start_nodes(n);
    auto enqueue_started = clock_type::now();
    f.start_ms = ms_between(started, enqueue_started);
    auto ids = queue_.enqueue_generations(users_, payload());
    auto deadline = enqueue_started + drain_timeout;
    for (;;) {
      auto counts = queue_.counts(ids);
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
    say_("bench: " + std::to_string(n) + " nodes, death-to-rescue");
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
  std::string payload() const {
    return "{\"now\": " + std::to_string(bench_now_unix_s) + "}";
  }

  // Earlier runs' jobs and nodes go, so each run starts from an empty queue
  // and a fresh membership. By the seed's e-mail domain rather than by
  // these users: an earlier run with more jobs seeded more users of it,
  // and a run that died may have left their jobs pending.
  void reset() {
    auto domain = storage::seed_user_email(1, cluster_seed);
    domain.erase(0, domain.find('@') + 1);
    queue_.reset(domain, node_prefix);
    auto others = queue_.other_open_jobs(domain);
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
        say_("bench: node " + node->owner() + " did not stop cleanly (exit "
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
    auto ids = queue_.enqueue_generations(users_, payload());
    auto deadline = clock_type::now() + first_lease_timeout;
    while (queue_.held_by(victim.owner()).empty()) {
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
    auto held = queue_.held_by(victim.owner());
    victim.signal(SIGKILL);
    auto killed_at = clock_type::now();
    victim.wait(node_reap_timeout);
    if (held.empty()) {
      say_("bench: node " + victim.owner()
           + " finished its jobs before it was killed; another try");
      nodes.pop_back();
      stop_nodes(nodes);
      return std::nullopt;
    }
    rescue_sample s;
    s.jobs_held = static_cast<std::int64_t>(held.size());
    deadline = killed_at + rescue_timeout;
    for (;;) {
      auto left = queue_.still_held(held, victim.owner());
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
    say_("bench: " + std::to_string(s.jobs_held) + " jobs taken over "
         + std::to_string(static_cast<long long>(s.rescue_ms))
         + " ms after the SIGKILL");
    nodes.pop_back();
    // How each survivor saw the death (by the closed connection, or by
    // missed heartbeats), for whoever reads the progress lines.
    for (auto& node : nodes) {
      auto line = node->find_line("node " + victim_owner + " is down");
      if (!line.empty())
        say_("bench:   " + node->owner() + "| " + line);
    }
    stop_nodes(nodes);
    return s;
  }

  std::string url_;
  std::vector<std::string> users_;
  std::int64_t jobs_max_per_node_;
  std::function<void(const std::string&)> say_;
  storage::bench_queue queue_;
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

/// Clears the interrupt cleanup when the bench ends: it points at the
/// database, which goes right after.
struct interrupt_cleanup {
  explicit interrupt_cleanup(storage::database& db) {
    auto* cluster = db.cluster();
    on_interrupt([cluster] {
      kill_live_nodes();
      if (cluster == nullptr)
        return;
      try {
        // Only the owner stops it; `stop` is a no-op if it was shared.
        if (cluster->status().owner == std::to_string(::getpid()))
          cluster->stop();
      } catch (...) {
        // Exiting anyway; the next run adopts or restarts the server.
      }
    });
  }
  ~interrupt_cleanup() {
    on_interrupt({});
  }
  interrupt_cleanup(const interrupt_cleanup&) = delete;
  interrupt_cleanup& operator=(const interrupt_cleanup&) = delete;
};

} // namespace

int run_cluster_bench(const config::settings& settings,
                      const cluster_bench_options& options) {
  if (options.nodes_max < 1 || options.nodes_max > cluster_bench_nodes_max)
    throw std::invalid_argument(
      "cluster bench: nodes must be 1.." + std::to_string(cluster_bench_nodes_max));
  if (options.jobs < 1 || options.jobs > cluster_bench_jobs_max)
    throw std::invalid_argument(
      "cluster bench: jobs must be 1.." + std::to_string(cluster_bench_jobs_max));
  auto say = [](const std::string& line) {
    // Progress goes to stderr so that --json output stays parseable.
    std::fprintf(stderr, "%s\n", line.c_str());
  };
  // Declared before everything that uses it: the nodes are gone before the
  // database (and a private cluster this process started) closes.
  auto db = storage::database::open(settings.database);
  interrupt_cleanup cleanup{*db};
  say("bench: database "
      + (db->embedded() ? "private cluster in " + settings.database.data_dir
                        : std::string{"external server"})
      + ", now = 2026-11-01T09:00:00Z, nodes " + own_executable() + " serve");

  storage::seed_options seed;
  seed.users = options.jobs;
  seed.contacts_per_user = contacts_per_user;
  seed.seed = cluster_seed;
  seed.now_unix_s = bench_now_unix_s;
  auto users = storage::seeded_users(db->url(), seed);
  if (users.empty()) {
    say("bench: seeding " + std::to_string(options.jobs) + " users x "
        + std::to_string(contacts_per_user) + " contacts; kept for later runs");
    users = storage::seed(db->url(), seed).user_ids;
  }

  cluster_bench bench{db->url(), std::move(users), settings.node.jobs_max,
                      say};
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

} // namespace catchup::app
