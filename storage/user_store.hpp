// SPDX-License-Identifier: Apache-2.0
#pragma once

// The engine's users as a host program sees them: it keeps its own user
// records and mirrors the few fields the engine needs (zone, availability,
// whether scheduled runs include the user) with one idempotent call.

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
