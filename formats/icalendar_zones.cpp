// SPDX-License-Identifier: Apache-2.0
// Times and zones (formats/icalendar.hpp): calendar arithmetic on libical's
// times, the zone a TZID resolves to (the file's VTIMEZONE, else libical's
// builtin zone), conversion to and from Unix time, and the VTIMEZONEs a file
// brings, refused when libical would spend too much on them.
#include "formats/icalendar_detail.hpp"

#include <algorithm>
#include <cstdio>
#include <mutex>

namespace catchup {
namespace icalendar_detail {
namespace {

/// Offset changes one VTIMEZONE may define up to the last year libical
/// expands it to. Real zones have two a year (about 2,000 from Outlook's
/// 1601 up to 2582); libical expands every change into memory, so a rule
/// that changes daily since 1601 would cost minutes and megabytes.
constexpr std::size_t timezone_changes_max = 5000;

/// Longest TZID handed to libical's builtin zone look-up; the longest zone
/// name ("America/Argentina/ComodRivadavia") has 32 bytes.
constexpr std::size_t builtin_zone_name_bytes_max = 64;

/// RRULEs per VTIMEZONE (Thunderbird writes a zone's whole history: 28
/// for Europe/London). Each costs libical up to some 25 ms to find its
/// first instance in a 400-year cycle.
constexpr std::size_t rules_per_timezone_max = 100;

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

} // namespace

civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return civil{static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

std::int64_t clamp_unix(std::int64_t s) noexcept {
  return std::clamp(s, unix_min, unix_max);
}

bool is_valid_time(const icaltimetype &t) noexcept {
  if (t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12 || t.day < 1 ||
      t.day > icaltime_days_in_month(t.month, t.year))
    return false;
  return t.is_date || (t.hour >= 0 && t.hour <= 23 && t.minute >= 0 &&
                       t.minute <= 59 && t.second >= 0 && t.second <= 60);
}

std::int64_t wall_seconds(const icaltimetype &t) noexcept {
  std::int64_t s = days_from_civil(t.year, static_cast<unsigned>(t.month),
                                   static_cast<unsigned>(t.day)) *
                   seconds_per_day;
  if (!t.is_date)
    s += t.hour * 3600 + t.minute * 60 + t.second;
  return s;
}

icaltimetype wall_time(std::int64_t s, bool is_date) noexcept {
  icaltimetype t = icaltime_null_time();
  const std::int64_t days = floor_div(s, seconds_per_day);
  const std::int64_t in_day = s - days * seconds_per_day;
  const civil c = civil_from_days(days);
  t.year = static_cast<int>(c.year);
  t.month = static_cast<int>(c.month);
  t.day = static_cast<int>(c.day);
  t.is_date = is_date ? 1 : 0;
  if (!is_date) {
    t.hour = static_cast<int>(in_day / 3600);
    t.minute = static_cast<int>(in_day / 60 % 60);
    t.second = static_cast<int>(in_day % 60);
  }
  return t;
}

std::string date_key(const icaltimetype &t) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02d%02d", t.year, t.month, t.day);
  return buffer;
}

std::string utc_key(std::int64_t s) {
  const icaltimetype t = wall_time(s, false);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d%02d%02dT%02d%02d%02dZ", t.year,
                t.month, t.day, t.hour, t.minute, t.second);
  return buffer;
}

} // namespace icalendar_detail

using namespace icalendar_detail;

namespace {

/// libical 3.0's icaltimezone_get_builtin_timezone() appends zones it
/// loads to a global array without a lock.
std::mutex &builtin_zone_mutex() {
  static std::mutex m;
  return m;
}

/// The zone name libical's builtin look-up may see, or empty: known TZID
/// prefixes are removed, and only plain zone names pass, since libical
/// opens the name as a file under its zoneinfo directory.
std::string_view builtin_location(std::string_view tzid) noexcept {
  static constexpr std::string_view prefixes[] = {
      "/freeassociation.sourceforge.net/Tzfile/",
      "/freeassociation.sourceforge.net/", "/softwarestudio.org/Tzfile/",
      "/mozilla.org/20050126_1/", "/mozilla.org/20070129_1/"};
  bool stripped = false;
  for (std::string_view prefix : prefixes)
    if (tzid.substr(0, prefix.size()) == prefix) {
      tzid.remove_prefix(prefix.size());
      stripped = true;
      break;
    }
  // Google once wrote "/America/New_York".
  if (!stripped && !tzid.empty() && tzid.front() == '/')
    tzid.remove_prefix(1);
  if (tzid.empty() || tzid.size() > builtin_zone_name_bytes_max)
    return {};
  char previous = '/';
  for (char c : tzid) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                       (c >= '0' && c <= '9') || c == '_' || c == '+' ||
                       c == '-';
    if (c == '/' ? previous == '/' : !plain)
      return {};
    previous = c;
  }
  return previous == '/' ? std::string_view{} : tzid;
}

/// Visits the sources of a VTIMEZONE's offset changes: `on_rdate()` for
/// each RDATE, `on_rule(rule, first)` for each RRULE with its DTSTART.
/// A visitor returning false stops the walk; so does for_each_change_source.
template <class OnRdate, class OnRule>
bool for_each_change_source(icalcomponent *vtimezone, OnRdate on_rdate,
                            OnRule on_rule) {
  for (icalcomponent *o =
           icalcomponent_get_first_component(vtimezone, ICAL_ANY_COMPONENT);
       o != nullptr;
       o = icalcomponent_get_next_component(vtimezone, ICAL_ANY_COMPONENT)) {
    icalproperty *dtstart =
        icalcomponent_get_first_property(o, ICAL_DTSTART_PROPERTY);
    for (icalproperty *p =
             icalcomponent_get_first_property(o, ICAL_ANY_PROPERTY);
         p != nullptr;
         p = icalcomponent_get_next_property(o, ICAL_ANY_PROPERTY)) {
      const icalproperty_kind k = icalproperty_isa(p);
      if (k == ICAL_RDATE_PROPERTY) {
        if (!on_rdate())
          return false;
      } else if (k == ICAL_RRULE_PROPERTY && dtstart != nullptr) {
        if (!on_rule(icalproperty_get_rrule(p),
                     icalproperty_get_dtstart(dtstart)))
          return false;
      }
    }
  }
  return true;
}

/// Whether an upper bound of the VTIMEZONE's offset changes up to
/// `last_year` (yearly_instances_bound per rule, one per RDATE) is known
/// and within timezone_changes_max.
bool changes_bound_within_limit(icalcomponent *vtimezone, int last_year) {
  std::size_t bound = 0;
  return for_each_change_source(
      vtimezone, [&] { return ++bound <= timezone_changes_max; },
      [&](const icalrecurrencetype &rule, const icaltimetype &first) {
        const std::optional<std::size_t> rule_bound =
            yearly_instances_bound(rule, first, last_year);
        if (!rule_bound)
          return false;
        bound += *rule_bound;
        return bound <= timezone_changes_max;
      });
}

/// Why libical is not asked to expand a VTIMEZONE rule, if it is not;
/// `rules` counts the zone's rules so far.
std::optional<std::string> timezone_rule_problem(const icalrecurrencetype &rule,
                                                 const icaltimetype &first,
                                                 std::size_t &rules) {
  if (rule.freq != ICAL_YEARLY_RECURRENCE || !is_gregorian(rule))
    return std::string("VTIMEZONE rule is not yearly");
  if (++rules > rules_per_timezone_max)
    return "VTIMEZONE has more than " + std::to_string(rules_per_timezone_max) +
           " RRULEs";
  if (!may_match(rule, first.day))
    return std::string("VTIMEZONE rule never matches");
  return std::nullopt;
}

/// Whether libical's expansion of the VTIMEZONE stays small: yearly
/// rules, at most timezone_changes_max changes up to the last year any
/// window could have it expanded to. A fixed horizon, not the window's:
/// libical expands at least to its own reading of the current year (plus
/// libical_zone_extra_years), whatever window the caller's "now" gives.
///
/// Counting a rule's changes means iterating it, some 1,000 steps of
/// libical's ICU calendar for a zone that starts in 1601. So when an
/// upper bound of all changes (yearly_instances_bound) is within the
/// limit, as for every real zone, the rules are only checked, not
/// iterated: the outcome is the same.
std::optional<std::string> timezone_cost_problem(icalcomponent *vtimezone) {
  const int last_year = zone_conversion_year_cap + libical_zone_extra_years;
  const bool within_bound = changes_bound_within_limit(vtimezone, last_year);
  std::size_t changes = 0;
  std::size_t rules = 0;
  std::optional<std::string> problem;
  const std::string too_many = "VTIMEZONE changes offset more than " +
                               std::to_string(timezone_changes_max) + " times";
  for_each_change_source(
      vtimezone,
      [&] {
        if (++changes > timezone_changes_max)
          problem = too_many;
        return !problem;
      },
      [&](const icalrecurrencetype &rule, const icaltimetype &first) {
        problem = timezone_rule_problem(rule, first, rules);
        if (problem || within_bound)
          return !problem;
        iterator_ptr it(icalrecur_iterator_new(rule, first));
        while (it) {
          const icaltimetype t = icalrecur_iterator_next(it.get());
          if (icaltime_is_null_time(t) || t.year > last_year)
            break;
          if (++changes > timezone_changes_max) {
            problem = too_many;
            break;
          }
        }
        return !problem;
      });
  return problem;
}

} // namespace

/// A zone by TZID: the file's, else libical's builtin, else null.
icaltimezone *icalendar_reader::state::find_zone(const char *tzid) {
  if (tzid == nullptr || *tzid == '\0')
    return nullptr;
  const std::string_view name = tzid;
  if (auto it = file_zones.find(name); it != file_zones.end())
    return it->second.zone;
  if (auto it = builtin_zones.find(std::string(name));
      it != builtin_zones.end())
    return it->second;
  icaltimezone *zone = nullptr;
  const std::string_view location = builtin_location(name);
  if (!location.empty()) {
    const std::string location_text(location);
    std::lock_guard<std::mutex> lock(builtin_zone_mutex());
    zone = icaltimezone_get_builtin_timezone(location_text.c_str());
  }
  // The cache is bounded like the file's zones; past it, look-ups repeat.
  if (builtin_zones.size() < limits.timezones_max)
    builtin_zones.emplace(std::string(name), zone);
  return zone;
}

/// The zone a DATE or DATE-TIME property's value is in.
frame icalendar_reader::state::frame_of(icalproperty *p,
                                        const icaltimetype &t) {
  frame f;
  if (t.is_date)
    return f;
  if (icaltime_is_utc(t)) {
    f.zone = icaltimezone_get_utc_timezone();
    return f;
  }
  icalparameter *param =
      icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
  if (param == nullptr)
    return f;
  const char *tzid = icalparameter_get_tzid(param);
  f.zone = find_zone(tzid);
  if (f.zone != nullptr && f.zone != icaltimezone_get_utc_timezone())
    f.name = tzid;
  return f;
}

/// Unix seconds of a local time in `zone` (null: UTC).
std::int64_t icalendar_reader::state::to_unix(icaltimetype t,
                                              icaltimezone *zone) const {
  if (t.is_date)
    return wall_seconds(t);
  icaltimezone *utc = icaltimezone_get_utc_timezone();
  if (zone != nullptr && zone != utc && t.year <= conversion_year_max) {
    t.zone = nullptr;
    icaltimezone_convert_time(&t, zone, utc);
  }
  return wall_seconds(t);
}

/// The local time in `f` of an instant, as libical's iterator needs it.
icaltimetype icalendar_reader::state::from_unix(std::int64_t s, const frame &f,
                                                bool is_date) const {
  icaltimetype t = wall_time(clamp_unix(s), is_date);
  if (is_date)
    return t;
  icaltimezone *utc = icaltimezone_get_utc_timezone();
  if (f.zone != nullptr && f.zone != utc && t.year <= conversion_year_max)
    icaltimezone_convert_time(&t, utc, f.zone);
  t.zone = f.zone;
  return t;
}

/// Reads the VTIMEZONE that `begin` opened and registers it under its
/// TZID, unless it is the same zone again or would cost too much.
std::optional<icalendar_error>
icalendar_reader::state::add_timezone(const logical_line &begin) {
  const std::size_t begin_number = begin.number;
  const std::string begin_text = begin.text;
  component_read r = read_component(begin, false);
  if (r.error)
    return r.error;
  if (r.dropped)
    return dropped_error(*r.dropped, r.component.get());
  icalproperty *tzid_property =
      icalcomponent_get_first_property(r.component.get(), ICAL_TZID_PROPERTY);
  const char *tzid =
      tzid_property != nullptr ? icalproperty_get_tzid(tzid_property) : nullptr;
  if (tzid == nullptr || *tzid == '\0')
    return error_at(begin_number, "VTIMEZONE without TZID", begin_text);
  const std::string name = tzid;
  const auto existing = file_zones.find(name);
  if (existing != file_zones.end() && existing->second.text_hash == r.text_hash)
    return std::nullopt; // the same zone again
  if (++timezones_examined > limits.timezones_max)
    return error_at(begin_number,
                    "more than " + std::to_string(limits.timezones_max) +
                        " VTIMEZONEs (timezones_max)",
                    begin_text);
  if (auto problem = timezone_cost_problem(r.component.get()))
    return error_at(begin_number, *problem, begin_text);
  icaltimezone *zone = icaltimezone_new();
  if (zone == nullptr)
    return error_at(begin_number, "libical could not make the VTIMEZONE",
                    begin_text);
  if (icaltimezone_set_component(zone, r.component.get()) == 0) {
    icaltimezone_free(zone, 1);
    return error_at(begin_number, "VTIMEZONE without TZID", begin_text);
  }
  r.component.release(); // the zone owns it now
  if (existing != file_zones.end()) {
    icaltimezone_free(existing->second.zone, 1);
    existing->second = file_zone{zone, r.text_hash};
  } else {
    file_zones.emplace(name, file_zone{zone, r.text_hash});
  }
  return std::nullopt;
}

} // namespace catchup
