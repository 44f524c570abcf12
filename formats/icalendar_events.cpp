// SPDX-License-Identifier: Apache-2.0
// Events (formats/icalendar.hpp): a VEVENT libical has read becomes
// calendar_event_items: its UID (or one derived), its start and end, what
// describes it, its attendees and organiser as the addresses contacts are
// linked by, and whether it is a single event, an override of one
// instance, or a series for icalendar_recurrence.cpp to expand.
#include "formats/icalendar_detail.hpp"

#include "core/utf8.hpp"

#include <algorithm>
#include <cstdio>

namespace catchup {
namespace icalendar_detail {

std::uint64_t override_key(std::string_view uid, std::string_view instance) {
  // The pair, not the strings: 8 bytes per remembered override whatever
  // the UID's length; a 64-bit collision among 10,000 is negligible.
  std::string joined;
  joined.reserve(uid.size() + 1 + instance.size());
  joined.append(uid).append(1, '\n').append(instance);
  return std::hash<std::string>{}(joined);
}

} // namespace icalendar_detail

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

using namespace icalendar_detail;

namespace {

using text::trim;

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

bool first_only(icalproperty *&slot, icalproperty *p) {
  if (slot == nullptr)
    slot = p;
  return true;
}

/// Takes what describes the event (status, transparency, summary,
/// location) from `p` into `item`.
void take_description(icalproperty_kind kind, icalproperty *p,
                      calendar_event_item &item) {
  switch (kind) {
  case ICAL_STATUS_PROPERTY:
    item.cancelled = icalproperty_get_status(p) == ICAL_STATUS_CANCELLED;
    break;
  case ICAL_TRANSP_PROPERTY: {
    const icalproperty_transp t = icalproperty_get_transp(p);
    item.busy =
        t != ICAL_TRANSP_TRANSPARENT && t != ICAL_TRANSP_TRANSPARENTNOCONFLICT;
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

} // namespace

bool icalendar_reader::state::event_properties::collect(icalproperty_kind kind,
                                                        icalproperty *p) {
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

/// Takes the address of an ATTENDEE or ORGANIZER line. A CAL-ADDRESS is
/// a URI libical would only copy, and parsing the parameters (CN, ROLE,
/// PARTSTAT, RSVP, X-NUM-GUESTS…) was most of its work on a meeting: ten
/// Google attendees cost 5 µs an event. So the address is taken here,
/// after the first unquoted colon.
void icalendar_reader::state::add_attendee(std::string_view text) {
  const std::size_t colon = find_unquoted(text, ':');
  if (colon == std::string::npos || attendees.size() >= attendees_max)
    return;
  std::string email = email_of(text.substr(colon + 1));
  if (!email.empty() &&
      std::find(attendees.begin(), attendees.end(), email) == attendees.end())
    attendees.push_back(std::move(email));
}

bool icalendar_reader::state::overlaps(std::int64_t start,
                                       std::int64_t end) const noexcept {
  return start < window_to &&
         (end > window_from || (end == start && start >= window_from));
}

/// The end of an event without DTEND: days and weeks are added to the
/// local date, the rest as elapsed seconds.
std::int64_t
icalendar_reader::state::end_from_duration(icaltimetype start, const frame &f,
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
icalendar_reader::state::event_error(std::size_t number, std::string reason,
                                     std::string_view text) {
  base = calendar_event_item{};
  base_pending = false;
  instances.clear();
  next_instance = 0;
  return error_at(number, std::move(reason), text);
}

auto icalendar_reader::state::source(event_property p) const
    -> const source_line & {
  return sources[static_cast<std::size_t>(p)];
}

/// Reports a value libical read that is no date or time, at the first
/// line of its property (or at the event's BEGIN line).
std::optional<icalendar_error>
icalendar_reader::state::bad_value(event_property p, std::size_t begin_number,
                                   std::string_view begin_text) {
  const source_line &s = source(p);
  return event_error(s.number != 0 ? s.number : begin_number,
                     "bad " + s.name + " (no such date or time)",
                     s.number != 0 ? std::string_view(s.head) : begin_text);
}

/// Sorts the VEVENT's properties: those that identify and time it into
/// the result, those that describe it into `item`.
auto icalendar_reader::state::properties_of(icalcomponent *c,
                                            calendar_event_item &item)
    -> event_properties {
  event_properties e;
  for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
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
std::string
icalendar_reader::state::series_id_of(const event_properties &e,
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
std::optional<std::int64_t> icalendar_reader::state::end_of(
    const event_properties &e, const icaltimetype &start,
    const frame &start_frame, std::int64_t start_unix) {
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
void icalendar_reader::state::keep(calendar_event_item item) {
  base = std::move(item);
  base_pending = true;
}

/// A single event: kept if it overlaps the window.
void icalendar_reader::state::add_single(calendar_event_item item) {
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
std::optional<icalendar_error> icalendar_reader::state::add_override(
    calendar_event_item item, icalproperty *recurrence_id,
    std::size_t begin_number, std::string_view begin_text) {
  const icaltimetype original = icalproperty_get_recurrenceid(recurrence_id);
  if (!is_valid_time(original))
    return bad_value(event_property::recurrence_id, begin_number, begin_text);
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

/// Reads the VEVENT that `begin` opened and hands what it gives to
/// next(): the event, an override, a cancelled series or the instances of
/// a series in the window.
std::optional<icalendar_error>
icalendar_reader::state::add_event(const logical_line &begin) {
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

} // namespace catchup
