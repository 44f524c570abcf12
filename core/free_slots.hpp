// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "catchup/availability.hpp"
#include "core/priority.hpp"
#include "core/zone_rules.hpp"

namespace catchup {

/// Weekdays 18:00-21:00 and weekends 10:00-20:00.
std::vector<availability_window> default_availability();

/// A calendar event during which the user is not free: [start, end).
struct busy_interval {
  unix_seconds start;
  unix_seconds end;
};

/// How free time is cut into slots.
struct slot_rules {
  /// Days after `now` searched: 0 to 3660.
  std::int64_t window_days = 14;
  /// The length of a slot: 1 to 1440.
  std::int64_t slot_minutes = 60;
  /// The shortest slot made of a gap's remainder: 1 to 1440.
  std::int64_t min_slot_minutes = 30;
  /// The most slots on one local calendar day: 0 or more.
  std::int64_t slots_per_day_max = 2;
  /// Slots start at a multiple of this after local midnight: 1 to 1440.
  std::int64_t align_minutes = 15;
  /// The most slots returned.
  std::size_t slots_max = 1000;
};

/// A free slot: [start, end).
struct time_slot {
  unix_seconds start;
  unix_seconds end;
};

/// The free slots in [now, now + window_days * 86400), sorted by start.
///
/// The availability windows are laid on the local calendar days of `zone`
/// (the user's time zone: `adapters/tz_database` gives the tz database's),
/// so a window keeps its wall-clock time across DST changes; windows of one
/// day that overlap or touch are joined. Busy intervals (in any order,
/// possibly overlapping; empty or inverted ones are ignored) are cut out.
/// Each remaining gap is cut into slots of slot_minutes from its start
/// rounded up to a multiple of align_minutes of local time; a remainder of
/// at least min_slot_minutes gives one shorter slot. Each local day gives at
/// most slots_per_day_max slots (its earliest) and the result holds at most
/// slots_max.
///
/// A wall-clock time that does not exist (skipped by a spring-forward
/// change) stands for the first instant after the gap, so a window lying
/// wholly in the gap gives nothing that day; an ambiguous one (repeated by
/// a fall-back change) stands for its earlier instant (see zone_rules).
///
/// @throws std::invalid_argument naming the window if one is invalid
///   (weekday outside 1..7, start >= end, outside 0..1440), naming the rule
///   if one is out of its range, or if `now` is not within the years 1 to
///   9999.
std::vector<time_slot>
free_slots(const zone_rules& zone,
           const std::vector<availability_window>& windows,
           std::vector<busy_interval> busy, unix_seconds now,
           const slot_rules& rules = {});

} // namespace catchup
