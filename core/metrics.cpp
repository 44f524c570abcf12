// SPDX-License-Identifier: Apache-2.0
#include "core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace catchup {

namespace {

// Adds `delta` to an atomic double; std::atomic<double>::fetch_add is C++20.
void atomic_add(std::atomic<double>& target, double delta) noexcept {
  auto old = target.load(std::memory_order_relaxed);
  // A failed exchange reloads `old`, so each retry adds to the latest value.
  while (!target.compare_exchange_weak(old, old + delta,
                                       std::memory_order_relaxed)) {
    // nop
  }
}

// A number as Prometheus parses it: "+Inf", "-Inf", "NaN"; integral values
// below 10^15 without exponent or fraction (so bounds read "1000", not
// "1e+03"); else the shortest text that reads back as the same double.
std::string format_number(double v) {
  if (std::isnan(v))
    return "NaN";
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::abs(v) < 1e15)
    return std::to_string(static_cast<std::int64_t>(v));
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void) ec; // 32 bytes hold any double's shortest form
  return std::string(buf, end);
}

// Help text escaped as the format requires: backslash and newline.
std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

bool is_name_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'
         || c == ':';
}

bool is_name_char(char c) noexcept {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

// Throws unless `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*.
void check_name(std::string_view name) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("metric name \"" + std::string(name)
                                + "\" is invalid: " + why);
  };
  if (name.empty())
    fail("it is empty");
  if (!is_name_start(name[0]))
    fail("it must start with a letter, '_' or ':', not '"
         + std::string(1, name[0]) + "'");
  for (std::size_t i = 1; i < name.size(); ++i)
    if (!is_name_char(name[i]))
      fail("character '" + std::string(1, name[i]) + "' at position "
           + std::to_string(i) + " is not a letter, digit, '_' or ':'");
}

// Throws unless `bounds` are finite and strictly ascending.
void check_bounds(std::string_view name, const std::vector<double>& bounds) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument("histogram \"" + std::string(name)
                                + "\": " + why);
  };
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]))
      fail("upper bound " + format_number(bounds[i]) + " at index "
           + std::to_string(i) + " is not finite (the +Inf bucket is "
           + "implicit)");
    if (i > 0 && !(bounds[i - 1] < bounds[i]))
      fail("upper bounds must be strictly ascending, but "
           + format_number(bounds[i]) + " at index " + std::to_string(i)
           + " follows " + format_number(bounds[i - 1]));
  }
}

} // namespace

std::string_view to_string(metric_kind kind) noexcept {
  switch (kind) {
    case metric_kind::counter: return "counter";
    case metric_kind::gauge: return "gauge";
    case metric_kind::histogram: return "histogram";
  }
  return "counter";
}

std::vector<double> default_duration_buckets_seconds() {
  return {0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,  0.5,   1,     2.5,  5,     10};
}

std::vector<double> default_size_buckets_bytes() {
  std::vector<double> bounds;
  for (double b = 16 * 1024.0; b <= 1024.0 * 1024 * 1024; b *= 4)
    bounds.push_back(b);
  return bounds;
}

metric::metric(std::string_view name, std::string_view help, metric_kind kind)
  : name_(name), help_(help), kind_(kind) {
  // nop
}

counter::counter(std::string_view name, std::string_view help)
  : metric(name, help, metric_kind::counter) {
  // nop
}

gauge::gauge(std::string_view name, std::string_view help)
  : metric(name, help, metric_kind::gauge) {
  // nop
}

void gauge::add(double delta) noexcept {
  atomic_add(value_, delta);
}

histogram::histogram(std::string_view name, std::string_view help,
                     std::vector<double> upper_bounds)
  : metric(name, help, metric_kind::histogram),
    upper_bounds_(std::move(upper_bounds)),
    buckets_(upper_bounds_.size() + 1) {
  // nop: value-initialized atomics start at 0
}

void histogram::observe(double v) noexcept {
  // The first bound >= v; past the end (also for NaN, which compares false
  // with everything) is the +Inf bucket.
  auto i = upper_bounds_.size();
  if (!std::isnan(v))
    i = static_cast<std::size_t>(
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), v)
      - upper_bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

std::vector<std::uint64_t> histogram::bucket_counts() const {
  std::vector<std::uint64_t> counts;
  counts.reserve(buckets_.size());
  for (auto& b : buckets_)
    counts.push_back(b.load(std::memory_order_relaxed));
  return counts;
}

std::uint64_t histogram::count() const noexcept {
  std::uint64_t n = 0;
  for (auto& b : buckets_)
    n += b.load(std::memory_order_relaxed);
  return n;
}

metric* metrics_registry::find(std::string_view name, metric_kind kind) const {
  auto i = by_name_.find(name);
  if (i == by_name_.end())
    return nullptr;
  if (i->second->kind() != kind)
    throw std::invalid_argument("metric \"" + std::string(name)
                                + "\" is already registered as a "
                                + std::string(to_string(i->second->kind()))
                                + ", not a " + std::string(to_string(kind)));
  return i->second;
}

void metrics_registry::add(std::unique_ptr<metric> m) {
  by_name_.emplace(m->name(), m.get());
  metrics_.push_back(std::move(m));
}

counter& metrics_registry::counter_named(std::string_view name,
                                         std::string_view help) {
  check_name(name);
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto m = find(name, metric_kind::counter))
    return static_cast<counter&>(*m);
  auto* c = new counter(name, help);
  add(std::unique_ptr<metric>(c));
  return *c;
}

gauge& metrics_registry::gauge_named(std::string_view name,
                                     std::string_view help) {
  check_name(name);
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto m = find(name, metric_kind::gauge))
    return static_cast<gauge&>(*m);
  auto* g = new gauge(name, help);
  add(std::unique_ptr<metric>(g));
  return *g;
}

histogram& metrics_registry::histogram_named(std::string_view name,
                                             std::string_view help,
                                             std::vector<double> upper_bounds) {
  check_name(name);
  check_bounds(name, upper_bounds);
  std::lock_guard<std::mutex> guard{mutex_};
  if (auto m = find(name, metric_kind::histogram)) {
    auto& h = static_cast<histogram&>(*m);
    // Silently handing back other buckets would hide a mistake.
    if (h.upper_bounds() != upper_bounds)
      throw std::invalid_argument("histogram \"" + std::string(name)
                                  + "\" is already registered with other "
                                  + "upper bounds");
    return h;
  }
  auto* h = new histogram(name, help, std::move(upper_bounds));
  add(std::unique_ptr<metric>(h));
  return *h;
}

std::size_t metrics_registry::size() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return metrics_.size();
}

std::vector<metric_snapshot> metrics_registry::snapshot() const {
  std::lock_guard<std::mutex> guard{mutex_};
  std::vector<metric_snapshot> out;
  out.reserve(metrics_.size());
  for (auto& m : metrics_) {
    metric_snapshot s;
    s.name = m->name();
    s.help = m->help();
    s.kind = m->kind();
    switch (m->kind()) {
      case metric_kind::counter:
        s.value = static_cast<double>(static_cast<counter&>(*m).value());
        break;
      case metric_kind::gauge:
        s.value = static_cast<gauge&>(*m).value();
        break;
      case metric_kind::histogram: {
        auto& h = static_cast<histogram&>(*m);
        s.upper_bounds = h.upper_bounds();
        s.bucket_counts = h.bucket_counts();
        for (auto n : s.bucket_counts)
          s.count += n;
        s.sum = h.sum();
        break;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

std::string metrics_registry::render_prometheus() const {
  std::string out;
  for (auto& s : snapshot()) {
    out += "# HELP " + s.name + ' ' + escape_help(s.help) + '\n';
    out += "# TYPE " + s.name + ' ' + std::string(to_string(s.kind)) + '\n';
    if (s.kind != metric_kind::histogram) {
      out += s.name + ' ' + format_number(s.value) + '\n';
      continue;
    }
    // The format wants cumulative counts: bucket i counts every value <=
    // its bound.
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < s.bucket_counts.size(); ++i) {
      cumulative += s.bucket_counts[i];
      auto le = i < s.upper_bounds.size() ? format_number(s.upper_bounds[i])
                                          : std::string("+Inf");
      out += s.name + "_bucket{le=\"" + le + "\"} "
             + std::to_string(cumulative) + '\n';
    }
    out += s.name + "_sum " + format_number(s.sum) + '\n';
    out += s.name + "_count " + std::to_string(s.count) + '\n';
  }
  return out;
}

} // namespace catchup
