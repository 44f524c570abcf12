// SPDX-License-Identifier: Apache-2.0
#pragma once

// Contacts' birthdays and anniversaries as stored (imports write them, see
// import_store): one contact's dates, and a user's dates that come within
// a number of days of a given instant, in the user's time zone.

#include <cstdint>
#include <string>
#include <vector>

#include "catchup/types.hpp"

namespace catchup::storage {

/// The longest horizon upcoming_dates accepts: a whole (leap) year.
inline constexpr int upcoming_horizon_days_max = 366;

/// The dates of `contact_id` (birthday first), empty when it has none.
/// @throws storage_error: invalid_input (an id that is not a UUID), db_* on
/// database failure.
std::vector<contact_date_info>
contact_dates(const std::string& url, const std::string& user_id,
              const std::string& contact_id,
              std::int64_t statement_timeout_ms = 60000);

/// The dates of `user_id`'s contacts that are not archived falling on one
/// of the `horizon_days` local days that start with the day of `now_unix_s`
/// in the user's zone (days_until 0 .. horizon_days - 1); soonest first,
/// then by name, then by contact id. Read by (user, month, day) ranges of
/// the contact_dates index, never by a scan of all contacts.
/// @throws storage_error: invalid_input (user id not a UUID, horizon_days
/// not 1..366; the message names the field), not_found (no such user),
/// db_* on database failure.
std::vector<upcoming_date>
upcoming_dates(const std::string& url, const std::string& user_id,
               int horizon_days, std::int64_t now_unix_s,
               std::int64_t statement_timeout_ms = 60000);

} // namespace catchup::storage
