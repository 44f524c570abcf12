// SPDX-License-Identifier: Apache-2.0
#include "app/memory_report.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <unistd.h>

#include "core/memory.hpp"
#include "storage/process.hpp"

namespace catchup::app {

heap_peak_sampler::heap_peak_sampler()
  : thread_([this] {
      while (!done_) {
        peak_ = std::max<std::int64_t>(
          peak_, process_memory_probe::allocated_bytes());
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }) {
  // nop
}

heap_peak_sampler::~heap_peak_sampler() {
  stop();
}

std::int64_t heap_peak_sampler::stop() {
  if (thread_.joinable()) {
    done_ = true;
    thread_.join();
  }
  return peak_;
}

nlohmann::json metrics_json(const metrics_registry& registry) {
  auto out = nlohmann::json::object();
  for (auto& m : registry.snapshot()) {
    if (m.kind != metric_kind::histogram) {
      out[m.name] = m.value;
      continue;
    }
    auto buckets = nlohmann::json::array();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < m.bucket_counts.size(); ++i) {
      cumulative += m.bucket_counts[i];
      nlohmann::json le = i < m.upper_bounds.size()
                            ? nlohmann::json(m.upper_bounds[i])
                            : nlohmann::json("+Inf");
      buckets.push_back({{"le", le}, {"count", cumulative}});
    }
    out[m.name] = {{"count", m.count}, {"sum", m.sum}, {"buckets", buckets}};
  }
  return out;
}

memory_timeline::memory_timeline(std::size_t samples_max)
  : started_(std::chrono::steady_clock::now()),
    samples_max_(std::max<std::size_t>(samples_max, 2)) {
  // All of its memory now, before the engine starts: a timeline that grew
  // during the run would be measured by the very samples it records (a
  // vector doubling is a step of its whole size in the heap figure).
  points_.reserve(samples_max_);
}

void memory_timeline::record(const memory_status& x) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto elapsed = std::chrono::duration<double, std::milli>(
                   std::chrono::steady_clock::now() - started_)
                   .count();
  // Level changes are always kept: they are what the plot is about.
  bool change = !points_.empty()
                && points_.back().status.level != x.level;
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
    auto& s = p.status;
    out << static_cast<long long>(p.elapsed_ms) << ',' << s.allocated_bytes
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
  auto r = storage::run_process({gnuplot, "-e", script}, std::nullopt,
                                std::chrono::seconds(60));
  if (r.exit_code != 0)
    return "gnuplot failed (exit " + std::to_string(r.exit_code)
           + "): " + r.output;
  return {};
}

} // namespace catchup::app
