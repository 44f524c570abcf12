// SPDX-License-Identifier: Apache-2.0
#pragma once

// The engine's users as a host program sees them: it keeps its own user
// records and mirrors the few fields the engine needs (zone, availability,
// whether scheduled runs include the user) with one idempotent call; it
// can list, read and delete them, and every call about one user checks the
// id (and, when it found nothing, the user's existence) here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catchup/types.hpp"

namespace catchup::storage {

/// A user to create or update: the public API's own profile (unset fields
/// keep their stored values), checked here against the store's limits.
using user_profile = catchup::user_profile;
using availability_window = catchup::availability_window;
/// A stored user with the counts of what the engine holds for them.
using user_info = catchup::user_info;

/// Upper bound on windows per user: 7 days of 24 one-hour windows.
inline constexpr std::size_t availability_windows_max = 7 * 24;

/// Creates or updates a user in one transaction and returns the user's id.
/// @throws storage_error: invalid_input (bad id, empty email, unknown zone,
/// a window out of range or too many windows; the message names the field),
/// not_found (an id that does not exist and no email to create it with),
/// conflict (the email belongs to another user), db_* on database failure.
std::string put_user(const std::string& url, const user_profile& profile,
                     std::int64_t statement_timeout_ms = 60000);

/// Throws storage_error(invalid_input, "user id 'X' is not a UUID") unless
/// `user_id` is a UUID in text: the one check of a user id's form, made
/// before the id reaches SQL (the server's own refusal names nothing).
void require_user_id(const std::string& user_id);

/// Throws storage_error(not_found, "user X not found") unless the user
/// exists (after require_user_id): the one way the engine says a user is
/// unknown.
void require_user(const std::string& url, const std::string& user_id,
                  std::int64_t statement_timeout_ms = 60000);

/// Every user, oldest first (then by id), with their counts; suggestions
/// count as pending at `now_unix_s`.
/// @throws storage_error: db_* on database failure.
std::vector<user_info> read_users(const std::string& url,
                                  std::int64_t now_unix_s,
                                  std::int64_t statement_timeout_ms = 60000);

/// One user with their counts (see read_users).
/// @throws storage_error: invalid_input (not a UUID), not_found, db_*.
user_info read_user(const std::string& url, const std::string& user_id,
                    std::int64_t now_unix_s,
                    std::int64_t statement_timeout_ms = 60000);

/// Deletes a user and, through the schema's cascades, everything of
/// theirs: contacts, groups, calendars and events, generations,
/// suggestions, sync state, jobs.
/// @throws storage_error: invalid_input (not a UUID), not_found, db_*.
void delete_user(const std::string& url, const std::string& user_id,
                 std::int64_t statement_timeout_ms = 60000);

} // namespace catchup::storage
