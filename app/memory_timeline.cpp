// SPDX-License-Identifier: Apache-2.0
#include "app/memory_timeline.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <poll.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

namespace catchup::app {

memory_timeline::memory_timeline(std::size_t samples_max)
  : started_(std::chrono::steady_clock::now()),
    samples_max_(std::max<std::size_t>(samples_max, 2)) {
  // All of its memory now, before the engine starts: a timeline that grew
  // during the run would be measured by the very samples it records (a
  // vector doubling is a step of its whole size in the heap figure).
  points_.reserve(samples_max_);
}

void memory_timeline::record(const memory_snapshot& x) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto elapsed = std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now() - started_)
                   .count();
  // Level changes are always kept: they are what the plot is about.
  bool change = !points_.empty()
                && points_.back().memory.level != x.level;
  if (seen_++ % stride_ != 0 && !change)
    return;
  if (points_.size() == samples_max_) {
    // Full: keep every second point, in place (no allocation), and halve
    // the rate from here on.
    std::size_t kept = 0;
    for (std::size_t i = 0; i < points_.size(); i += 2)
      points_[kept++] = points_[i];
    points_.resize(kept);
    stride_ *= 2;
  }
  points_.push_back({elapsed, x});
}

std::vector<memory_timeline::point> memory_timeline::points() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return points_;
}

void memory_timeline::write_csv(const std::string& path) const {
  std::ofstream out{path};
  if (!out)
    throw std::runtime_error("cannot write memory timeline " + path
                             + ": the file cannot be created");
  out << "elapsed_ms,allocated_bytes,resident_bytes,budget_bytes,"
         "used_percent,level,level_name\n";
  for (auto& p : points()) {
    auto& s = p.memory;
    out << static_cast<long long>(p.elapsed_ms) << ',' << s.heap_bytes
        << ',' << s.resident_bytes << ',' << s.budget_bytes << ','
        << s.used_percent << ',' << static_cast<int>(s.level) << ','
        << to_string(s.level) << '\n';
  }
  out.flush();
  if (!out)
    throw std::runtime_error("cannot write memory timeline " + path
                             + ": write failed (disk full?)");
}

namespace {

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  std::size_t from = 0;
  while (from <= dirs.size()) {
    auto to = dirs.find(':', from);
    if (to == std::string::npos)
      to = dirs.size();
    auto candidate = dirs.substr(from, to - from) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0)
      return candidate;
    from = to + 1;
  }
  return {};
}

struct program_result {
  int exit_code = 0;
  /// Standard output and error, interleaved, cut at 64 KiB.
  std::string output;
};

/// Runs `argv` with the default signal mask (this process blocks SIGINT
/// and SIGTERM for its signal thread), killed after `timeout`.
program_result run_program(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout) {
  int out[2];
  if (::pipe(out) != 0)
    return {127, std::string{"cannot make a pipe: "} + std::strerror(errno)};
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return {127, std::string{"cannot fork: "} + std::strerror(errno)};
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    ::close(out[0]);
    ::close(out[1]);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(out[1]);
  program_result r;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    pollfd p{out[0], POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) == 0) {
      ::kill(pid, SIGKILL);
      r.output += "\n(killed after " + std::to_string(timeout.count())
                  + " ms)";
      break;
    }
    auto n = ::read(out[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    if (r.output.size() < 65536)
      r.output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status)
                                  : 128 + WTERMSIG(status);
  return r;
}

} // namespace

std::string memory_timeline::plot_png(const std::string& csv_path,
                                      const std::string& png_path,
                                      const std::string& title,
                                      double critical_percent) {
  auto critical = std::to_string(critical_percent / 100.0);
  auto critical_label = std::to_string(static_cast<int>(critical_percent));
  auto gnuplot = find_program("gnuplot");
  if (gnuplot.empty())
    return "gnuplot is not installed (apt-get install gnuplot-nox); the CSV "
           "is written";
  // Heap and resident set in MiB on the left axis, the level as steps on
  // the right; the budget and the level thresholds as reference lines.
  std::string script
    = "set datafile separator ','; set terminal pngcairo size 1100,520 "
      "font ',10' noenhanced; set output '" + png_path + "';"
      "set title '" + title + "'; set xlabel 'elapsed (s)';"
      "set ylabel 'MiB'; set y2label 'pressure level';"
      "set y2range [-0.2:3.4]; set y2tics ('normal' 0, 'elevated' 1, "
      "'high' 2, 'critical' 3); set ytics nomirror; set grid;"
      "set key top left box opaque;"
      "stats '" + csv_path + "' using 4 skip 1 nooutput name 'B';"
      "set yrange [0:B_max/1048576.0*1.15];"
      "plot '" + csv_path + "' skip 1 using ($1/1000):($2/1048576.0) with "
      "lines lw 2 lc rgb '#1f77b4' title 'heap allocated', "
      "'' skip 1 using ($1/1000):($4/1048576.0) with lines dt 2 lc "
      "rgb 'black' title 'budget', "
      "'' skip 1 using ($1/1000):($4*0.6/1048576.0) with lines dt 3 lc "
      "rgb 'orange' title '60% elevated', "
      "'' skip 1 using ($1/1000):($4*" + critical + "/1048576.0) with "
      "lines dt 3 lc rgb 'red' title '" + critical_label + "% critical', "
      "'' skip 1 using ($1/1000):6 axes x1y2 with steps lw 2 lc rgb "
      "'#2ca02c' title 'level'";
  auto r = run_program({gnuplot, "-e", script}, std::chrono::seconds(60));
  if (r.exit_code != 0)
    return "gnuplot failed (exit " + std::to_string(r.exit_code)
           + "): " + r.output;
  return {};
}

} // namespace catchup::app
