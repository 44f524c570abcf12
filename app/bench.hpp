// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace catchup::app {

/// What `catchup bench` runs.
struct bench_options {
  /// Scenario names (S1..S6); empty: S1-S5.
  std::vector<std::string> scenarios;
  /// Timed generations per scenario, after one untimed warm-up.
  std::int64_t iterations = 20;
  /// Compare every result with a brute-force ranking of all contacts.
  bool check_exactness = true;
  /// Print JSON instead of a table.
  bool as_json = false;
};

/// Names of all scenarios, in order.
std::vector<std::string> bench_scenario_names();

/// Seeds each scenario's data set once (kept for later runs), then times
/// generations and reports median/p95 wall time, rows read, suggestions,
/// exactness and memory. Returns the process exit code.
int run_bench(const config::settings& settings, const bench_options& options);

} // namespace catchup::app
