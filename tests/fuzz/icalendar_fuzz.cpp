// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the iCalendar reader: reads every event of the input
// once with the default limits and a twenty-year window, once with small
// limits and a one-year window, so oversized lines, components, instance
// counts and recurrence steps are reached quickly too. libical itself is
// the system's (not instrumented); leaks of its components are still
// caught, since LeakSanitizer sees every allocation. Built and run by
//   ./dev.sh fuzz [SECONDS]
// (all three targets, into build-fuzz/, seeded with copies of the real
// sample files); by hand, from the repository root:
//   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I.
//           tests/fuzz/icalendar_fuzz.cpp formats/icalendar*.cpp core/utf8.cpp
//           -lical -o /tmp/icalendar_fuzz
//   /tmp/icalendar_fuzz -max_total_time=60 -timeout=10 /tmp/ical-corpus
// with real .ics files copied to /tmp/ical-corpus (never into the tree).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "formats/icalendar.hpp"
#include "formats/input_stopped.hpp"

#include <libical/ical.h>

namespace {

constexpr std::int64_t year_2015 = 1420070400;
constexpr std::int64_t year_2024 = 1704067200;
constexpr std::int64_t year_2025 = 1735689600;
constexpr std::int64_t year_2035 = 2051222400;

void read_all(const std::string &text, std::int64_t from, std::int64_t to,
              catchup::icalendar_limits limits) {
  std::istringstream in{text};
  catchup::icalendar_reader reader{in, from, to, limits};
  catchup::calendar_event_item item;
  std::optional<catchup::icalendar_error> error;
  for (;;) {
    try {
      if (!reader.next(item, error))
        break;
    } catch (const catchup::input_stopped &stopped) {
      // A line without end: the one error that ends the reader, by design.
      if (stopped.line() == 0 || stopped.line() > reader.line() + 1)
        __builtin_trap();
      return;
    }
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
  // Twenty years reach every rule kind and the instance limit (a daily
  // rule) while each input stays cheap: libical's ICU-based iterator costs
  // microseconds a step, and a wider window only repeats the same paths.
  read_all(text, year_2015, year_2035, catchup::icalendar_limits{});
  catchup::icalendar_limits small;
  small.line_bytes_max = 80;
  small.component_bytes_max = 2048;
  small.timezones_max = 2;
  small.instances_per_event_max = 5;
  small.overrides_max = 3;
  small.recurrence_steps_max = 500;
  read_all(text, year_2024, year_2025, small);
  // libical keeps the strings it returns in a ring of 2,500 buffers and
  // frees each only when its slot is reused: until the ring is full, every
  // input looks like a leak to libFuzzer, which then runs LeakSanitizer's
  // whole-heap scan after it. Emptying the ring here makes each input free
  // what it allocated.
  icalmemory_free_ring();
  return 0;
}
