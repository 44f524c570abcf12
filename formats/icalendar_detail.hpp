// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the files of the iCalendar reader (formats/icalendar.hpp) share,
// private to formats/: the reader's state and the helpers more than one of
// them calls. The reader is split by concern:
//
//   icalendar_lines.cpp       the text: logical lines and how each is sorted
//                             (no libical)
//   icalendar.cpp             the reader: the loop over the components, and
//                             each VEVENT or VTIMEZONE read and handed to
//                             libical's parser line by line
//   icalendar_zones.cpp       times and zones: calendar arithmetic, TZIDs,
//                             the file's VTIMEZONEs and what they may cost
//   icalendar_events.cpp      a VEVENT as calendar_event_items: its times,
//                             overrides, attendees and organiser
//   icalendar_recurrence.cpp  RRULE, RDATE and EXDATE: which rules libical
//                             may expand, and the instances in the window
//
// This is the one header of formats/ that includes libical, and only the
// reader's own files include it: icalendar.hpp shows none of its types.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <libical/ical.h>

#include "core/calendar_event.hpp"
#include "formats/icalendar.hpp"
#include "formats/icalendar_lines.hpp"

namespace catchup::icalendar_detail {

constexpr std::int64_t seconds_per_day = 86400;

/// The last local year converted through a zone, whatever the window: past
/// ICALTIMEZONE_MAX_YEAR - ICALTIMEZONE_EXTRA_COVERAGE (2582 - 5), libical
/// 3.0 re-expands the whole zone on every conversion.
constexpr int zone_conversion_year_cap = 2500;

/// The years libical adds past the last year converted when it expands a
/// zone (ICALTIMEZONE_EXTRA_COVERAGE), and its minimum expansion (the
/// current year, plus the same).
constexpr int libical_zone_extra_years = 5;

// -- calendar arithmetic (proleptic Gregorian, any year) ---------------------
// icalendar_zones.cpp

struct civil {
  std::int64_t year;
  unsigned month, day;
};

civil civil_from_days(std::int64_t z) noexcept;
std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept;

/// The first and last instants this reader converts: years 1 to 9999, the
/// range of iCalendar's DATE-TIME.
constexpr std::int64_t unix_min = -62135596800; // 0001-01-01T00:00:00Z
constexpr std::int64_t unix_max = 253402300799; // 9999-12-31T23:59:59Z

std::int64_t clamp_unix(std::int64_t s) noexcept;

/// Whether the fields name a real date and time; libical's parser only
/// checks the digits, so it accepts 20240230 and 20241301T256000.
bool is_valid_time(const icaltimetype &t) noexcept;

/// Seconds since 1970 of a local date and time read as UTC.
std::int64_t wall_seconds(const icaltimetype &t) noexcept;
/// The local date (and time) `s` seconds after 1970 as UTC.
icaltimetype wall_time(std::int64_t s, bool is_date) noexcept;

/// "YYYYMMDD" of a local date.
std::string date_key(const icaltimetype &t);
/// "YYYYMMDDTHHMMSSZ" of an instant.
std::string utc_key(std::int64_t s);

// -- recurrence rules --------------------------------------------------------
// icalendar_recurrence.cpp

/// False for a MONTHLY or YEARLY rule that can never match, like
/// BYMONTH=2;BYMONTHDAY=30 or BYDAY=6MO, which libical 3.0 would search up
/// to the year 20000; `default_day` is DTSTART's day of the month.
bool may_match(const icalrecurrencetype &r, int default_day) noexcept;

/// An upper bound of the instances libical's iterator gives for a YEARLY
/// rule with BYMONTH from `first` up to the end of `last_year`; null for
/// rules it cannot bound without iterating.
std::optional<std::size_t> yearly_instances_bound(const icalrecurrencetype &r,
                                                  const icaltimetype &first,
                                                  int last_year) noexcept;

bool is_gregorian(const icalrecurrencetype &r) noexcept;

// -- libical -----------------------------------------------------------------

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

/// A time's zone as resolved by this reader: null for floating times and
/// dates (taken as UTC); `name` is the TZID, empty for UTC.
struct frame {
  icaltimezone *zone = nullptr;
  std::string name;
};

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

/// The key an override (UID, instance key) is remembered by
/// (icalendar_events.cpp).
std::uint64_t override_key(std::string_view uid, std::string_view instance);

} // namespace catchup::icalendar_detail

namespace catchup {

/// Everything one icalendar_reader holds. Its members are defined in the
/// file of their concern (see the top of this header).
struct icalendar_reader::state {
  using logical_line = icalendar_detail::logical_line;
  using content_line = icalendar_detail::content_line;
  using event_property = icalendar_detail::event_property;
  using frame = icalendar_detail::frame;

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

  /// What reading one component gave.
  struct component_read {
    icalendar_detail::component_ptr component;
    std::optional<icalendar_error> error;
    /// The first property libical could not parse and had to drop.
    std::optional<source_line> dropped;
    std::size_t text_hash = 0;
  };

  /// Where the reading of one VEVENT or VTIMEZONE has got to
  /// (icalendar.cpp).
  struct open_component;

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

    /// Takes `p` if it is one of these; false otherwise
    /// (icalendar_events.cpp).
    bool collect(icalproperty_kind kind, icalproperty *p);
  };

  /// The instances of one recurring event chosen so far
  /// (icalendar_recurrence.cpp).
  struct instance_choice;

  std::int64_t window_from;
  std::int64_t window_to;
  icalendar_limits limits;
  /// See zone_conversion_year_cap.
  int conversion_year_max = 0;

  icalendar_detail::logical_lines lines;
  bool finished = false;
  bool seen_calendar = false;
  std::uint64_t outside = 0;

  icalendar_detail::parser_ptr parser;
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
      std::vector<source_line>(icalendar_detail::event_property_count);

  // What the last VEVENT produced and next() has not returned yet.
  calendar_event_item base;
  bool base_pending = false;
  std::vector<std::pair<std::int64_t, instance>> instances;
  std::size_t next_instance = 0;
  std::optional<icalendar_error> error_after;

  // -- the reader and its components (icalendar.cpp) -------------------------

  state(std::istream &stream, std::int64_t from, std::int64_t to,
        icalendar_limits l);
  ~state();
  state(const state &) = delete;
  state &operator=(const state &) = delete;

  bool next(calendar_event_item &out, std::optional<icalendar_error> &error);
  bool emit(calendar_event_item &out, std::optional<icalendar_error> &error);

  icalendar_error error_at(std::size_t number, std::string reason,
                           std::string_view text) const;
  void reset_parser();
  icalcomponent *feed(std::string &text);
  icalcomponent *feed_marker(const char *marker);
  void skip_rest(int depth, const std::string &kind);
  icalendar_error line_too_long(const logical_line &l) const;
  component_read failed(component_read r, const open_component &o,
                        icalendar_error e);
  component_read unfinished(component_read r, const open_component &o,
                            const content_line *next);
  std::optional<icalendar_error> size_problem(const open_component &o,
                                              const logical_line &l) const;
  void open_nested(component_read &r, open_component &o, const content_line &c);
  bool close_nested(component_read &r, open_component &o,
                    const content_line &c);
  static bool is_wanted(const open_component &o, const content_line &c,
                        event_property &p);
  void remember_source(event_property p, const logical_line &l);
  std::optional<icalendar_error> read_property(component_read &r,
                                               const open_component &o,
                                               logical_line &l,
                                               const content_line &c);
  component_read read_component(const logical_line &begin, bool event);
  icalendar_error dropped_error(const source_line &dropped,
                                icalcomponent *component) const;

  // -- times and zones (icalendar_zones.cpp) ---------------------------------

  icaltimezone *find_zone(const char *tzid);
  frame frame_of(icalproperty *p, const icaltimetype &t);
  std::int64_t to_unix(icaltimetype t, icaltimezone *zone) const;
  icaltimetype from_unix(std::int64_t s, const frame &f, bool is_date) const;
  std::optional<icalendar_error> add_timezone(const logical_line &begin);

  // -- events (icalendar_events.cpp) -----------------------------------------

  void add_attendee(std::string_view text);
  bool overlaps(std::int64_t start, std::int64_t end) const noexcept;
  std::int64_t end_from_duration(icaltimetype start, const frame &f,
                                 std::int64_t start_unix,
                                 const icaldurationtype &d) const;
  std::optional<icalendar_error>
  event_error(std::size_t number, std::string reason, std::string_view text);
  const source_line &source(event_property p) const;
  std::optional<icalendar_error> bad_value(event_property p,
                                           std::size_t begin_number,
                                           std::string_view begin_text);
  static event_properties properties_of(icalcomponent *c,
                                        calendar_event_item &item);
  static std::string series_id_of(const event_properties &e,
                                  const calendar_event_item &item);
  std::optional<std::int64_t> end_of(const event_properties &e,
                                     const icaltimetype &start,
                                     const frame &start_frame,
                                     std::int64_t start_unix);
  void keep(calendar_event_item item);
  void add_single(calendar_event_item item);
  std::optional<icalendar_error> add_override(calendar_event_item item,
                                              icalproperty *recurrence_id,
                                              std::size_t begin_number,
                                              std::string_view begin_text);
  std::optional<icalendar_error> add_event(const logical_line &begin);

  // -- recurrence (icalendar_recurrence.cpp) ---------------------------------

  bool consider(instance_choice &choice, const calendar_event_item &item,
                const icaltimetype &local, std::int64_t s, std::int64_t e);
  std::optional<icalendar_error>
  exclude(instance_choice &choice, const std::vector<icalproperty *> &exdates,
          bool all_day);
  std::optional<icalendar_error>
  consider_rdates(instance_choice &choice, const calendar_event_item &item,
                  const std::vector<icalproperty *> &rdates);
  std::optional<icalendar_error> too_many_steps();
  std::optional<icalendar_error>
  expand_rule(instance_choice &choice, const calendar_event_item &item,
              icalrecurrencetype rule, const icaltimetype &start,
              const frame &start_frame, std::size_t &steps);
  std::optional<icalendar_error>
  consider_rrules(instance_choice &choice, const calendar_event_item &item,
                  const icaltimetype &start, const frame &start_frame,
                  const std::vector<icalproperty *> &rrules);
  void keep_instances(calendar_event_item item, instance_choice &choice,
                      std::size_t begin_number, std::string_view begin_text);
  std::optional<icalendar_error>
  expand(calendar_event_item item, const icaltimetype &start,
         const frame &start_frame, std::size_t begin_number,
         std::string_view begin_text, const event_properties &e);
};

} // namespace catchup
