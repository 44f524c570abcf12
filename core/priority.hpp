// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

/// The same for a cadence of `cadence_days` days: now - cadence_days *
/// 86400, saturating.
unix_seconds due_cutoff_days(std::int64_t cadence_days,
                             unix_seconds now) noexcept;

/// Where the cadence in effect comes from (said in the reason text).
enum class cadence_source : std::uint8_t {
  /// The contact's own: a named class or "every N days".
  contact = 0,
  /// The shortest cadence among the contact's groups.
  group = 1,
  /// The user's default cadence.
  user_default = 2,
};

/// Importance weight of a contact without an importance (Dunbar circle),
/// in quarters: each day overdue counts weight / 4 days. The schema's
/// contacts.importance_weight holds the weight of each circle: inner 8,
/// close 6, active 5, none 4, casual 3.
inline constexpr std::int64_t neutral_weight_quarters = 4;

/// The weight of an importance (Dunbar circle: "inner", "close",
/// "active", "casual"; anything else is none), as the schema's
/// contacts.importance_weight computes it.
std::int64_t importance_weight_quarters(std::string_view circle) noexcept;

/// A contact's cadence as the ranking sees it.
struct contact_cadence {
  /// The named class the user chose, if any (for the reason text).
  std::optional<frequency> preference;
  /// Days between catch-ups, 1..3650.
  std::int64_t days = threshold_days(default_frequency);
  cadence_source source = cadence_source::user_default;
  /// Importance weight in quarters (see neutral_weight_quarters).
  std::int64_t weight_quarters = neutral_weight_quarters;
};

/// The score of a contact `days` after it became countable, with cadence
/// `cadence_days` and importance `weight_quarters`: the days overdue
/// (0 until due) times the weight. Whole numbers, so that PostgreSQL and
/// the engine rank identically; saturates instead of overflowing.
std::int64_t overdue_score(std::int64_t days, std::int64_t cadence_days,
                           std::int64_t weight_quarters) noexcept;

/// The priority shown for a score: 100 + 50 ln(1 + score / 4), which is
/// the specification's 100 + 50 ln(1 + days overdue) for a neutral weight.
double priority_of_score(std::int64_t score) noexcept;

/// A contact considered for suggestion.
struct candidate {
  /// Canonical lower-case UUID text, so that string order is PostgreSQL's
  /// uuid order.
  std::string contact_id;
  /// Display name, UTF-8.
  std::string name;
  /// The last catch-up; nullopt if never contacted.
  std::optional<unix_seconds> last_contact;
  /// What the cadence counts from: the last catch-up, else when the
  /// contact was added.
  unix_seconds due_from = 0;
  contact_cadence cadence;
  /// days_since(due_from, now).
  std::int64_t days = 0;
  /// overdue_score(days, cadence.days, cadence.weight_quarters).
  std::int64_t score = 0;
  /// priority_of_score(score); never NaN.
  double priority = 0;
};

/// Builds a candidate with `days`, `score` and `priority` computed for
/// `now`; `added` is when the contact was added (its due reference while
/// it has no last contact).
candidate make_candidate(std::string id, std::string name,
                         std::optional<unix_seconds> last, unix_seconds added,
                         const contact_cadence& cadence, unix_seconds now);

/// The same for a contact with a named class `pref` (or the default
/// monthly), a neutral weight and, when never contacted, added at
/// 1970-01-01T00:00Z.
candidate make_candidate(std::string id, std::string name,
                         std::optional<unix_seconds> last,
                         std::optional<frequency> pref, unix_seconds now);

/// The total order of suggestions: higher score first, then the earlier
/// due reference (last contact, else when added), then the smaller
/// contact_id. A strict weak order; total on distinct contact_ids.
bool ranks_before(const candidate& a, const candidate& b) noexcept;

/// One English sentence explaining why `c` is suggested, such as
/// "It's been 47 days since you caught up with Ana — you wanted monthly
/// catch-ups." The name is copied byte for byte.
std::string reason_text(const candidate& c);

} // namespace catchup
