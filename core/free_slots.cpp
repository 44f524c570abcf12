// SPDX-License-Identifier: Apache-2.0
#include "core/free_slots.hpp"

#include "core/assert.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace catchup {

namespace {

constexpr std::int64_t minutes_per_day = 1440;
constexpr std::int64_t window_days_max = 3660;
// 0001-01-01T00:00Z and 9999-12-31T23:59:59Z: keeps every sum below far
// from overflow and every date inside the years zone_rules answers for.
constexpr unix_seconds now_min = -62135596800;
constexpr unix_seconds now_max = 253402300799;

std::int64_t floor_div(std::int64_t a, std::int64_t d) noexcept {
  auto q = a / d;
  if (a % d < 0)
    --q;
  return q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t d) noexcept {
  return a - floor_div(a, d) * d;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t d) noexcept {
  return -floor_div(-a, d);
}

// The instant of local day `day` (days since 1970-01-01 in local time) at
// `minute`, as the zone's rules read it (skipped and repeated times
// included).
unix_seconds to_instant(const zone_rules& zone, std::int64_t day,
                        std::int64_t minute) {
  return zone.to_instant(day * seconds_per_day + minute * 60);
}

std::string describe(std::size_t index, const availability_window& w) {
  return "invalid availability window windows[" + std::to_string(index) +
         "] {weekday " + std::to_string(w.weekday) + ", start_minute " +
         std::to_string(w.start_minute) + ", end_minute " +
         std::to_string(w.end_minute) + "}: ";
}

void check_window(std::size_t index, const availability_window& w) {
  if (w.weekday < 1 || w.weekday > 7)
    throw std::invalid_argument(describe(index, w) +
                                "weekday must be 1 (Monday) to 7 (Sunday)");
  if (w.start_minute < 0 || w.end_minute > minutes_per_day)
    throw std::invalid_argument(describe(index, w) +
                                "minutes must lie within 0 to 1440");
  if (w.start_minute >= w.end_minute)
    throw std::invalid_argument(describe(index, w) +
                                "start_minute must be before end_minute");
}

void check_rule(const char* name, std::int64_t value, std::int64_t low,
                std::int64_t high) {
  if (value < low || value > high)
    throw std::invalid_argument("invalid slot rule " + std::string(name) +
                                " = " + std::to_string(value) + ": must be " +
                                std::to_string(low) + " to " +
                                std::to_string(high));
}

// A local-time interval of one day, in minutes after midnight.
struct minute_range {
  std::int64_t start;
  std::int64_t end;
};

// The windows of each ISO weekday (index 0 = Monday), sorted, with
// overlapping or touching windows joined.
using week_plan = std::array<std::vector<minute_range>, 7>;

week_plan plan_week(const std::vector<availability_window>& windows) {
  week_plan week;
  for (const auto& w : windows)
    week[w.weekday - 1].push_back({w.start_minute, w.end_minute});
  for (auto& day : week) {
    std::sort(day.begin(), day.end(),
              [](const auto& a, const auto& b) { return a.start < b.start; });
    std::vector<minute_range> joined;
    for (const auto& r : day) {
      if (!joined.empty() && r.start <= joined.back().end)
        joined.back().end = std::max(joined.back().end, r.end);
      else
        joined.push_back(r);
    }
    day = std::move(joined);
  }
  return week;
}

// Sorted, disjoint, non-empty busy intervals.
std::vector<busy_interval> normalize(std::vector<busy_interval> busy) {
  busy.erase(std::remove_if(busy.begin(), busy.end(),
                            [](const auto& b) { return b.end <= b.start; }),
             busy.end());
  std::sort(busy.begin(), busy.end(),
            [](const auto& a, const auto& b) { return a.start < b.start; });
  std::vector<busy_interval> joined;
  for (const auto& b : busy) {
    if (!joined.empty() && b.start <= joined.back().end)
      joined.back().end = std::max(joined.back().end, b.end);
    else
      joined.push_back(b);
  }
  return joined;
}

// Cuts slots out of free gaps, which arrive in increasing order, day by day.
class slot_cutter {
public:
  slot_cutter(const zone_rules& zone, const slot_rules& rules)
    : zone_(zone),
      rules_(rules),
      slot_(rules.slot_minutes * 60),
      min_slot_(rules.min_slot_minutes * 60),
      align_(rules.align_minutes * 60) {
  }

  void start_day(std::int64_t day) {
    day_ = day;
    used_ = 0;
  }

  bool done() const {
    return slots_.size() >= rules_.slots_max;
  }

  bool day_full() const {
    return used_ >= rules_.slots_per_day_max;
  }

  // Cuts the free gap [start, end) of the current day.
  void cut(unix_seconds start, unix_seconds end) {
    // Round up in local time, using the offset at the gap's start; the
    // distance to the boundary is the same in UTC.
    auto time_of_day =
      start + zone_.utc_offset_seconds(start) - day_ * seconds_per_day;
    auto s = start + ceil_div(time_of_day, align_) * align_ - time_of_day;
    for (; s < end && !done() && !day_full(); s += slot_) {
      auto length = std::min(slot_, end - s);
      if (length < slot_ && length < min_slot_)
        return;
      CATCHUP_ASSERT(length > 0, "a slot lasts");
      // Gaps arrive in increasing time: the result is sorted by start and
      // its slots never overlap, which the generation relies on.
      CATCHUP_ASSERT(slots_.empty() || slots_.back().end <= s,
                     "a slot starts after the previous one ends");
      slots_.push_back({s, s + length});
      ++used_;
    }
  }

  std::vector<time_slot> take() {
    CATCHUP_ASSERT(slots_.size() <= rules_.slots_max,
                   "at most slots_max slots");
    return std::move(slots_);
  }

private:
  const zone_rules& zone_;
  const slot_rules& rules_;
  std::int64_t slot_;
  std::int64_t min_slot_;
  std::int64_t align_;
  std::int64_t day_ = 0;
  std::int64_t used_ = 0;
  std::vector<time_slot> slots_;
};

} // namespace

std::vector<availability_window> default_availability() {
  std::vector<availability_window> windows;
  for (int weekday = 1; weekday <= 5; ++weekday)
    windows.push_back({weekday, 18 * 60, 21 * 60});
  for (int weekday = 6; weekday <= 7; ++weekday)
    windows.push_back({weekday, 10 * 60, 20 * 60});
  return windows;
}

std::vector<time_slot>
free_slots(const zone_rules& zone,
           const std::vector<availability_window>& windows,
           std::vector<busy_interval> busy, unix_seconds now,
           const slot_rules& rules) {
  for (std::size_t i = 0; i < windows.size(); ++i)
    check_window(i, windows[i]);
  check_rule("window_days", rules.window_days, 0, window_days_max);
  check_rule("slot_minutes", rules.slot_minutes, 1, minutes_per_day);
  check_rule("min_slot_minutes", rules.min_slot_minutes, 1, minutes_per_day);
  check_rule("slots_per_day_max", rules.slots_per_day_max, 0,
             std::numeric_limits<std::int64_t>::max());
  check_rule("align_minutes", rules.align_minutes, 1, minutes_per_day);
  if (now < now_min || now > now_max)
    throw std::invalid_argument("now = " + std::to_string(now) +
                                " is not within the years 1 to 9999");

  slot_cutter cutter(zone, rules);
  if (rules.slots_max == 0 || rules.slots_per_day_max == 0)
    return cutter.take();
  auto week = plan_week(windows);
  busy = normalize(std::move(busy));
  auto end = now + rules.window_days * seconds_per_day;

  // The local days whose windows can meet [now, end), with a day's margin
  // on either side for offsets and DST shifts.
  auto local_day = [&](unix_seconds t) {
    auto offset = zone.utc_offset_seconds(t);
    CATCHUP_ASSERT(offset > -seconds_per_day && offset < seconds_per_day,
                   "a zone's offset stays within the day's margin");
    return floor_div(t + offset, seconds_per_day);
  };
  auto first_day = local_day(now) - 1;
  auto last_day = local_day(end) + 1;

  // Windows arrive in increasing time, so the busy cursor only moves on.
  auto next_busy = busy.begin();
  for (auto day = first_day; day <= last_day && !cutter.done(); ++day) {
    // Index 0 is Monday; day 0, 1970-01-01, was a Thursday.
    auto weekday = floor_mod(day + 3, 7);
    cutter.start_day(day);
    for (const auto& range : week[weekday]) {
      auto start = std::max(to_instant(zone, day, range.start), now);
      auto stop = std::min(to_instant(zone, day, range.end), end);
      if (start >= stop)
        continue;
      while (next_busy != busy.end() && next_busy->end <= start)
        ++next_busy;
      // Free gaps between the busy intervals that meet [start, stop); the
      // last of them may reach into the next window, so the cursor stays.
      auto free_from = start;
      for (auto b = next_busy; b != busy.end() && b->start < stop; ++b) {
        if (b->start > free_from)
          cutter.cut(free_from, b->start);
        free_from = std::max(free_from, b->end);
      }
      if (free_from < stop)
        cutter.cut(free_from, stop);
      if (cutter.done() || cutter.day_full())
        break;
    }
  }
  return cutter.take();
}

} // namespace catchup
