// SPDX-License-Identifier: Apache-2.0
// The metrics registry: exact counts under concurrent updates, inclusive
// histogram bounds, registration rules, and the Prometheus text format.

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.hpp"

using namespace catchup;

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// True if calling `f` throws std::invalid_argument whose message contains
// `needle`.
template <class F>
bool throws_naming(F f, const std::string& needle) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return std::string(e.what()).find(needle) != std::string::npos;
  }
  return false;
}

} // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(counters_added_from_four_threads_sum_exactly) {
  metrics_registry r;
  auto& c = r.counter_named("adds_total", "Adds.");
  constexpr int threads = 4;
  constexpr int adds = 100'000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < adds; ++i)
        c.add();
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(c.value() == std::int64_t{threads} * adds);
  c.add(5);
  c.add(-3); // ignored: a counter never goes down
  BOOST_TEST(c.value() == std::int64_t{threads} * adds + 5);
}

BOOST_AUTO_TEST_CASE(gauges_are_set_and_added_to) {
  metrics_registry r;
  auto& g = r.gauge_named("queue_length", "Queued items.");
  BOOST_TEST(g.value() == 0);
  g.set(10);
  g.add(2.5);
  g.add(-4);
  BOOST_TEST(g.value() == 8.5);
  // Concurrent adds of exactly representable values lose nothing.
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t)
    workers.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i)
        g.add(1);
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(g.value() == 40'008.5);
}

BOOST_AUTO_TEST_CASE(histogram_bounds_are_inclusive_and_overflow_goes_to_inf) {
  metrics_registry r;
  auto& h = r.histogram_named("latency_ms", "Latency.", {1, 5, 10});
  for (double v : {0.5, 1.0, 1.5, 5.0, 10.0, 10.5, 1000.0})
    h.observe(v);
  // (..1]: 0.5, 1   (1..5]: 1.5, 5   (5..10]: 10   +Inf: 10.5, 1000
  BOOST_TEST(h.bucket_counts() == (std::vector<std::uint64_t>{2, 2, 1, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(h.count() == 7u);
  BOOST_TEST(h.sum() == 1028.5);
  BOOST_TEST(h.upper_bounds() == (std::vector<double>{1, 5, 10}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_histogram_without_bounds_has_only_the_inf_bucket) {
  metrics_registry r;
  auto& h = r.histogram_named("h", "H.", {});
  h.observe(-3);
  h.observe(3);
  BOOST_TEST(h.bucket_counts() == (std::vector<std::uint64_t>{2}),
             boost::test_tools::per_element());
  BOOST_TEST(h.sum() == 0);
}

BOOST_AUTO_TEST_CASE(the_same_name_and_kind_gives_the_same_metric) {
  metrics_registry r;
  auto& c = r.counter_named("c_total", "First help.");
  auto& g = r.gauge_named("g", "G.");
  auto& h = r.histogram_named("h", "H.", {1, 2});
  BOOST_TEST(&r.counter_named("c_total", "Other help.") == &c);
  BOOST_TEST(&r.gauge_named("g", "G.") == &g);
  BOOST_TEST(&r.histogram_named("h", "H.", {1, 2}) == &h);
  BOOST_TEST(c.help() == "First help."); // the first help stays
  BOOST_TEST(r.size() == 3u);
  // References stay valid while many more metrics are registered.
  for (int i = 0; i < 1000; ++i)
    r.counter_named("filler_" + std::to_string(i), "Filler.");
  c.add(7);
  BOOST_TEST(r.counter_named("c_total", "").value() == 7);
}

BOOST_AUTO_TEST_CASE(the_same_name_as_another_kind_throws_naming_it) {
  metrics_registry r;
  r.counter_named("requests_total", "Requests.");
  r.histogram_named("h", "H.", {1, 2});
  BOOST_TEST(throws_naming([&] { r.gauge_named("requests_total", "R."); },
                           "\"requests_total\" is already registered as a "
                           "counter, not a gauge"));
  BOOST_TEST(throws_naming(
    [&] { r.histogram_named("requests_total", "R.", {1}); },
    "requests_total"));
  // A histogram's buckets are part of its identity.
  BOOST_TEST(throws_naming([&] { r.histogram_named("h", "H.", {1, 3}); },
                           "\"h\" is already registered with other upper"));
  BOOST_TEST(r.size() == 2u);
}

BOOST_AUTO_TEST_CASE(bad_names_throw_saying_which_and_why) {
  metrics_registry r;
  BOOST_TEST(throws_naming([&] { r.counter_named("", "E."); }, "is empty"));
  BOOST_TEST(throws_naming([&] { r.counter_named("1st", "D."); },
                           "\"1st\" is invalid: it must start with"));
  BOOST_TEST(throws_naming([&] { r.gauge_named("memory-bytes", "M."); },
                           "\"memory-bytes\" is invalid: character '-' at "
                           "position 6"));
  BOOST_TEST(throws_naming([&] { r.histogram_named("a b", "S.", {1}); },
                           "\"a b\" is invalid"));
  BOOST_TEST(r.size() == 0u);
  // Colons, underscores and digits after the first character are fine.
  r.counter_named("_catchup:rows_read_2_total", "OK.");
  r.counter_named(":x", "OK.");
  BOOST_TEST(r.size() == 2u);
}

BOOST_AUTO_TEST_CASE(unsorted_or_infinite_bounds_throw) {
  metrics_registry r;
  BOOST_TEST(throws_naming([&] { r.histogram_named("h", "H.", {1, 5, 2}); },
                           "\"h\": upper bounds must be strictly ascending, "
                           "but 2 at index 2 follows 5"));
  BOOST_TEST(throws_naming([&] { r.histogram_named("h", "H.", {1, 1}); },
                           "strictly ascending"));
  BOOST_TEST(throws_naming(
    [&] { r.histogram_named("h", "H.", {1, inf}); }, "not finite"));
  BOOST_TEST(r.size() == 0u);
}

BOOST_AUTO_TEST_CASE(default_buckets_cover_seconds_and_bytes) {
  BOOST_TEST(default_duration_buckets_seconds()
               == (std::vector<double>{0.001, 0.002, 0.005, 0.01, 0.025,
                                       0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}),
             boost::test_tools::per_element());
  auto bytes = default_size_buckets_bytes();
  BOOST_TEST(bytes.size() == 9u);
  BOOST_TEST(bytes.front() == 16 * 1024.0);
  BOOST_TEST(bytes.back() == 1024.0 * 1024 * 1024);
  for (std::size_t i = 1; i < bytes.size(); ++i)
    BOOST_TEST(bytes[i] == 4 * bytes[i - 1]);
  // Both are valid histogram bounds.
  metrics_registry r;
  r.histogram_named("d_seconds", "D.", default_duration_buckets_seconds());
  r.histogram_named("s_bytes", "S.", default_size_buckets_bytes());
}

BOOST_AUTO_TEST_CASE(snapshots_copy_every_metric_in_registration_order) {
  metrics_registry r;
  r.gauge_named("g", "G.").set(-1.5);
  r.counter_named("c_total", "C.").add(3);
  auto& h = r.histogram_named("h", "H.", {1});
  h.observe(0.25);
  h.observe(2);
  auto s = r.snapshot();
  BOOST_TEST_REQUIRE(s.size() == 3u);
  BOOST_TEST(s[0].name == "g");
  BOOST_TEST((s[0].kind == metric_kind::gauge));
  BOOST_TEST(s[0].value == -1.5);
  BOOST_TEST(s[1].name == "c_total");
  BOOST_TEST(s[1].help == "C.");
  BOOST_TEST((s[1].kind == metric_kind::counter));
  BOOST_TEST(s[1].value == 3);
  BOOST_TEST((s[2].kind == metric_kind::histogram));
  BOOST_TEST(s[2].upper_bounds == (std::vector<double>{1}),
             boost::test_tools::per_element());
  BOOST_TEST(s[2].bucket_counts == (std::vector<std::uint64_t>{1, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(s[2].count == 2u);
  BOOST_TEST(s[2].sum == 2.25);
  // A copy: later updates do not show in it.
  h.observe(0);
  BOOST_TEST(s[2].count == 2u);
}

BOOST_AUTO_TEST_CASE(render_prometheus_writes_the_text_format) {
  metrics_registry r;
  BOOST_TEST(r.render_prometheus() == "");
  r.counter_named("catchup_requests_total", "Requests served.").add(42);
  r.gauge_named("catchup_queue_length", "Items queued.\nBy actor \\ kind.")
    .set(2.5);
  auto& h = r.histogram_named("catchup_request_size_bytes",
                              "Size of a request.", {10, 250});
  h.observe(10); // on the bound: in the le="10" bucket
  h.observe(100);
  h.observe(300);
  h.observe(0.5);
  BOOST_TEST(r.render_prometheus()
             == "# HELP catchup_requests_total Requests served.\n"
                "# TYPE catchup_requests_total counter\n"
                "catchup_requests_total 42\n"
                "# HELP catchup_queue_length Items queued.\\nBy actor \\\\ "
                "kind.\n"
                "# TYPE catchup_queue_length gauge\n"
                "catchup_queue_length 2.5\n"
                "# HELP catchup_request_size_bytes Size of a "
                "request.\n"
                "# TYPE catchup_request_size_bytes histogram\n"
                "catchup_request_size_bytes_bucket{le=\"10\"} 2\n"
                "catchup_request_size_bytes_bucket{le=\"250\"} 3\n"
                "catchup_request_size_bytes_bucket{le=\"+Inf\"} 4\n"
                "catchup_request_size_bytes_sum 410.5\n"
                "catchup_request_size_bytes_count 4\n");
}

BOOST_AUTO_TEST_CASE(render_prometheus_formats_numbers_as_prometheus_reads) {
  metrics_registry r;
  auto& g = r.gauge_named("g", "G.");
  auto text = [&] {
    auto all = r.render_prometheus();
    return all.substr(all.rfind('\n', all.size() - 2) + 1);
  };
  g.set(1e6);
  BOOST_TEST(text() == "g 1000000\n");
  g.set(0.1);
  BOOST_TEST(text() == "g 0.1\n");
  g.set(1e20);
  BOOST_TEST(text() == "g 1e+20\n");
  g.set(-inf);
  BOOST_TEST(text() == "g -Inf\n");
  g.set(std::numeric_limits<double>::quiet_NaN());
  BOOST_TEST(text() == "g NaN\n");
  auto& h = r.histogram_named("s_bytes", "S.", {16384, 1073741824});
  h.observe(1);
  auto all = r.render_prometheus();
  BOOST_TEST(all.find("s_bytes_bucket{le=\"1073741824\"} 1\n")
             != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
