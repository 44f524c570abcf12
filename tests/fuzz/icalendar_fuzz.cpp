// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the iCalendar reader: reads every event of the input
// once with the default limits and a wide window, once with small limits
// and a one-year window, so oversized lines, components, instance counts
// and recurrence steps are reached quickly too. libical itself is the
// system's (not instrumented); leaks of its components are still caught,
// since LeakSanitizer sees every allocation. Not part of the CMake build;
// build it by hand from the repository root with
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I.
//           tests/fuzz/icalendar_fuzz.cpp core/icalendar.cpp core/utf8.cpp
//           -lical -o /tmp/icalendar_fuzz
// and run it with real .ics files (copied outside the repository) as seeds:
//   /tmp/icalendar_fuzz -max_total_time=180 -timeout=10 /tmp/ical-corpus

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "core/icalendar.hpp"

namespace {

constexpr std::int64_t year_2000 = 946684800;
constexpr std::int64_t year_2024 = 1704067200;
constexpr std::int64_t year_2025 = 1735689600;
constexpr std::int64_t year_2100 = 4102444800;

void read_all(const std::string &text, std::int64_t from, std::int64_t to,
              catchup::icalendar_limits limits) {
  std::istringstream in{text};
  catchup::icalendar_reader reader{in, from, to, limits};
  catchup::calendar_event_item item;
  std::optional<catchup::icalendar_error> error;
  while (reader.next(item, error)) {
    if (error) {
      if (error->excerpt.size() > 60 || error->reason.empty() ||
          error->line == 0 || error->line > reader.line() ||
          !item.external_id.empty())
        __builtin_trap();
      continue;
    }
    if (item.external_id.empty() || item.series_id.empty() ||
        item.end_unix_s < item.start_unix_s ||
        item.attendee_emails.size() > catchup::attendees_max ||
        item.position == 0 || item.position > reader.line())
      __builtin_trap();
  }
  if (reader.bytes_read() != text.size())
    __builtin_trap();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  read_all(text, year_2000, year_2100, catchup::icalendar_limits{});
  catchup::icalendar_limits small;
  small.line_bytes_max = 80;
  small.component_bytes_max = 2048;
  small.timezones_max = 2;
  small.instances_per_event_max = 5;
  small.overrides_max = 3;
  small.recurrence_steps_max = 500;
  read_all(text, year_2024, year_2025, small);
  return 0;
}
