// SPDX-License-Identifier: Apache-2.0
#include "formats/icalendar.hpp"
#include "formats/input_stopped.hpp"
#include "formats/physical_lines.hpp"

#include "core/utf8.hpp"

#include <libical/ical.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <iterator>
#include <map>
#include <mutex>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace catchup {
namespace {

/// Bytes read from the stream at a time: big enough for few reads, small
/// enough to stay cheap next to the limits.
constexpr std::size_t chunk_bytes = 64 * 1024;

/// Offset changes one VTIMEZONE may define up to the last year libical
/// expands it to. Real zones have two a year (about 2,000 from Outlook's
/// 1601 up to 2582); libical expands every change into memory, so a rule
/// that changes daily since 1601 would cost minutes and megabytes.
constexpr std::size_t timezone_changes_max = 5000;

/// The last local year converted through a zone, whatever the window: past
/// ICALTIMEZONE_MAX_YEAR - ICALTIMEZONE_EXTRA_COVERAGE (2582 - 5), libical
/// 3.0 re-expands the whole zone on every conversion.
constexpr int zone_conversion_year_cap = 2500;

/// The years libical adds past the last year converted when it expands a
/// zone (ICALTIMEZONE_EXTRA_COVERAGE), and its minimum expansion (the
/// current year, plus the same).
constexpr int libical_zone_extra_years = 5;

/// Raw bytes of a line kept to build its excerpt if it turns out bad.
constexpr std::size_t excerpt_source_bytes = 128;

/// Longest TZID handed to libical's builtin zone look-up; the longest zone
/// name ("America/Argentina/ComodRivadavia") has 32 bytes.
constexpr std::size_t builtin_zone_name_bytes_max = 64;

/// RRULEs per VEVENT (RFC 5545 wants one) and per VTIMEZONE (Thunderbird
/// writes a zone's whole history: 28 for Europe/London). Each costs libical
/// up to some 25 ms to find its first instance in a 400-year cycle.
constexpr std::size_t rules_per_event_max = 16;
constexpr std::size_t rules_per_timezone_max = 100;

constexpr std::int64_t seconds_per_day = 86400;

char ascii_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_upper(a[i]) != ascii_upper(b[i]))
      return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() &&
         iequals(s.substr(0, prefix.size()), prefix);
}

/// What libical's make_segment() trims from a property name.
bool is_c_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

using text::trim;

/// The first `c` outside double quotes, as libical's parser_get_next_char()
/// finds it: a quote toggles quoting unless after a backslash, and the
/// first character is never taken.
std::size_t find_unquoted(std::string_view line, char c) noexcept {
  // Most lines have neither quotes nor backslashes before the character.
  const std::size_t plain = line.size() > 1 ? line.find(c, 1) : line.npos;
  if (plain != line.npos && std::memchr(line.data(), '"', plain) == nullptr &&
      std::memchr(line.data(), '\\', plain) == nullptr)
    return plain;
  bool quoted = false;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i - 1] == '\\')
      continue;
    if (line[i] == '"')
      quoted = !quoted;
    else if (!quoted && line[i] == c)
      return i;
  }
  return std::string_view::npos;
}

/// One content line as this reader sorts it.
struct content_line {
  enum class kind { other, begin, end };
  kind type = kind::other;
  /// As written: a view into the line, empty for a line libical finds no
  /// name in.
  std::string_view name;
  /// For BEGIN and END: the component name, upper case, trimmed.
  std::string component;
};

/// Splits a line the way libical does: the name ends at the first ';' or
/// ':' outside quotes (only the name is scanned, as every line goes
/// through here), and a line named BEGIN or END opens or closes the
/// component named after the colon.
content_line classify(std::string_view line) {
  content_line out;
  bool quoted = false;
  std::size_t name_end = std::string_view::npos;
  for (std::size_t i = 1; i < line.size(); ++i) {
    const char c = line[i];
    if (line[i - 1] == '\\')
      continue;
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == ';' || c == ':')) {
      name_end = i;
      break;
    }
  }
  if (name_end == std::string_view::npos)
    return out;
  std::string_view name = line.substr(0, name_end);
  while (!name.empty() && is_c_space(name.back()))
    name.remove_suffix(1);
  out.name = name;
  const bool begin = iequals(name, "BEGIN");
  if (begin || iequals(name, "END")) {
    out.type = begin ? content_line::kind::begin : content_line::kind::end;
    const std::size_t colon = find_unquoted(line, ':');
    if (colon != std::string_view::npos)
      for (char c : trim(line.substr(colon + 1)))
        out.component += ascii_upper(c);
  }
  return out;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = ascii_upper(c);
  return out;
}

/// Whether `s` is valid UTF-8 without NUL bytes (libical reads C strings);
/// ASCII, by far the most common, is checked first and fast.
bool is_clean_text(std::string_view s) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t highs = 0x8080808080808080u;
  bool ascii = true;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    if (((v - ones) & ~v & highs) != 0)
      return false; // a zero byte
    ascii &= (v & highs) == 0;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '\0')
      return false;
    ascii &= static_cast<unsigned char>(s[i]) < 0x80;
  }
  return ascii || valid_utf8(s);
}

/// The VEVENT properties handed to libical; the rest is never parsed.
enum class event_property {
  uid,
  dtstart,
  dtend,
  duration,
  rrule,
  rdate,
  exdate,
  recurrence_id,
  status,
  transp,
  summary,
  location,
  attendee,
  organizer,
  none
};
constexpr std::size_t event_property_count =
    static_cast<std::size_t>(event_property::none);

/// The names of the event properties, in the order of `event_property`.
constexpr std::string_view event_property_names[] = {
    "UID",     "DTSTART",  "DTEND",         "DURATION", "RRULE",
    "RDATE",   "EXDATE",   "RECURRENCE-ID", "STATUS",   "TRANSP",
    "SUMMARY", "LOCATION", "ATTENDEE",      "ORGANIZER"};

event_property event_property_of(std::string_view name) noexcept {
  for (std::size_t i = 0; i < event_property_count; ++i)
    if (iequals(event_property_names[i], name))
      return static_cast<event_property>(i);
  return event_property::none;
}

/// Properties whose loss changes when or whether the event happens: a
/// value libical cannot parse there skips the event. Elsewhere (an empty
/// SUMMARY, an unknown STATUS) libical drops the property and the event
/// goes on without it.
bool loss_is_fatal(event_property p) noexcept {
  return p <= event_property::recurrence_id;
}

/// The VTIMEZONE properties handed to libical, by nesting depth.
bool is_timezone_property(std::string_view name, int depth) noexcept {
  if (depth == 1)
    return iequals(name, "TZID") || iequals(name, "X-LIC-LOCATION");
  return iequals(name, "DTSTART") || iequals(name, "TZOFFSETFROM") ||
         iequals(name, "TZOFFSETTO") || iequals(name, "RRULE") ||
         iequals(name, "RDATE") || iequals(name, "TZNAME");
}

bool timezone_loss_is_fatal(std::string_view name) noexcept {
  return !iequals(name, "TZNAME") && !iequals(name, "X-LIC-LOCATION");
}

// -- calendar arithmetic (proleptic Gregorian, any year) ---------------------

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t year;
  unsigned month, day;
};

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

/// The first and last instants this reader converts: years 1 to 9999, the
/// range of iCalendar's DATE-TIME.
constexpr std::int64_t unix_min = -62135596800; // 0001-01-01T00:00:00Z
constexpr std::int64_t unix_max = 253402300799; // 9999-12-31T23:59:59Z

std::int64_t clamp_unix(std::int64_t s) noexcept {
  return std::clamp(s, unix_min, unix_max);
}

/// Whether the fields name a real date and time; libical's parser only
/// checks the digits, so it accepts 20240230 and 20241301T256000.
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

/// "YYYYMMDD" of a local date.
std::string date_key(const icaltimetype &t) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d%02d%02d", t.year, t.month, t.day);
  return buffer;
}

/// "YYYYMMDDTHHMMSSZ" of an instant.
std::string utc_key(std::int64_t s) {
  const icaltimetype t = wall_time(s, false);
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d%02d%02dT%02d%02d%02dZ", t.year,
                t.month, t.day, t.hour, t.minute, t.second);
  return buffer;
}

// -- recurrence rules ---------------------------------------------------------

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

/// Entries of a BYxxx array.
std::size_t by_count(const short *by, int size) noexcept {
  std::size_t n = 0;
  while (static_cast<int>(n) < size && by[n] != ICAL_RECURRENCE_ARRAY_MAX)
    ++n;
  return n;
}

/// An upper bound of the instances libical's iterator gives for a YEARLY
/// rule with BYMONTH from `first` up to the end of `last_year`, without
/// iterating (each step costs libical's ICU calendar some microseconds,
/// and an Outlook zone starts in 1601): per year, at most one day per
/// BYMONTHDAY or ordinal BYDAY entry plus five per plain BYDAY entry (31
/// at most), or DTSTART's day, in each month of BYMONTH, at each BYHOUR × BYMINUTE ×
/// BYSECOND; COUNT and UNTIL cap it. Null for other rules (BYWEEKNO,
/// BYYEARDAY, no BYMONTH), which are counted by iterating.
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

bool is_gregorian(const icalrecurrencetype &r) noexcept {
  return r.rscale == nullptr || *r.rscale == '\0' ||
         iequals(r.rscale, "GREGORIAN");
}

// -- libical ----------------------------------------------------------------

void init_libical() {
  static std::once_flag once;
  std::call_once(once, [] { icalerror_set_errors_are_fatal(0); });
}

/// libical 3.0's icaltimezone_get_builtin_timezone() appends zones it
/// loads to a global array without a lock.
std::mutex &builtin_zone_mutex() {
  static std::mutex m;
  return m;
}

struct parser_deleter {
  void operator()(icalparser *p) const noexcept {
    icalparser_free(p);
  }
};
using parser_ptr = std::unique_ptr<icalparser, parser_deleter>;

struct component_deleter {
  void operator()(icalcomponent *c) const noexcept {
    icalcomponent_free(c);
  }
};
using component_ptr = std::unique_ptr<icalcomponent, component_deleter>;

struct iterator_deleter {
  void operator()(icalrecur_iterator *i) const noexcept {
    icalrecur_iterator_free(i);
  }
};
using iterator_ptr = std::unique_ptr<icalrecur_iterator, iterator_deleter>;

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

/// A time's zone as resolved by this reader: null for floating times and
/// dates (taken as UTC); `name` is the TZID, empty for UTC.
struct frame {
  icaltimezone *zone = nullptr;
  std::string name;
};

/// libical's message for the property `name`, without "Removing entire
/// property" and the offending text, which the excerpt shows. libical puts
/// X-LIC-ERROR in the component the line was in (a VTIMEZONE's STANDARD).
std::string libical_message(icalcomponent *top, const std::string &name) {
  std::string fallback;
  const std::string needle = " " + name + " property";
  std::vector<icalcomponent *> components{top};
  for (icalcomponent *sub =
           icalcomponent_get_first_component(top, ICAL_ANY_COMPONENT);
       sub != nullptr;
       sub = icalcomponent_get_next_component(top, ICAL_ANY_COMPONENT))
    components.push_back(sub);
  for (icalcomponent *c : components)
    for (icalproperty *p =
             icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY);
         p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
      const char *text = icalproperty_get_xlicerror(p);
      std::string_view message = text != nullptr ? text : "";
      const std::size_t removing = message.find(". Removing entire property");
      if (removing != std::string_view::npos)
        message = message.substr(0, removing);
      else
        message = message.substr(0, message.find(": "));
      std::string clean = printable_excerpt(message, 200);
      if (message.find(needle) != std::string_view::npos)
        return clean;
      if (fallback.empty())
        fallback = std::move(clean);
    }
  return fallback.empty() ? "the value cannot be parsed" : fallback;
}

/// Attendee and organiser addresses: "mailto:" removed, lower case; other
/// URIs (urn:uuid:…) and values without '@' are left out.
std::string email_of(std::string_view v) {
  v = trim(v);
  if (istarts_with(v, "mailto:"))
    v = trim(v.substr(7));
  const std::size_t at = v.find('@');
  if (at == std::string_view::npos ||
      v.substr(0, at).find(':') != std::string_view::npos)
    return {};
  std::string out(v);
  for (char &c : out)
    c = ascii_lower(c);
  return out;
}

}  // namespace

std::string derived_event_uid(std::string_view dtstart, std::string_view tzid,
                              std::string_view summary,
                              std::string_view organizer) {
  // FNV-1a, as for contacts without UID: stable across builds, unlike
  // std::hash, so a rerun of the same file finds the same event.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff; // a separator: ("ab", "c") and ("a", "bc") differ
    h *= 1099511628211ULL;
  };
  mix(dtstart);
  mix(tzid);
  mix(summary);
  mix(organizer);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx",
                static_cast<unsigned long long>(h));
  return std::string{"derived:"} + text;
}

namespace {

std::uint64_t override_key(std::string_view uid, std::string_view instance) {
  // The pair, not the strings: 8 bytes per remembered override whatever
  // the UID's length; a 64-bit collision among 10,000 is negligible.
  std::string joined;
  joined.reserve(uid.size() + 1 + instance.size());
  joined.append(uid).append(1, '\n').append(instance);
  return std::hash<std::string>{}(joined);
}

} // namespace

struct icalendar_reader::state {
  using physical_line = detail::physical_line;

  /// A physical line with its folded continuations.
  struct logical_line {
    std::string text;
    std::size_t number = 0;
    std::size_t bytes = 0;
    /// The first physical line over line_bytes_max, or 0.
    std::size_t overflow_line = 0;
  };

  /// Where a property handed to libical came from, for error messages.
  struct source_line {
    std::size_t number = 0;
    std::string head;
    /// Upper case.
    std::string name;
  };

  /// One instance chosen for output.
  struct instance {
    std::int64_t end_unix_s = 0;
    std::string key;
  };

  std::istream &in;
  std::int64_t window_from;
  std::int64_t window_to;
  icalendar_limits limits;
  /// See zone_conversion_year_cap.
  int conversion_year_max = 0;

  std::uint64_t bytes = 0;
  std::size_t line = 0;
  std::string buffer;
  /// Where each chunk is read to before it joins `buffer`.
  std::unique_ptr<char[]> chunk;
  std::size_t position = 0;
  bool started = false;
  bool end_of_stream = false;
  physical_line look;
  bool has_look = false;
  physical_line current;
  logical_line next_line;
  bool has_next = false;
  logical_line taken;

  bool finished = false;
  bool seen_calendar = false;
  std::uint64_t outside = 0;

  parser_ptr parser;
  /// The file's VTIMEZONEs, owned, with a hash of their text so that the
  /// same zone repeated (some exporters write one per event) costs nothing.
  struct file_zone {
    icaltimezone *zone = nullptr;
    std::size_t text_hash = 0;
  };
  std::map<std::string, file_zone, std::less<>> file_zones;
  /// VTIMEZONEs kept, replaced or rejected so far (an identical repeat is
  /// free): bounded by timezones_max, as each may cost libical time.
  std::size_t timezones_examined = 0;
  /// Builtin zones by TZID, not owned (libical keeps them for the
  /// process); null for names that are not builtin zones.
  std::unordered_map<std::string, icaltimezone *> builtin_zones;
  std::unordered_set<std::uint64_t> overrides;
  /// The addresses of the VEVENT being read (see read_component).
  std::vector<std::string> attendees;
  /// The first line of each property of the VEVENT being read, for error
  /// messages; kept between events so its strings keep their capacity.
  std::vector<source_line> sources =
      std::vector<source_line>(event_property_count);

  // What the last VEVENT produced and next() has not returned yet.
  calendar_event_item base;
  bool base_pending = false;
  std::vector<std::pair<std::int64_t, instance>> instances;
  std::size_t next_instance = 0;
  std::optional<icalendar_error> error_after;

  state(std::istream &stream, std::int64_t from, std::int64_t to,
        icalendar_limits l)
      : in(stream), window_from(clamp_unix(from)), window_to(clamp_unix(to)),
        limits(l), parser(icalparser_new()) {
    init_libical();
    window_to = std::max(window_to, window_from);
    // The window's years, not the calendar's: what is read must not
    // depend on the day it is read (the window is around the caller's
    // "now").
    const auto window_start_year = static_cast<int>(
        civil_from_days(floor_div(window_from, seconds_per_day)).year);
    const auto window_end_year = static_cast<int>(
        civil_from_days(floor_div(window_to, seconds_per_day)).year);
    conversion_year_max = std::min(
        zone_conversion_year_cap,
        std::max(window_start_year + libical_zone_extra_years,
                 window_end_year + 1));
  }

  ~state() {
    for (auto &[name, z] : file_zones)
      icaltimezone_free(z.zone, 1);
  }
  state(const state &) = delete;
  state &operator=(const state &) = delete;

  // -- input ----------------------------------------------------------------

  /// Appends the next chunk to `buffer`, without a leading UTF-8 byte order
  /// mark; false at end of input.
  bool fill() {
    // Read into an uninitialised chunk and append what came: resizing the
    // string by a whole chunk first would zero 64 KiB per read, however
    // small the input.
    if (!chunk)
      chunk.reset(new char[chunk_bytes]);
    while (!end_of_stream) {
      in.read(chunk.get(), static_cast<std::streamsize>(chunk_bytes));
      const auto got =
          static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0));
      bytes += got;
      buffer.append(chunk.get(), got);
      if (got == 0) {
        end_of_stream = true;
        return false;
      }
      if (!started) {
        started = true;
        if (buffer.compare(position, 3, "\xEF\xBB\xBF") == 0)
          position += 3;
      }
      if (position < buffer.size())
        return true;
    }
    return false;
  }

  /// Reads one physical line (formats/physical_lines.hpp).
  bool read_line(physical_line &l) {
    return detail::read_physical_line(buffer, position, line, l,
                                      limits.line_bytes_max,
                                      limits.component_bytes_max, "iCalendar",
                                      [this] { return fill(); });
  }

  bool peek_physical() {
    if (!has_look)
      has_look = read_line(look);
    return has_look;
  }

  /// Reads one logical line: a physical line and the following ones that
  /// start with a space or tab, that character removed (RFC 5545 3.1). At
  /// most component_bytes_max of its text is kept; a longer line is
  /// reported through its byte count.
  bool read_logical(logical_line &l) {
    if (!peek_physical())
      return false;
    std::swap(current, look);
    has_look = false;
    const std::size_t keep = limits.component_bytes_max;
    l.number = current.number;
    l.bytes = current.bytes;
    l.overflow_line = current.overflow ? current.number : 0;
    std::swap(l.text, current.text); // no copy: `current` is refilled anyway
    if (l.text.size() > keep)
      l.text.resize(keep);
    while (peek_physical() && !look.text.empty() &&
           (look.text.front() == ' ' || look.text.front() == '\t')) {
      std::swap(current, look);
      has_look = false;
      l.bytes += current.bytes;
      if (current.overflow && l.overflow_line == 0)
        l.overflow_line = current.number;
      const std::size_t room = keep - std::min(keep, l.text.size());
      l.text.append(current.text, 1, room);
    }
    return true;
  }

  bool peek() {
    if (!has_next)
      has_next = read_logical(next_line);
    return has_next;
  }

  logical_line &take() {
    std::swap(taken, next_line);
    has_next = false;
    return taken;
  }

  /// Lines that cannot be inside a VEVENT or VTIMEZONE: seen there, they
  /// mean its END is missing, and they start the next round.
  static bool is_boundary(const content_line &c) noexcept {
    if (c.type == content_line::kind::begin)
      return c.component == "VEVENT" || c.component == "VTIMEZONE" ||
             c.component == "VCALENDAR";
    return c.type == content_line::kind::end && c.component == "VCALENDAR";
  }

  icalendar_error error_at(std::size_t number, std::string reason,
                           std::string_view text) const {
    return icalendar_error{number, std::move(reason), printable_excerpt(text)};
  }

  void reset_parser() {
    parser.reset(icalparser_new());
  }

  icalcomponent *feed(std::string &text) {
    return icalparser_add_line(parser.get(), text.data());
  }

  icalcomponent *feed_marker(const char *marker) {
    std::string text = marker;
    return feed(text);
  }

  /// Skips what is left of a component after an error, up to its END or
  /// to a line that starts the next round.
  void skip_rest(int depth, const std::string &kind) {
    while (depth > 0 && peek()) {
      const content_line c = classify(next_line.text);
      if (is_boundary(c))
        return;
      take();
      if (c.type == content_line::kind::begin)
        ++depth;
      else if (c.type == content_line::kind::end)
        depth = c.component == kind ? 0 : depth - 1;
    }
  }

  /// What reading one component gave.
  struct component_read {
    component_ptr component;
    std::optional<icalendar_error> error;
    /// The first property libical could not parse and had to drop.
    std::optional<source_line> dropped;
    std::size_t text_hash = 0;
  };

  /// Where the reading of one VEVENT or VTIMEZONE has got to.
  struct open_component {
    bool event = false;
    /// "VEVENT" or "VTIMEZONE".
    std::string kind;
    /// Copied: the BEGIN line itself is reused by the lines that follow.
    std::size_t begin_number = 0;
    std::string begin_excerpt;
    /// Bytes read so far, the BEGIN line included.
    std::size_t size = 0;
    /// Components open, this one included.
    int depth = 1;
    /// The STANDARD or DAYLIGHT open in a VTIMEZONE, or empty.
    std::string observance;
  };

  /// Folds `text` into the hash that recognises a repeated VTIMEZONE.
  static void mix_hash(std::size_t &hash, std::string_view text) {
    hash ^= std::hash<std::string_view>{}(text) + 0x9e3779b9 + (hash << 6);
  }

  icalendar_error line_too_long(const logical_line &l) const {
    return error_at(l.overflow_line,
                    "line longer than " +
                        std::to_string(limits.line_bytes_max) + " bytes",
                    l.text);
  }

  /// Ends a read on an error: drops what libical holds and skips the rest
  /// of the component.
  component_read failed(component_read r, const open_component &o,
                        icalendar_error e) {
    r.error = std::move(e);
    r.component.reset();
    reset_parser();
    skip_rest(o.depth, o.kind);
    return r;
  }

  /// Ends a read whose END never came: at the end of input (`next` null)
  /// or at `next`, a line that starts the next round.
  component_read unfinished(component_read r, const open_component &o,
                            const content_line *next) {
    std::string reason = o.kind + " has no END:" + o.kind;
    if (next != nullptr)
      reason += std::string(" (next ") +
                (next->type == content_line::kind::begin ? "BEGIN:" : "END:") +
                next->component + " at line " +
                std::to_string(next_line.number) + ")";
    r.error = icalendar_error{o.begin_number, std::move(reason),
                              o.begin_excerpt};
    reset_parser();
    return r;
  }

  /// The error of a line over line_bytes_max or of a component that has
  /// grown past component_bytes_max with it, if any.
  std::optional<icalendar_error> size_problem(const open_component &o,
                                              const logical_line &l) const {
    if (l.overflow_line != 0)
      return line_too_long(l);
    if (o.size > limits.component_bytes_max)
      return error_at(l.number,
                      o.kind + " longer than " +
                          std::to_string(limits.component_bytes_max) +
                          " bytes",
                      l.text);
    return std::nullopt;
  }

  /// A BEGIN inside the component: a VTIMEZONE's STANDARD or DAYLIGHT
  /// goes to libical, anything else is only counted.
  void open_nested(component_read &r, open_component &o,
                   const content_line &c) {
    ++o.depth;
    if (o.event || o.depth != 2 ||
        (c.component != "STANDARD" && c.component != "DAYLIGHT"))
      return;
    o.observance = c.component;
    feed_marker(o.observance == "STANDARD" ? "BEGIN:STANDARD"
                                           : "BEGIN:DAYLIGHT");
    mix_hash(r.text_hash, o.observance);
  }

  /// An END: closes an observance, a nested component, or the component
  /// itself, which libical then hands over (true).
  bool close_nested(component_read &r, open_component &o,
                    const content_line &c) {
    const bool closes = o.depth == 1 || c.component == o.kind;
    if (!o.observance.empty() && (closes || o.depth == 2)) {
      feed_marker(o.observance == "STANDARD" ? "END:STANDARD"
                                             : "END:DAYLIGHT");
      o.observance.clear();
    }
    if (!closes) {
      --o.depth;
      return false;
    }
    r.component.reset(feed_marker(o.event ? "END:VEVENT" : "END:VTIMEZONE"));
    if (!r.component) {
      r.error = icalendar_error{o.begin_number,
                                "libical could not read the " + o.kind,
                                o.begin_excerpt};
      reset_parser();
    }
    return true;
  }

  /// Whether a property is handed on: a VEVENT's own properties that the
  /// record needs (`p` says which), a VTIMEZONE's TZID and the rules of
  /// its observances.
  static bool is_wanted(const open_component &o, const content_line &c,
                        event_property &p) {
    if (o.event) {
      if (o.depth != 1)
        return false;
      p = event_property_of(c.name);
      return p != event_property::none;
    }
    return (o.depth == 1 || !o.observance.empty()) && o.depth <= 2 &&
           is_timezone_property(c.name, o.depth);
  }

  /// Keeps the first line of a property whose loss is fatal, for the
  /// errors about its value.
  void remember_source(event_property p, const logical_line &l) {
    source_line &s = sources[static_cast<std::size_t>(p)];
    if (s.number != 0)
      return;
    s.number = l.number;
    s.head.assign(l.text, 0, excerpt_source_bytes);
    s.name = event_property_names[static_cast<std::size_t>(p)];
  }

  /// Takes the address of an ATTENDEE or ORGANIZER line. A CAL-ADDRESS is
  /// a URI libical would only copy, and parsing the parameters (CN, ROLE,
  /// PARTSTAT, RSVP, X-NUM-GUESTS…) was most of its work on a meeting: ten
  /// Google attendees cost 5 µs an event. So the address is taken here,
  /// after the first unquoted colon.
  void add_attendee(std::string_view text) {
    const std::size_t colon = find_unquoted(text, ':');
    if (colon == std::string::npos || attendees.size() >= attendees_max)
      return;
    std::string email = email_of(text.substr(colon + 1));
    if (!email.empty() &&
        std::find(attendees.begin(), attendees.end(), email) ==
            attendees.end())
      attendees.push_back(std::move(email));
  }

  /// One property line of the component: handed to libical only if the
  /// record needs it; an error if it is not clean text.
  std::optional<icalendar_error> read_property(component_read &r,
                                               const open_component &o,
                                               logical_line &l,
                                               const content_line &c) {
    event_property p = event_property::none;
    if (!is_wanted(o, c, p))
      return std::nullopt;
    if (!is_clean_text(l.text))
      return error_at(l.number,
                      (l.text.find('\0') != std::string::npos
                           ? "NUL byte in "
                           : "invalid UTF-8 in ") +
                          upper(c.name),
                      l.text);
    if (!o.event)
      mix_hash(r.text_hash, l.text);
    const bool fatal =
        o.event ? loss_is_fatal(p) : timezone_loss_is_fatal(c.name);
    if (o.event && fatal)
      remember_source(p, l);
    if (p == event_property::attendee || p == event_property::organizer) {
      add_attendee(l.text);
      return std::nullopt;
    }
    feed(l.text);
    if (fatal && !r.dropped &&
        icalparser_get_state(parser.get()) == ICALPARSER_ERROR)
      r.dropped = source_line{
          l.number, l.text.substr(0, excerpt_source_bytes), upper(c.name)};
    return std::nullopt;
  }

  /// Reads the VEVENT or VTIMEZONE that `begin` opened, handing the lines
  /// that matter to libical as they come, so the component's text is never
  /// held whole.
  component_read read_component(const logical_line &begin, bool event) {
    component_read r;
    open_component o;
    o.event = event;
    o.kind = event ? "VEVENT" : "VTIMEZONE";
    o.begin_number = begin.number;
    o.begin_excerpt = printable_excerpt(begin.text);
    o.size = begin.bytes;
    if (begin.overflow_line != 0)
      return failed(std::move(r), o, line_too_long(begin));
    if (event) {
      for (source_line &s : sources)
        s.number = 0;
      attendees.clear();
    }
    feed_marker(event ? "BEGIN:VEVENT" : "BEGIN:VTIMEZONE");
    for (;;) {
      if (!peek())
        return unfinished(std::move(r), o, nullptr);
      content_line c = classify(next_line.text);
      if (is_boundary(c))
        return unfinished(std::move(r), o, &c);
      logical_line &l = take();
      c.name = std::string_view(l.text).substr(0, c.name.size()); // moved
      o.size += l.bytes;
      if (auto e = size_problem(o, l))
        return failed(std::move(r), o, std::move(*e));
      if (c.type == content_line::kind::begin) {
        open_nested(r, o, c);
      } else if (c.type == content_line::kind::end) {
        if (close_nested(r, o, c))
          return r;
      } else if (auto e = read_property(r, o, l, c)) {
        return failed(std::move(r), o, std::move(*e));
      }
    }
  }

  // -- time zones -----------------------------------------------------------

  /// A zone by TZID: the file's, else libical's builtin, else null.
  icaltimezone *find_zone(const char *tzid) {
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
  frame frame_of(icalproperty *p, const icaltimetype &t) {
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
  std::int64_t to_unix(icaltimetype t, icaltimezone *zone) const {
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
  icaltimetype from_unix(std::int64_t s, const frame &f, bool is_date) const {
    icaltimetype t = wall_time(clamp_unix(s), is_date);
    if (is_date)
      return t;
    icaltimezone *utc = icaltimezone_get_utc_timezone();
    if (f.zone != nullptr && f.zone != utc && t.year <= conversion_year_max)
      icaltimezone_convert_time(&t, utc, f.zone);
    t.zone = f.zone;
    return t;
  }

  /// Whether an upper bound of the VTIMEZONE's offset changes up to
  /// `last_year` (yearly_instances_bound per rule, one per RDATE) is known
  /// and within timezone_changes_max.
  static bool changes_bound_within_limit(icalcomponent *vtimezone,
                                         int last_year) {
    std::size_t bound = 0;
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
          ++bound;
        } else if (k == ICAL_RRULE_PROPERTY && dtstart != nullptr) {
          const std::optional<std::size_t> rule_bound =
              yearly_instances_bound(icalproperty_get_rrule(p),
                                     icalproperty_get_dtstart(dtstart),
                                     last_year);
          if (!rule_bound)
            return false;
          bound += *rule_bound;
        }
        if (bound > timezone_changes_max)
          return false;
      }
    }
    return true;
  }

  /// Why libical is not asked to expand a VTIMEZONE rule, if it is not;
  /// `rules` counts the zone's rules so far.
  static std::optional<std::string>
  timezone_rule_problem(const icalrecurrencetype &rule,
                        const icaltimetype &first, std::size_t &rules) {
    if (rule.freq != ICAL_YEARLY_RECURRENCE || !is_gregorian(rule))
      return std::string("VTIMEZONE rule is not yearly");
    if (++rules > rules_per_timezone_max)
      return "VTIMEZONE has more than " +
             std::to_string(rules_per_timezone_max) + " RRULEs";
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
          ++changes;
        } else if (k == ICAL_RRULE_PROPERTY && dtstart != nullptr) {
          const icalrecurrencetype rule = icalproperty_get_rrule(p);
          const icaltimetype first = icalproperty_get_dtstart(dtstart);
          if (auto problem = timezone_rule_problem(rule, first, rules))
            return problem;
          if (within_bound)
            continue;
          iterator_ptr it(icalrecur_iterator_new(rule, first));
          while (it) {
            const icaltimetype t = icalrecur_iterator_next(it.get());
            if (icaltime_is_null_time(t) || t.year > last_year)
              break;
            if (++changes > timezone_changes_max)
              break;
          }
        }
        if (changes > timezone_changes_max)
          return "VTIMEZONE changes offset more than " +
                 std::to_string(timezone_changes_max) + " times";
      }
    }
    return std::nullopt;
  }

  /// The error for a property libical could not parse and dropped.
  icalendar_error dropped_error(const source_line &dropped,
                                icalcomponent *component) const {
    return error_at(dropped.number,
                    "bad " + dropped.name + " (libical: " +
                        libical_message(component, dropped.name) + ")",
                    dropped.head);
  }

  std::optional<icalendar_error> add_timezone(const logical_line &begin) {
    const std::size_t begin_number = begin.number;
    const std::string begin_text = begin.text;
    component_read r = read_component(begin, false);
    if (r.error)
      return r.error;
    if (r.dropped)
      return dropped_error(*r.dropped, r.component.get());
    icalproperty *tzid_property =
        icalcomponent_get_first_property(r.component.get(), ICAL_TZID_PROPERTY);
    const char *tzid = tzid_property != nullptr
                           ? icalproperty_get_tzid(tzid_property)
                           : nullptr;
    if (tzid == nullptr || *tzid == '\0')
      return error_at(begin_number, "VTIMEZONE without TZID", begin_text);
    const std::string name = tzid;
    const auto existing = file_zones.find(name);
    if (existing != file_zones.end() &&
        existing->second.text_hash == r.text_hash)
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

  // -- events ---------------------------------------------------------------

  bool overlaps(std::int64_t start, std::int64_t end) const noexcept {
    return start < window_to &&
           (end > window_from || (end == start && start >= window_from));
  }

  /// The end of an event without DTEND: days and weeks are added to the
  /// local date, the rest as elapsed seconds.
  std::int64_t end_from_duration(icaltimetype start, const frame &f,
                                 std::int64_t start_unix,
                                 const icaldurationtype &d) const {
    if (d.is_neg)
      return start_unix;
    const std::int64_t days = static_cast<std::int64_t>(d.days) +
                              7 * static_cast<std::int64_t>(d.weeks);
    const std::int64_t rest = static_cast<std::int64_t>(d.hours) * 3600 +
                              static_cast<std::int64_t>(d.minutes) * 60 +
                              static_cast<std::int64_t>(d.seconds);
    if (start.is_date || days == 0)
      return start_unix + days * seconds_per_day + rest;
    // Shift the wall date, then convert: P1D keeps the wall clock time.
    const std::int64_t wall =
        clamp_unix(wall_seconds(start) + days * seconds_per_day);
    icaltimetype shifted = wall_time(wall, false);
    return to_unix(shifted, f.zone) + rest;
  }

  /// Reports an event error and drops what the event had set up.
  std::optional<icalendar_error>
  event_error(std::size_t number, std::string reason, std::string_view text) {
    base = calendar_event_item{};
    base_pending = false;
    instances.clear();
    next_instance = 0;
    return error_at(number, std::move(reason), text);
  }

  const source_line &source(event_property p) const {
    return sources[static_cast<std::size_t>(p)];
  }

  /// Reports a value libical read that is no date or time, at the first
  /// line of its property (or at the event's BEGIN line).
  std::optional<icalendar_error> bad_value(event_property p,
                                           std::size_t begin_number,
                                           std::string_view begin_text) {
    const source_line &s = source(p);
    return event_error(s.number != 0 ? s.number : begin_number,
                       "bad " + s.name + " (no such date or time)",
                       s.number != 0 ? std::string_view(s.head) : begin_text);
  }

  /// The properties that identify a VEVENT and say when it happens; the
  /// first of each that may appear once.
  struct event_properties {
    const char *uid = nullptr;
    const char *organizer = nullptr;
    icalproperty *dtstart = nullptr;
    icalproperty *dtend = nullptr;
    icalproperty *duration = nullptr;
    icalproperty *recurrence_id = nullptr;
    std::vector<icalproperty *> rrules, rdates, exdates;

    /// Takes `p` if it is one of these; false otherwise.
    bool collect(icalproperty_kind kind, icalproperty *p) {
      switch (kind) {
      case ICAL_UID_PROPERTY:
        if (uid == nullptr)
          uid = icalproperty_get_uid(p);
        return true;
      case ICAL_ORGANIZER_PROPERTY:
        if (organizer == nullptr)
          organizer = icalproperty_get_organizer(p);
        return true;
      case ICAL_DTSTART_PROPERTY:
        return first_only(dtstart, p);
      case ICAL_DTEND_PROPERTY:
        return first_only(dtend, p);
      case ICAL_DURATION_PROPERTY:
        return first_only(duration, p);
      case ICAL_RECURRENCEID_PROPERTY:
        return first_only(recurrence_id, p);
      case ICAL_RRULE_PROPERTY:
        rrules.push_back(p);
        return true;
      case ICAL_RDATE_PROPERTY:
        rdates.push_back(p);
        return true;
      case ICAL_EXDATE_PROPERTY:
        exdates.push_back(p);
        return true;
      default:
        return false;
      }
    }

    static bool first_only(icalproperty *&slot, icalproperty *p) {
      if (slot == nullptr)
        slot = p;
      return true;
    }
  };

  /// Takes what describes the event (status, transparency, summary,
  /// location) from `p` into `item`.
  static void take_description(icalproperty_kind kind, icalproperty *p,
                               calendar_event_item &item) {
    switch (kind) {
    case ICAL_STATUS_PROPERTY:
      item.cancelled = icalproperty_get_status(p) == ICAL_STATUS_CANCELLED;
      break;
    case ICAL_TRANSP_PROPERTY: {
      const icalproperty_transp t = icalproperty_get_transp(p);
      item.busy = t != ICAL_TRANSP_TRANSPARENT &&
                  t != ICAL_TRANSP_TRANSPARENTNOCONFLICT;
      break;
    }
    case ICAL_SUMMARY_PROPERTY:
      if (const char *s = icalproperty_get_summary(p);
          s != nullptr && item.summary.empty())
        item.summary = s;
      break;
    case ICAL_LOCATION_PROPERTY:
      if (const char *s = icalproperty_get_location(p);
          s != nullptr && item.location.empty())
        item.location = s;
      break;
    default:
      break;
    }
  }

  /// Sorts the VEVENT's properties: those that identify and time it into
  /// the result, those that describe it into `item`.
  static event_properties properties_of(icalcomponent *c,
                                        calendar_event_item &item) {
    event_properties e;
    for (icalproperty *p =
             icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
         p != nullptr;
         p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
      const icalproperty_kind kind = icalproperty_isa(p);
      if (!e.collect(kind, p))
        take_description(kind, p, item);
    }
    return e;
  }

  /// The event's UID. RFC 5545 requires one, yet some exporters leave it
  /// out; such an event gets one derived from what identifies it, so
  /// importing the file again updates it instead of adding it twice.
  static std::string series_id_of(const event_properties &e,
                                  const calendar_event_item &item) {
    if (e.uid != nullptr && *e.uid != '\0')
      return e.uid;
    const char *start_text = icalproperty_get_value_as_string(e.dtstart);
    const char *tzid = icalproperty_get_parameter_as_string(e.dtstart, "TZID");
    return derived_event_uid(start_text ? start_text : "", tzid ? tzid : "",
                             item.summary, e.organizer ? e.organizer : "");
  }

  /// The end of an event: its DTEND, else its start plus DURATION, else
  /// the next day for an all-day one, else its start; never before its
  /// start. Empty for a DTEND that is no date or time.
  std::optional<std::int64_t> end_of(const event_properties &e,
                                     const icaltimetype &start,
                                     const frame &start_frame,
                                     std::int64_t start_unix) {
    std::int64_t end_unix = start_unix;
    if (e.dtend != nullptr) {
      const icaltimetype end = icalproperty_get_dtend(e.dtend);
      if (!is_valid_time(end))
        return std::nullopt;
      end_unix = to_unix(end, frame_of(e.dtend, end).zone);
    } else if (e.duration != nullptr) {
      end_unix = end_from_duration(start, start_frame, start_unix,
                                   icalproperty_get_duration(e.duration));
    } else if (start.is_date) {
      end_unix = start_unix + seconds_per_day;
    }
    return std::max(end_unix, start_unix);
  }

  /// Hands `item` to next(): a single event, an override or a cancelled
  /// series.
  void keep(calendar_event_item item) {
    base = std::move(item);
    base_pending = true;
  }

  /// A single event: kept if it overlaps the window.
  void add_single(calendar_event_item item) {
    if (!overlaps(item.start_unix_s, item.end_unix_s)) {
      ++outside;
      return;
    }
    item.external_id = item.series_id;
    keep(std::move(item));
  }

  /// An event with RECURRENCE-ID: it replaces one instance of its series,
  /// which the series' expansion then leaves out (see `overrides`). Kept
  /// if it or the instance it replaces overlaps the window.
  std::optional<icalendar_error> add_override(calendar_event_item item,
                                              icalproperty *recurrence_id,
                                              std::size_t begin_number,
                                              std::string_view begin_text) {
    const icaltimetype original = icalproperty_get_recurrenceid(recurrence_id);
    if (!is_valid_time(original))
      return bad_value(event_property::recurrence_id, begin_number,
                       begin_text);
    const std::int64_t original_unix =
        to_unix(original, frame_of(recurrence_id, original).zone);
    const std::string key =
        original.is_date ? date_key(original) : utc_key(original_unix);
    if (overrides.size() < limits.overrides_max)
      overrides.insert(override_key(item.series_id, key));
    const std::int64_t length = item.end_unix_s - item.start_unix_s;
    if (!overlaps(item.start_unix_s, item.end_unix_s) &&
        !overlaps(original_unix, original_unix + length)) {
      ++outside;
      return std::nullopt;
    }
    item.external_id = item.series_id + "/" + key;
    keep(std::move(item));
    return std::nullopt;
  }

  std::optional<icalendar_error> add_event(const logical_line &begin) {
    const std::size_t begin_number = begin.number;
    const std::string begin_text = begin.text;
    component_read r = read_component(begin, true);
    if (r.error)
      return r.error;
    if (r.dropped)
      return dropped_error(*r.dropped, r.component.get());
    calendar_event_item item;
    item.position = begin_number;
    const event_properties e = properties_of(r.component.get(), item);
    item.attendee_emails = std::move(attendees);
    attendees.clear();
    if (e.dtstart == nullptr)
      return event_error(begin_number, "VEVENT without DTSTART", begin_text);
    item.series_id = series_id_of(e, item);

    const icaltimetype start = icalproperty_get_dtstart(e.dtstart);
    if (!is_valid_time(start))
      return bad_value(event_property::dtstart, begin_number, begin_text);
    const frame start_frame = frame_of(e.dtstart, start);
    const std::int64_t start_unix = to_unix(start, start_frame.zone);
    const std::optional<std::int64_t> end_unix =
        end_of(e, start, start_frame, start_unix);
    if (!end_unix)
      return bad_value(event_property::dtend, begin_number, begin_text);
    item.timezone = start_frame.name;
    item.start_unix_s = start_unix;
    item.end_unix_s = *end_unix;
    item.all_day = start.is_date != 0;

    if (e.recurrence_id != nullptr)
      return add_override(std::move(item), e.recurrence_id, begin_number,
                          begin_text);
    if (e.rrules.empty() && e.rdates.empty()) {
      add_single(std::move(item));
      return std::nullopt;
    }
    if (item.cancelled) {
      // The whole series goes, whatever the window.
      item.external_id = item.series_id;
      keep(std::move(item));
      return std::nullopt;
    }
    return expand(std::move(item), start, start_frame, begin_number, begin_text,
                  e);
  }

  // -- recurrence -----------------------------------------------------------

  /// The instances of one recurring event chosen so far.
  struct instance_choice {
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
  bool consider(instance_choice &choice, const calendar_event_item &item,
                const icaltimetype &local, std::int64_t s, std::int64_t e) {
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
  exclude(instance_choice &choice, const std::vector<icalproperty *> &exdates,
          bool all_day) {
    for (icalproperty *p : exdates) {
      const icaltimetype t = icalproperty_get_exdate(p);
      if (!is_valid_time(t)) {
        const source_line &s = source(event_property::exdate);
        return event_error(s.number, "bad EXDATE (no such date or time)",
                           s.head);
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
  std::optional<icalendar_error>
  consider_rdates(instance_choice &choice, const calendar_event_item &item,
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
        return event_error(s.number, "bad RDATE (no such date or time)",
                           s.head);
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

  /// Why an event's RRULE is not expanded, if it is not.
  static std::optional<std::string>
  rule_problem(const icalrecurrencetype &rule, const icaltimetype &start) {
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

  std::optional<icalendar_error> too_many_steps() {
    const source_line &s = source(event_property::rrule);
    return event_error(s.number,
                       "recurrence takes more than " +
                           std::to_string(limits.recurrence_steps_max) +
                           " steps (recurrence_steps_max)",
                       s.head);
  }

  /// Offers the instances of one RRULE, counting libical's steps for all
  /// the event's rules in `steps`.
  std::optional<icalendar_error>
  expand_rule(instance_choice &choice, const calendar_event_item &item,
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
      return event_error(s.number, "RRULE cannot be expanded by libical",
                         s.head);
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
  std::optional<icalendar_error>
  consider_rrules(instance_choice &choice, const calendar_event_item &item,
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
      if (auto error =
              expand_rule(choice, item, rule, start, start_frame, steps))
        return error;
    }
    return std::nullopt;
  }

  /// Hands the chosen instances of `item` to next(), followed by an error
  /// if later ones did not fit.
  void keep_instances(calendar_event_item item, instance_choice &choice,
                      std::size_t begin_number, std::string_view begin_text) {
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
    error_after = error_at(
        rrule_source.number != 0 ? rrule_source.number : begin_number,
        "more than " + std::to_string(limits.instances_per_event_max) +
            " instances in the window (instances_per_event_max); later "
            "ones skipped",
        rrule_source.number != 0 ? std::string_view(rrule_source.head)
                                 : begin_text);
  }

  /// Chooses the instances of a recurring event that overlap the window,
  /// at most instances_per_event_max of them, earliest first.
  std::optional<icalendar_error>
  expand(calendar_event_item item, const icaltimetype &start,
         const frame &start_frame, std::size_t begin_number,
         std::string_view begin_text, const event_properties &e) {
    instance_choice choice;
    if (auto error = exclude(choice, e.exdates, item.all_day))
      return error;
    consider(choice, item, start, item.start_unix_s, item.end_unix_s);
    if (auto error = consider_rdates(choice, item, e.rdates))
      return error;
    if (auto error =
            consider_rrules(choice, item, start, start_frame, e.rrules))
      return error;
    keep_instances(std::move(item), choice, begin_number, begin_text);
    return std::nullopt;
  }

  /// Returns what the last VEVENT left to produce, if anything.
  bool emit(calendar_event_item &out, std::optional<icalendar_error> &error) {
    if (base_pending) {
      out = std::move(base);
      base = calendar_event_item{};
      base_pending = false;
      return true;
    }
    if (next_instance < instances.size()) {
      const auto &[start, i] = instances[next_instance];
      out = base;
      out.external_id = base.series_id + "/" + i.key;
      out.start_unix_s = start;
      out.end_unix_s = i.end_unix_s;
      if (++next_instance == instances.size()) {
        instances.clear();
        next_instance = 0;
        base = calendar_event_item{};
      }
      return true;
    }
    if (error_after) {
      error = std::move(error_after);
      error_after.reset();
      return true;
    }
    return false;
  }

  bool next(calendar_event_item &out, std::optional<icalendar_error> &error) {
    out = calendar_event_item{};
    error.reset();
    for (;;) {
      if (emit(out, error))
        return true;
      if (finished || !peek()) {
        finished = true;
        return false;
      }
      if (!seen_calendar) {
        if (next_line.overflow_line == 0 && trim(next_line.text).empty()) {
          take();
          continue;
        }
        const content_line c = classify(next_line.text);
        if (next_line.overflow_line != 0 ||
            c.type != content_line::kind::begin || c.component != "VCALENDAR") {
          finished = true;
          error = error_at(1, "not an iCalendar file", next_line.text);
          return true;
        }
        seen_calendar = true;
        take();
        continue;
      }
      const logical_line &l = take();
      const content_line c = classify(l.text);
      if (c.type != content_line::kind::begin)
        continue; // calendar properties, END:VCALENDAR, stray lines
      std::optional<icalendar_error> e;
      if (c.component == "VEVENT")
        e = add_event(l);
      else if (c.component == "VTIMEZONE")
        e = add_timezone(l);
      else if (c.component != "VCALENDAR")
        skip_rest(1, c.component); // VTODO, VJOURNAL, VFREEBUSY, X-…
      if (e) {
        error = std::move(e);
        return true;
      }
    }
  }
};

icalendar_reader::icalendar_reader(std::istream &in,
                                   std::int64_t window_from_unix_s,
                                   std::int64_t window_to_unix_s,
                                   icalendar_limits limits)
    : state_(std::make_unique<state>(in, window_from_unix_s, window_to_unix_s,
                                     limits)) {
}

icalendar_reader::~icalendar_reader() = default;

bool icalendar_reader::next(calendar_event_item &out,
                            std::optional<icalendar_error> &error) {
  return state_->next(out, error);
}

std::size_t icalendar_reader::line() const noexcept {
  return state_->line;
}

std::uint64_t icalendar_reader::bytes_read() const noexcept {
  return state_->bytes;
}

std::uint64_t icalendar_reader::events_outside_window() const noexcept {
  return state_->outside;
}

} // namespace catchup
