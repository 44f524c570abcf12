// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace catchup {
class engine;
}

namespace catchup::bench {

/// One timed import of a generated file.
struct import_figures {
  /// "contacts" (vCard) or "calendar" (iCalendar).
  std::string kind;
  std::int64_t items = 0;
  std::uint64_t file_bytes = 0;
  double wall_ms = 0;
  double items_per_s = 0;
  /// Resident set: before the import, its peak during it, and the growth.
  std::int64_t idle_resident_bytes = 0;
  std::int64_t peak_resident_bytes = 0;
  std::int64_t resident_growth_bytes = 0;
  /// Heap (allocator statistics) at its sampled peak during the import.
  std::int64_t peak_allocated_bytes = 0;
  std::int64_t pages = 0;
};

/// Generates vCard and iCalendar files of 1,000 and 100,000 items in a
/// temporary directory, imports each into a fresh bench user and measures
/// it. Targets: each 100,000-item import <= 3 s, and peak RSS at 100,000
/// items at most 2 MiB above the peak at 1,000.
/// @throws failure if the engine refuses an import, std::runtime_error if
///         one stopped early.
std::vector<import_figures> run_import_bench(engine& e);

/// The figures as a table on stdout.
void print_import_table(const std::vector<import_figures>& all);

/// The figures as JSON.
nlohmann::json import_json(const std::vector<import_figures>& all);

} // namespace catchup::bench
