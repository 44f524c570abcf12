// SPDX-License-Identifier: Apache-2.0
#pragma once

// A streaming iCalendar (RFC 5545) event reader. libical 3.0 (Debian's
// libical-dev) parses the properties, values, VTIMEZONEs and recurrence
// rules; this reader only splits the stream into components, so memory
// stays bounded whatever the size of the file, and turns each VEVENT into
// `calendar_event_item`s within a time window. It is fuzzed by
// tests/fuzz/icalendar_fuzz.cpp.
//
// libical is linked privately: no libical type appears here.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/calendar_event.hpp"

namespace catchup {

/// Bounds on what one reader holds in memory and on the work one event may
/// cost, so a hostile or broken file (a line without end, ten thousand
/// VTIMEZONEs, a rule that recurs every day since 1900) cannot exhaust it.
struct icalendar_limits {
  /// One physical line, without its line ending.
  std::size_t line_bytes_max = 64 * 1024;
  /// One VEVENT or VTIMEZONE, from its BEGIN to its END, line endings and
  /// nested components (VALARM) included; also bounds one folded line
  /// outside components.
  std::size_t component_bytes_max = 1 << 20;
  /// VTIMEZONEs examined in the whole file, kept, replaced or rejected (an
  /// identical repeat, as some exporters write one per event, is free).
  /// They stay registered until the reader ends, as later events may use
  /// them; also bounds the cache of builtin zones looked up by TZID.
  std::size_t timezones_max = 64;
  /// Instances of one recurring event produced within the window.
  std::size_t instances_per_event_max = 1000;
  /// Overrides (UID, RECURRENCE-ID) remembered so that a master read after
  /// them skips those instances; 8 bytes each.
  std::size_t overrides_max = 10000;
  /// Steps libical may take for one event's RRULEs: the periods it scans
  /// (days for DAILY and WEEKLY, months, years) plus the occurrences it
  /// returns. A rule without COUNT is scanned from the window's start, one
  /// with COUNT from its DTSTART, both up to the window's end. Bounds the
  /// time one event can take (a few µs per step); a daily COUNT rule may
  /// start some 270 years before the window.
  std::size_t recurrence_steps_max = 100000;
};

/// Why a VEVENT (or VTIMEZONE) was skipped, in a form fit for
/// "file:line: reason"; the same meaning as `vcard_error`.
struct icalendar_error {
  /// Physical line, 1-based.
  std::size_t line = 0;
  std::string reason;
  /// At most 60 bytes of the offending line; control bytes and invalid
  /// UTF-8 are replaced by '?', so it can go to a log or terminal as is.
  std::string excerpt;
};

/// Reads VEVENTs one at a time from a stream, line by line, and produces
/// the events and recurring instances that overlap the half-open window
/// [window_from_unix_s, window_to_unix_s).
///
/// Input: CRLF or LF line endings, folding by space or tab, a UTF-8 byte
/// order mark, several VCALENDARs one after the other. Components other
/// than VEVENT and VTIMEZONE (VTODO, VJOURNAL, …) and the VALARMs inside
/// events are skipped unread. Only the properties the record needs are
/// handed to libical (UID, DTSTART, DTEND, DURATION, RRULE, RDATE, EXDATE,
/// RECURRENCE-ID, STATUS, TRANSP, SUMMARY, LOCATION), so a broken
/// DESCRIPTION or X- property never costs an event. ATTENDEE and
/// ORGANIZER are the exception: their value, a URI libical would only
/// copy, is taken by this reader after the first colon outside quotes,
/// since libical's parsing of their parameters (CN, ROLE, PARTSTAT…)
/// doubled the cost of a meeting. All these lines must be valid UTF-8
/// without NUL bytes.
///
/// Time zones: a TZID resolves to the file's VTIMEZONE of that name (a
/// later VTIMEZONE with the same TZID replaces an earlier one), else to
/// libical's builtin zone of that name (the system tz database; names like
/// "/freeassociation.sourceforge.net/Europe/Berlin" and Google's
/// "/America/New_York" too), else the time is taken as floating. Floating
/// times and dates are taken as UTC; X-WR-TIMEZONE is not used. Windows
/// zone names ("W. Europe Standard Time") resolve only through the file's
/// VTIMEZONE, which Outlook always writes. A VTIMEZONE is rejected (an
/// error; its events fall back as above) when a STANDARD/DAYLIGHT rule is
/// not yearly or can never match, when it has more than 100 RRULEs, or
/// when it would change offset more than 5,000 times, since libical
/// expands every change into memory up to the year converted.
///
/// The item: `timezone` is the TZID as written ("Eastern Standard Time",
/// "Europe/Berlin") when it resolved, empty for UTC, floating and
/// unresolved times. All-day events (DTSTART;VALUE=DATE) run from midnight
/// UTC of their first date to midnight UTC after their last. A missing
/// DTEND is DTSTART + DURATION, else one day for a date, else zero; an end
/// before the start becomes the start. Days and weeks of a DURATION are
/// added in local time (so P1D across a DST change is 23 or 25 hours),
/// hours, minutes and seconds as elapsed time. TRANSP:TRANSPARENT (and
/// libical's TRANSPARENT-NOCONFLICT) makes `busy` false. `position` is the
/// physical line of BEGIN:VEVENT. Attendees: ATTENDEE and ORGANIZER values
/// in file order, "mailto:" removed (any case), lower case, duplicates
/// dropped; other URIs (urn:uuid:…) and values without '@' are left out.
/// Times whose local year is after both the current year + 5 and the
/// window's end year + 1 (or after 2500) are converted as UTC: they lie
/// after the window anyway, and libical 3.0 would expand every zone rule
/// up to them (and re-expands on every conversion past 2577).
///
/// Identity: a single event is keyed by its UID (external_id ==
/// series_id == UID). An instance of a recurring event (RRULE and/or
/// RDATE) is keyed UID + "/" + its original start as "YYYYMMDDTHHMMSSZ"
/// in UTC, or "YYYYMMDD" for an all-day series, with series_id = UID.
/// A VEVENT with RECURRENCE-ID is an override, keyed the same way by its
/// RECURRENCE-ID (RANGE=THISANDFUTURE is treated as this instance only;
/// an RRULE on an override is ignored).
///
/// Recurrence: DTSTART is always the first instance (RFC 5545), then all
/// RRULEs, RDATEs (DATE, DATE-TIME or PERIOD, a PERIOD giving its own
/// end), minus EXDATEs, expanded by libical's iterator only up to the
/// window's end, in chronological order, duplicates merged. Every
/// instance lasts as long as the master (in elapsed seconds). A floating
/// UNTIL is taken in DTSTART's zone. These rules give an error instead of
/// instances: FREQ=HOURLY, MINUTELY or SECONDLY (no calendar program
/// writes them for events; libical 3.0 mis-expands them from a later start
/// and may scan every second up to the window), RSCALE other than
/// GREGORIAN, a MONTHLY or YEARLY rule that can never match
/// (BYMONTH=2;BYMONTHDAY=30, BYDAY=6MO: libical searches those up to the
/// year 20000), more than 16 RRULEs, or an UNTIL that is no date. Past
/// `instances_per_event_max` instances in the window, the first ones are
/// produced, then one error for the event names the limit. Past
/// `recurrence_steps_max` steps, the event gives one error and nothing.
///
/// Overrides and masters: when an override is read before its master, the
/// master skips that instance (the pair is remembered, up to
/// `overrides_max`; past that, later overrides are not remembered, so a
/// master read after them produces those instances too and, coming later,
/// its version replaces the override's in storage). When the override is
/// read after its master, it simply comes later with the same
/// external_id, and storage keeps the later one. An override is produced
/// when either its own times or its original slot overlap the window, so
/// an instance moved out of the window is still updated.
///
/// STATUS:CANCELLED: the item is produced with `cancelled` set. A
/// cancelled master of a recurring event gives one item keyed by the UID
/// alone (external_id == series_id) with `cancelled` set, whatever the
/// window, and no instances.
///
/// Errors, one per bad VEVENT (or VTIMEZONE), which is skipped: lines over
/// `line_bytes_max`, components over `component_bytes_max`, a component
/// without END, invalid UTF-8, a value libical cannot parse (it inserts
/// X-LIC-ERROR and drops the property; reported with libical's message at
/// the line of the property, if the property is UID, DTSTART, DTEND,
/// DURATION, RRULE, RDATE, EXDATE or RECURRENCE-ID — an empty SUMMARY or
/// unknown STATUS is ignored), a date that does not exist (libical
/// accepts 20240230), no UID, no DTSTART, a rule libical cannot iterate,
/// and VTIMEZONEs past `timezones_max`. Events entirely outside the window
/// are skipped silently and counted in `events_outside_window()`.
///
/// Memory: each VEVENT's libical component is freed once its items are
/// made, and a recurring event holds at most `instances_per_event_max`
/// pending instances. What lasts for the whole file is bounded: the
/// VTIMEZONEs (`timezones_max` of at most `component_bytes_max` each), the
/// cache of builtin zones by TZID (`timezones_max` entries) and the
/// remembered overrides (`overrides_max` × 8 bytes). libical keeps the
/// builtin zones it loads for the life of the process (at most the system
/// tz database).
///
/// libical's global settings: the first reader makes libical errors
/// non-fatal (icalerror_set_errors_are_fatal(0)). Builtin zone look-ups
/// are serialised by a process-wide mutex, as libical 3.0 appends to its
/// zone list without a lock; TZIDs that are not plain zone names
/// (letters, digits, "_+-" and single slashes) never reach libical's
/// look-up, which would open them as files under /usr/share/zoneinfo.
class icalendar_reader {
public:
  icalendar_reader(std::istream &in, std::int64_t window_from_unix_s,
                   std::int64_t window_to_unix_s, icalendar_limits limits = {});
  ~icalendar_reader();
  icalendar_reader(const icalendar_reader &) = delete;
  icalendar_reader &operator=(const icalendar_reader &) = delete;

  /// Reads the next event or instance; false at end of input. A bad VEVENT
  /// is skipped: returns true with `error` set and the item empty, so the
  /// caller can report "file:line: reason" and go on. Input whose first
  /// non-empty line is not BEGIN:VCALENDAR gives one error "not an
  /// iCalendar file" at line 1, then end of input.
  bool next(calendar_event_item &out, std::optional<icalendar_error> &error);

  /// The last physical line read (1-based; 0 before the first).
  std::size_t line() const noexcept;

  /// Bytes taken from the stream so far, the byte order mark included.
  std::uint64_t bytes_read() const noexcept;

  /// VEVENTs skipped because neither they nor any of their instances
  /// overlap the window.
  std::uint64_t events_outside_window() const noexcept;

private:
  struct state;
  std::unique_ptr<state> state_;
};

/// The UID given to a VEVENT without one: "derived:" and a stable hash of
/// its DTSTART (value and TZID), SUMMARY and ORGANIZER.
std::string derived_event_uid(std::string_view dtstart, std::string_view tzid,
                              std::string_view summary,
                              std::string_view organizer);

} // namespace catchup
