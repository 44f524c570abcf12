// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one calendar event record every calendar source produces (iCalendar
// files, the Google Calendar API), so the merge into storage is the same for
// all of them.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace catchup {

/// One event, or one instance of a recurring event, as imported. Times are
/// absolute (Unix seconds, UTC); an all-day event runs from local midnight
/// of its first day to local midnight after its last day in the zone it was
/// written in (UTC for floating dates).
struct calendar_event_item {
  /// The key within its calendar: the source's event id for a single event;
  /// for an instance of a recurring one, the series id, '/', and the
  /// instance's original start as "YYYYMMDDTHHMMSSZ" (or "YYYYMMDD" for an
  /// all-day series), so one instance keeps its key when it is moved.
  std::string external_id;
  /// The id of the series (UID / recurringEventId); equals `external_id`
  /// for a single event. A cancelled series removes all its instances.
  std::string series_id;
  std::string summary;
  std::string location;
  /// The zone the event was written in ("Europe/Berlin"), empty for UTC or
  /// floating times; for display only.
  std::string timezone;
  std::int64_t start_unix_s = 0;
  /// Never before start.
  std::int64_t end_unix_s = 0;
  bool all_day = false;
  /// False for TRANSP:TRANSPARENT / transparency "transparent".
  bool busy = true;
  /// STATUS:CANCELLED / status "cancelled": the event (or, when
  /// external_id == series_id, the whole series) is removed.
  bool cancelled = false;
  /// Attendee and organiser e-mail addresses, lower case, without
  /// "mailto:", the user's own included; at most attendees_max.
  std::vector<std::string> attendee_emails;
  /// Where the event starts in its input: physical line (files, 1-based) or
  /// item number within its page (API), for error messages.
  std::size_t position = 0;
};

/// Attendees kept per event: enough for any meeting a person catches up in,
/// and a bound on what one event can hold.
inline constexpr std::size_t attendees_max = 200;

} // namespace catchup
