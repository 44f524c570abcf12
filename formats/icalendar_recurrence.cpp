// SPDX-License-Identifier: Apache-2.0
// Recurrence (formats/icalendar.hpp): which RRULEs libical may be asked to
// expand, and the instances of a recurring VEVENT (DTSTART, RRULEs and
// RDATEs minus EXDATEs and overrides) that fall in the window.
#include "formats/icalendar_detail.hpp"

#include <algorithm>
#include <iterator>

namespace catchup {
namespace icalendar_detail {
namespace {

/// RRULEs per VEVENT (RFC 5545 wants one). Each costs libical up to some
/// 25 ms to find its first instance in a 400-year cycle.
constexpr std::size_t rules_per_event_max = 16;

bool has(const short *by) noexcept {
  return by[0] != ICAL_RECURRENCE_ARRAY_MAX;
}

/// The days (bit d for day d) a month of `length` days starting on weekday
/// `first` (0 = Sunday) gives for the rule's BYMONTHDAY and BYDAY, ordinals
/// counted within the month; `default_day` (DTSTART's) when it has neither.
std::uint32_t month_days(const icalrecurrencetype &r, int length, int first,
                         int default_day) noexcept {
  std::uint32_t days = 0;
  auto add = [&](int d) {
    if (d >= 1 && d <= length)
      days |= std::uint32_t{1} << d;
  };
  if (has(r.by_month_day)) {
    for (int i = 0; i < ICAL_BY_MONTHDAY_SIZE &&
                    r.by_month_day[i] != ICAL_RECURRENCE_ARRAY_MAX;
         ++i) {
      const int v = r.by_month_day[i];
      add(v < 0 ? length + v + 1 : v);
    }
  } else if (!has(r.by_day)) {
    add(default_day);
  }
  if (!has(r.by_day))
    return days;
  std::uint32_t weekdays = 0;
  for (int i = 0;
       i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i) {
    const int weekday =
        static_cast<int>(icalrecurrencetype_day_day_of_week(r.by_day[i])) - 1;
    const int position = icalrecurrencetype_day_position(r.by_day[i]);
    if (weekday < 0 || weekday > 6)
      continue;
    const int first_match = 1 + (weekday - first + 7) % 7;
    const int last_match = first_match + 7 * ((length - first_match) / 7);
    for (int d = first_match; d <= length; d += 7) {
      const bool wanted =
          position == 0 ||
          (position > 0 && d == first_match + 7 * (position - 1)) ||
          (position < 0 && d == last_match + 7 * (position + 1));
      if (wanted)
        weekdays |= std::uint32_t{1} << d;
    }
  }
  return has(r.by_month_day) ? days & weekdays : weekdays;
}

int bit_count(std::uint32_t v) noexcept {
  int n = 0;
  for (; v != 0; v &= v - 1)
    ++n;
  return n;
}

/// Whether some BYSETPOS selects from a set of `size` instances.
bool set_position_fits(const icalrecurrencetype &r, int size) noexcept {
  if (!has(r.by_set_pos))
    return size > 0;
  for (int i = 0;
       i < ICAL_BY_SETPOS_SIZE && r.by_set_pos[i] != ICAL_RECURRENCE_ARRAY_MAX;
       ++i) {
    const int p = r.by_set_pos[i];
    if (p != 0 && (p < 0 ? -p : p) <= size)
      return true;
  }
  return false;
}

/// Entries of a BYxxx array.
std::size_t by_count(const short *by, int size) noexcept {
  std::size_t n = 0;
  while (static_cast<int>(n) < size && by[n] != ICAL_RECURRENCE_ARRAY_MAX)
    ++n;
  return n;
}

/// The periods libical steps through for a rule: days for DAILY and
/// WEEKLY (it tests every day against BYDAY), months, years.
std::int64_t period_seconds(icalrecurrencetype_frequency f) noexcept {
  switch (f) {
  case ICAL_MONTHLY_RECURRENCE:
    return 2629746; // a mean Gregorian month
  case ICAL_YEARLY_RECURRENCE:
    return 31556952;
  default:
    return seconds_per_day;
  }
}

} // namespace

/// False for a MONTHLY or YEARLY rule that can never match, like
/// BYMONTH=2;BYMONTHDAY=30 or BYDAY=6MO: libical 3.0 searches such a rule
/// up to the year 20000 (about a second) before giving up. Every month
/// length and starting weekday occurs in the Gregorian 400-year cycle, so
/// trying them all is exact for BYMONTH, BYMONTHDAY, BYDAY and a monthly
/// BYSETPOS; rules with BYWEEKNO or BYYEARDAY, and yearly ordinals, are
/// only checked for values in range. DAILY and WEEKLY rules need no check:
/// libical scans them only up to the window's end, which is counted.
bool may_match(const icalrecurrencetype &r, int default_day) noexcept {
  if (r.freq != ICAL_MONTHLY_RECURRENCE && r.freq != ICAL_YEARLY_RECURRENCE)
    return true;
  const bool yearly = r.freq == ICAL_YEARLY_RECURRENCE;
  if (yearly && (has(r.by_week_no) || has(r.by_year_day) || !has(r.by_month))) {
    if (has(r.by_set_pos) && !set_position_fits(r, 366))
      return false;
    if (has(r.by_week_no) || has(r.by_year_day) || !has(r.by_day))
      return true;
    // BYDAY ordinals count within the year: up to the 53rd.
    for (int i = 0;
         i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX;
         ++i) {
      const int position = icalrecurrencetype_day_position(r.by_day[i]);
      if (position >= -53 && position <= 53)
        return true;
    }
    return false;
  }
  static constexpr int lengths[] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
  bool months[13] = {};
  if (has(r.by_month)) {
    for (int i = 0;
         i < ICAL_BY_MONTH_SIZE && r.by_month[i] != ICAL_RECURRENCE_ARRAY_MAX;
         ++i)
      if (r.by_month[i] >= 1 && r.by_month[i] <= 12)
        months[r.by_month[i]] = true;
  } else {
    std::fill(std::begin(months), std::end(months), true);
  }
  int year_size_max = 0;
  bool any = false;
  for (int m = 1; m <= 12; ++m) {
    if (!months[m])
      continue;
    int month_size_max = 0;
    for (int length = lengths[m - 1]; length <= (m == 2 ? 29 : lengths[m - 1]);
         ++length)
      for (int first = 0; first < 7; ++first) {
        const int size = bit_count(month_days(r, length, first, default_day));
        month_size_max = std::max(month_size_max, size);
        if (yearly ? size > 0 : set_position_fits(r, size))
          any = true;
      }
    year_size_max += month_size_max;
  }
  // A yearly BYSETPOS picks from the whole year's set: bounded by the sum.
  return any && (!yearly || set_position_fits(r, year_size_max));
}

/// An upper bound of the instances libical's iterator gives for a YEARLY
/// rule with BYMONTH from `first` up to the end of `last_year`, without
/// iterating (each step costs libical's ICU calendar some microseconds,
/// and an Outlook zone starts in 1601): per year, at most one day per
/// BYMONTHDAY or ordinal BYDAY entry plus five per plain BYDAY entry (31
/// at most), or DTSTART's day, in each month of BYMONTH, at each BYHOUR ×
/// BYMINUTE × BYSECOND; COUNT and UNTIL cap it. Null for other rules
/// (BYWEEKNO, BYYEARDAY, no BYMONTH), which are counted by iterating.
std::optional<std::size_t> yearly_instances_bound(const icalrecurrencetype &r,
                                                  const icaltimetype &first,
                                                  int last_year) noexcept {
  if (r.freq != ICAL_YEARLY_RECURRENCE || !is_valid_time(first) ||
      !has(r.by_month) || has(r.by_week_no) || has(r.by_year_day))
    return std::nullopt;
  // Both BYMONTHDAY and BYDAY: their sum, not their intersection, so the
  // bound holds however libical combines them.
  std::size_t per_month = 1; // DTSTART's day
  if (has(r.by_month_day) || has(r.by_day)) {
    per_month = by_count(r.by_month_day, ICAL_BY_MONTHDAY_SIZE);
    for (int i = 0;
         i < ICAL_BY_DAY_SIZE && r.by_day[i] != ICAL_RECURRENCE_ARRAY_MAX; ++i)
      per_month += icalrecurrencetype_day_position(r.by_day[i]) == 0 ? 5 : 1;
    per_month = std::min<std::size_t>(per_month, 31);
  }
  const std::size_t times =
      std::max<std::size_t>(1, by_count(r.by_hour, ICAL_BY_HOUR_SIZE)) *
      std::max<std::size_t>(1, by_count(r.by_minute, ICAL_BY_MINUTE_SIZE)) *
      std::max<std::size_t>(1, by_count(r.by_second, ICAL_BY_SECOND_SIZE));
  const std::size_t per_year =
      by_count(r.by_month, ICAL_BY_MONTH_SIZE) * per_month * times;
  int end_year = last_year;
  if (!icaltime_is_null_time(r.until))
    end_year = std::min(end_year, r.until.year);
  const std::size_t years =
      static_cast<std::size_t>(std::max(0, end_year - first.year + 1));
  // DTSTART itself comes first, matching or not.
  std::size_t bound = years * per_year + 1;
  if (r.count > 0)
    bound = std::min(bound, static_cast<std::size_t>(r.count) + 1);
  return bound;
}

bool is_gregorian(const icalrecurrencetype &r) noexcept {
  return r.rscale == nullptr || *r.rscale == '\0' ||
         iequals(r.rscale, "GREGORIAN");
}

} // namespace icalendar_detail

using namespace icalendar_detail;

namespace {

/// Why an event's RRULE is not expanded, if it is not.
std::optional<std::string> rule_problem(const icalrecurrencetype &rule,
                                        const icaltimetype &start) {
  if (rule.freq < ICAL_DAILY_RECURRENCE)
    return std::string("RRULE FREQ=") + icalrecur_freq_to_string(rule.freq) +
           " is not expanded (sub-daily recurrence)";
  if (!is_gregorian(rule))
    return std::string("RRULE with RSCALE is not expanded");
  if (!may_match(rule, start.day))
    return std::string("RRULE never matches");
  if (!icaltime_is_null_time(rule.until) && !is_valid_time(rule.until))
    return std::string("bad RRULE (UNTIL: no such date or time)");
  return std::nullopt;
}

} // namespace

/// The instances of one recurring event chosen so far.
struct icalendar_reader::state::instance_choice {
  /// By start: those in the window, not excluded and not overridden, at
  /// most instances_per_event_max, the earliest.
  std::map<std::int64_t, instance> chosen;
  /// More were offered than fit: later ones are not wanted.
  bool too_many = false;
  /// EXDATE's instance keys.
  std::unordered_set<std::string> excluded;
  /// EXDATE's DATE values on a series with times: whole local days.
  std::unordered_set<std::string> excluded_dates;
};

/// Offers one instance of `item` (local start `local`, from `s` to `e`);
/// false once nothing later can be chosen.
bool icalendar_reader::state::consider(instance_choice &choice,
                                       const calendar_event_item &item,
                                       const icaltimetype &local,
                                       std::int64_t s, std::int64_t e) {
  std::map<std::int64_t, instance> &chosen = choice.chosen;
  if (s >= window_to)
    return false;
  if (choice.too_many && !chosen.empty() && s > chosen.rbegin()->first)
    return false;
  if (!overlaps(s, std::max(s, e)) || chosen.count(s) != 0)
    return true;
  std::string key = item.all_day ? date_key(local) : utc_key(s);
  if (choice.excluded.count(key) != 0 ||
      (!item.all_day && !choice.excluded_dates.empty() &&
       choice.excluded_dates.count(date_key(local)) != 0) ||
      overrides.count(override_key(item.series_id, key)) != 0)
    return true;
  chosen.emplace(s, instance{std::max(s, e), std::move(key)});
  if (chosen.size() > limits.instances_per_event_max) {
    choice.too_many = true;
    chosen.erase(std::prev(chosen.end()));
  }
  return true;
}

/// Reads the EXDATEs into `choice`.
std::optional<icalendar_error>
icalendar_reader::state::exclude(instance_choice &choice,
                                 const std::vector<icalproperty *> &exdates,
                                 bool all_day) {
  for (icalproperty *p : exdates) {
    const icaltimetype t = icalproperty_get_exdate(p);
    if (!is_valid_time(t)) {
      const source_line &s = source(event_property::exdate);
      return event_error(s.number, "bad EXDATE (no such date or time)", s.head);
    }
    if (all_day)
      choice.excluded.insert(date_key(t));
    else if (t.is_date)
      choice.excluded_dates.insert(date_key(t));
    else
      choice.excluded.insert(utc_key(to_unix(t, frame_of(p, t).zone)));
  }
  return std::nullopt;
}

/// Offers the RDATEs: dates and times last as long as the event, periods
/// as long as they say.
std::optional<icalendar_error> icalendar_reader::state::consider_rdates(
    instance_choice &choice, const calendar_event_item &item,
    const std::vector<icalproperty *> &rdates) {
  const std::int64_t length = item.end_unix_s - item.start_unix_s;
  const source_line &s = source(event_property::rdate);
  for (icalproperty *p : rdates) {
    const icaldatetimeperiodtype v = icalproperty_get_rdate(p);
    if (!icaltime_is_null_time(v.time)) {
      if (!is_valid_time(v.time))
        return event_error(s.number, "bad RDATE (no such date or time)",
                           s.head);
      const std::int64_t at = to_unix(v.time, frame_of(p, v.time).zone);
      consider(choice, item, v.time, at, at + length);
      continue;
    }
    const icalperiodtype period = v.period;
    if (!is_valid_time(period.start) ||
        (!icaltime_is_null_time(period.end) && !is_valid_time(period.end)))
      return event_error(s.number, "bad RDATE (no such date or time)", s.head);
    const frame f = frame_of(p, period.start);
    const std::int64_t at = to_unix(period.start, f.zone);
    const std::int64_t until =
        !icaltime_is_null_time(period.end)
            ? to_unix(period.end, f.zone)
            : at + (period.duration.is_neg
                        ? 0
                        : icaldurationtype_as_int(period.duration));
    consider(choice, item, period.start, at, until);
  }
  return std::nullopt;
}

std::optional<icalendar_error> icalendar_reader::state::too_many_steps() {
  const source_line &s = source(event_property::rrule);
  return event_error(s.number,
                     "recurrence takes more than " +
                         std::to_string(limits.recurrence_steps_max) +
                         " steps (recurrence_steps_max)",
                     s.head);
}

/// Offers the instances of one RRULE, counting libical's steps for all
/// the event's rules in `steps`.
std::optional<icalendar_error> icalendar_reader::state::expand_rule(
    instance_choice &choice, const calendar_event_item &item,
    icalrecurrencetype rule, const icaltimetype &start,
    const frame &start_frame, std::size_t &steps) {
  const bool all_day = item.all_day;
  const std::int64_t length = item.end_unix_s - item.start_unix_s;
  // Stop libical at the window's end: with a rule that rarely matches,
  // one call of the iterator would otherwise scan up to 2582.
  const std::int64_t stop = window_to + seconds_per_day;
  std::int64_t scan_to = stop;
  if (!icaltime_is_null_time(rule.until)) {
    icaltimezone *until_zone = icaltime_is_utc(rule.until)
                                   ? icaltimezone_get_utc_timezone()
                                   : start_frame.zone;
    scan_to = std::min(scan_to, to_unix(rule.until, until_zone));
  }
  if (scan_to == stop && stop < unix_max)
    rule.until = from_unix(stop, start_frame, all_day);
  // Rules without COUNT start at the window (libical 3.0 is exact for
  // DAILY and coarser); with COUNT, instances must be counted from
  // DTSTART.
  const std::int64_t from = window_from - length - seconds_per_day;
  const bool skip_ahead = rule.count == 0 && from > item.start_unix_s;
  const std::int64_t scan_from = skip_ahead ? from : item.start_unix_s;
  if (scan_to > scan_from)
    steps += static_cast<std::size_t>((scan_to - scan_from) /
                                      period_seconds(rule.freq)) +
             1;
  if (steps > limits.recurrence_steps_max)
    return too_many_steps();
  icaltimetype first = start;
  first.zone = start_frame.zone;
  iterator_ptr it(icalrecur_iterator_new(rule, first));
  if (!it) {
    const source_line &s = source(event_property::rrule);
    return event_error(s.number, "RRULE cannot be expanded by libical", s.head);
  }
  if (skip_ahead && icalrecur_iterator_set_start(
                        it.get(), from_unix(from, start_frame, all_day)) == 0)
    return std::nullopt;
  for (;;) {
    const icaltimetype t = icalrecur_iterator_next(it.get());
    if (icaltime_is_null_time(t) || !is_valid_time(t))
      return std::nullopt;
    if (++steps > limits.recurrence_steps_max)
      return too_many_steps();
    const std::int64_t at = to_unix(t, start_frame.zone);
    if (!consider(choice, item, t, at, at + length))
      return std::nullopt;
  }
}

/// Offers the instances of the RRULEs, at most rules_per_event_max.
std::optional<icalendar_error> icalendar_reader::state::consider_rrules(
    instance_choice &choice, const calendar_event_item &item,
    const icaltimetype &start, const frame &start_frame,
    const std::vector<icalproperty *> &rrules) {
  const source_line &rrule_source = source(event_property::rrule);
  if (rrules.size() > rules_per_event_max)
    return event_error(rrule_source.number,
                       "VEVENT has more than " +
                           std::to_string(rules_per_event_max) + " RRULEs",
                       rrule_source.head);
  std::size_t steps = 0;
  for (icalproperty *p : rrules) {
    const icalrecurrencetype rule = icalproperty_get_rrule(p);
    if (auto problem = rule_problem(rule, start))
      return event_error(rrule_source.number, std::move(*problem),
                         rrule_source.head);
    if (auto error = expand_rule(choice, item, rule, start, start_frame, steps))
      return error;
  }
  return std::nullopt;
}

/// Hands the chosen instances of `item` to next(), followed by an error
/// if later ones did not fit.
void icalendar_reader::state::keep_instances(calendar_event_item item,
                                             instance_choice &choice,
                                             std::size_t begin_number,
                                             std::string_view begin_text) {
  if (choice.chosen.empty()) {
    ++outside;
    return;
  }
  base = std::move(item);
  instances.assign(std::make_move_iterator(choice.chosen.begin()),
                   std::make_move_iterator(choice.chosen.end()));
  next_instance = 0;
  if (!choice.too_many)
    return;
  const source_line &rrule_source = source(event_property::rrule);
  error_after =
      error_at(rrule_source.number != 0 ? rrule_source.number : begin_number,
               "more than " + std::to_string(limits.instances_per_event_max) +
                   " instances in the window (instances_per_event_max); later "
                   "ones skipped",
               rrule_source.number != 0 ? std::string_view(rrule_source.head)
                                        : begin_text);
}

/// Chooses the instances of a recurring event that overlap the window,
/// at most instances_per_event_max of them, earliest first.
std::optional<icalendar_error> icalendar_reader::state::expand(
    calendar_event_item item, const icaltimetype &start,
    const frame &start_frame, std::size_t begin_number,
    std::string_view begin_text, const event_properties &e) {
  instance_choice choice;
  if (auto error = exclude(choice, e.exdates, item.all_day))
    return error;
  consider(choice, item, start, item.start_unix_s, item.end_unix_s);
  if (auto error = consider_rdates(choice, item, e.rdates))
    return error;
  if (auto error = consider_rrules(choice, item, start, start_frame, e.rrules))
    return error;
  keep_instances(std::move(item), choice, begin_number, begin_text);
  return std::nullopt;
}

} // namespace catchup
