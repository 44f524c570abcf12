// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one check every imported item passes before it reaches SQL, whatever
// its source (vCard, CSV, iCalendar, Google). An item that fails it is
// skipped alone with the field and why, and the page's other items are
// written: without it one bad field (a NUL byte, which PostgreSQL text
// cannot hold; a name longer than a btree index row allows) failed the
// whole page's merge, and every rerun stopped at the same page.

#include <cstddef>
#include <optional>
#include <string>

#include "core/calendar_event.hpp"
#include "core/imported_contact.hpp"

namespace catchup {

struct field_limits {
  /// Bytes of a field that an index holds (a contact's name, key, e-mail
  /// and groups; an event's id and calendar). PostgreSQL refuses btree
  /// rows over 2,704 bytes (a third of a page), and these indexes add a
  /// user id and a row id, so the bound stays well below.
  std::size_t indexed_field_bytes_max = 1000;
};

/// Why `contact` cannot be stored ("field e-mail is 3000 bytes, more than
/// sync.indexed_field_bytes_max (1000)"), or nothing when it can.
/// Checked: well-formed UTF-8 and no NUL in every field, no control
/// characters in one-line fields (notes may hold tab, CR and LF), and
/// indexed fields within `limits`.
std::optional<std::string> contact_field_problem(const imported_contact& contact,
                                                 const field_limits& limits);

/// The same for an event (its attendees' addresses included).
std::optional<std::string> event_field_problem(const calendar_event_item& event,
                                               const field_limits& limits);

} // namespace catchup
