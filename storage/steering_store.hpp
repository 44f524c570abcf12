// SPDX-License-Identifier: Apache-2.0
#pragma once

// What a user steers, stored: their settings, each contact's cadence,
// importance, archive and pause, and groups with their cadences. Each call
// is one short transaction on its own connection; every refusal is a
// storage_error naming the field and the value.

#include <cstdint>
#include <string>
#include <vector>

#include "catchup/types.hpp"

namespace catchup::storage {

/// The most contacts one group call adds or removes.
inline constexpr std::size_t group_members_per_call_max = 10000;

/// The longest group name, in bytes.
inline constexpr std::size_t group_name_bytes_max = 200;

/// A user's stored settings: 0 in a slot or run setting (and in the
/// cool-down) means "not set".
struct stored_user_settings {
  std::string timezone;
  std::int32_t default_cadence_days = 30;
  std::int32_t dismiss_cooldown_days = 0;
  std::int32_t slot_horizon_days = 0;
  std::int32_t slot_minutes = 0;
  std::int32_t slots_per_day = 0;
  std::int32_t suggestions_per_run = 0;
  std::vector<availability_window> availability;
};

/// @throws storage_error: invalid_input (not a UUID), not_found.
stored_user_settings read_user_settings(const std::string& url,
                                        const std::string& user_id);

/// The id of the contact `ref` names for `user_id`: its id, or an exact
/// (case-insensitive) name or e-mail that only one of the user's contacts
/// has. @throws storage_error: not_found (no such contact of this user),
/// invalid_input (ambiguous: the message lists up to 10 candidates).
std::string resolve_contact(const std::string& url, const std::string& user_id,
                            const std::string& ref);

/// Applies `update` to one contact in one transaction and returns its id.
/// `now_unix_s` judges a pause (it must end after now).
/// @throws storage_error: invalid_input (the field and value), not_found.
std::string update_contact(const std::string& url, const std::string& user_id,
                           const std::string& contact_ref,
                           const contact_update& update,
                           std::int64_t now_unix_s);

/// The user's groups by name, with their member counts.
std::vector<group_info> list_groups(const std::string& url,
                                    const std::string& user_id);

/// Creates a group (name unique per user; cadence 0: none).
/// @throws storage_error: invalid_input, not_found (user), conflict (name).
group_info create_group(const std::string& url, const std::string& user_id,
                        const std::string& name, std::int32_t cadence_days);

/// Renames a group (`new_name` non-empty) and/or sets its cadence
/// (`cadence_days` >= 0; 0 clears it; -1 keeps it). `group_ref` is the
/// group's id or name. Members' cadences follow in the same transaction.
group_info update_group(const std::string& url, const std::string& user_id,
                        const std::string& group_ref,
                        const std::string& new_name,
                        std::int32_t cadence_days);

/// Deletes a group; its members stay, without it.
void delete_group(const std::string& url, const std::string& user_id,
                  const std::string& group_ref);

/// Adds (or with `remove`, removes) contacts to a group, all or none:
/// each of `contact_refs` is resolved like resolve_contact. Returns the
/// memberships that changed.
std::int64_t change_members(const std::string& url, const std::string& user_id,
                            const std::string& group_ref,
                            const std::vector<std::string>& contact_refs,
                            bool remove);

} // namespace catchup::storage
