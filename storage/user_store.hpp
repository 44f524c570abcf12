// SPDX-License-Identifier: Apache-2.0
#pragma once

// The engine's users as a host program sees them: it keeps its own user
// records and mirrors the few fields the engine needs (zone, availability,
// whether scheduled runs include the user) with one idempotent call.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace catchup::storage {

/// When a user is open to catching up, in their own zone.
struct availability_window {
  /// ISO weekday: 1 = Monday ... 7 = Sunday.
  int weekday = 1;
  /// Minutes after local midnight, [start, end); end 1440 is midnight.
  int start_minute = 0;
  int end_minute = 0;
};

/// A user to create or update.
struct user_profile {
  /// The user's id (a UUID); empty: look the user up by `email`, creating
  /// them with a new id if there is none.
  std::string id;
  /// Unique per user; required when creating.
  std::string email;
  /// Unset fields keep their stored values (a new user: "", "UTC", true).
  std::optional<std::string> name;
  /// IANA zone, checked against the server's zone names.
  std::optional<std::string> timezone;
  /// Inactive users get no scheduled generation.
  std::optional<bool> active;
  /// Replaces the user's windows when set (an empty list means the
  /// engine's default hours); left alone when unset.
  std::optional<std::vector<availability_window>> availability;
};

/// Upper bound on windows per user: 7 days of 24 one-hour windows.
inline constexpr std::size_t availability_windows_max = 7 * 24;

/// Creates or updates a user in one transaction and returns the user's id.
/// @throws storage_error: invalid_input (bad id, empty email, unknown zone,
/// a window out of range or too many windows; the message names the field),
/// not_found (an id that does not exist and no email to create it with),
/// conflict (the email belongs to another user), db_* on database failure.
std::string put_user(const std::string& url, const user_profile& profile,
                     std::int64_t statement_timeout_ms = 60000);

} // namespace catchup::storage
