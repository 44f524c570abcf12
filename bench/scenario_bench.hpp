// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <catchup/engine.hpp>

namespace catchup::bench {

/// What `catchup bench` runs.
struct bench_options {
  /// Scenario names (S1..S6, import, queue); empty: S1-S5 and import.
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

/// Opens an engine on `config` (with a private cluster of the benchmarks'
/// own unless a database is configured, see bench_config), seeds each
/// scenario's data set once (kept for later runs), then times generations
/// and reports median/p95 wall time, rows read, suggestions, exactness and
/// memory, and the import, queue and cache figures. Returns the process
/// exit code.
/// @throws failure when the engine fails.
int run_bench(const engine_config& config, const bench_options& options);

} // namespace catchup::bench
