// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/frequency.hpp"

namespace catchup {

/// An instant as whole seconds since 1970-01-01T00:00Z.
using unix_seconds = std::int64_t;

/// Seconds in a day; days are counted in UTC, without leap seconds.
inline constexpr std::int64_t seconds_per_day = 86400;

/// Whole days between the last contact and `now`: floor((now - last) /
/// 86400), also for a last contact in the future. A contact never contacted
/// (nullopt) counts from 1970-01-01T00:00Z. Exact for every pair of values.
std::int64_t days_since(std::optional<unix_seconds> last_contact,
                        unix_seconds now) noexcept;

/// True when a contact `days` after its last contact is due for class `f`,
/// that is when days >= threshold_days(f).
bool is_due(std::int64_t days, frequency f) noexcept;

/// The priority of a contact `days` after its last contact:
/// 100 + 50 * ln(1 + max(0, days - threshold_days(f))). 100 until the contact
/// is overdue, then growing logarithmically with the days overdue.
double priority(std::int64_t days, frequency f) noexcept;

/// The latest last-contact time at which a contact of class `f` is due at
/// `now`: now - threshold_days(f) * 86400. A contact is due iff its last
/// contact is <= this (a never-contacted contact counting as last contacted
/// at 0). Saturates at the smallest unix_seconds instead of overflowing.
unix_seconds due_cutoff(frequency f, unix_seconds now) noexcept;

/// A contact considered for suggestion.
struct candidate {
  /// Canonical lower-case UUID text, so that string order is PostgreSQL's
  /// uuid order.
  std::string contact_id;
  /// Display name, UTF-8.
  std::string name;
  /// The last catch-up; nullopt if never contacted.
  std::optional<unix_seconds> last_contact;
  /// The wanted frequency; nullopt if none (scored as default_frequency).
  std::optional<frequency> preference;
  /// days_since(last_contact, now).
  std::int64_t days = 0;
  /// priority(days, preference.value_or(default_frequency)); never NaN.
  double priority = 0;
};

/// Builds a candidate with `days` and `priority` computed for `now`.
candidate make_candidate(std::string id, std::string name,
                         std::optional<unix_seconds> last,
                         std::optional<frequency> pref, unix_seconds now);

/// The total order of suggestions: higher priority first, then earlier last
/// contact first with never-contacted before any contact, then smaller
/// contact_id first. A strict weak order; total on distinct contact_ids.
bool ranks_before(const candidate& a, const candidate& b) noexcept;

/// One English sentence explaining why `c` is suggested, such as
/// "It's been 47 days since you caught up with Ana — you wanted monthly
/// catch-ups." The name is copied byte for byte.
std::string reason_text(const candidate& c);

} // namespace catchup
