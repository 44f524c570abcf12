// SPDX-License-Identifier: Apache-2.0
#include "storage/user_store.hpp"

#include <pqxx/pqxx>

#include "core/utf8.hpp"
#include "core/uuid.hpp"
#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

void check_settings(const user_profile& p);

void check_profile(const user_profile& p) {
  check_settings(p);
  if (!p.id.empty())
    require_user_id(p.id);
  if (p.id.empty() && p.email.empty())
    throw storage_error(ec::invalid_input,
                        "a user needs an id or an email");
  if (p.timezone && p.timezone->empty())
    throw storage_error(ec::invalid_input, "user timezone is empty");
  if (!p.availability)
    return;
  if (p.availability->size() > availability_windows_max)
    throw storage_error(ec::invalid_input,
                        "user has " + std::to_string(p.availability->size())
                          + " availability windows, at most "
                          + std::to_string(availability_windows_max));
  for (std::size_t i = 0; i < p.availability->size(); ++i) {
    const auto& w = (*p.availability)[i];
    auto where = "availability window " + std::to_string(i + 1) + ": ";
    if (w.weekday < 1 || w.weekday > 7)
      throw storage_error(ec::invalid_input,
                          where + "weekday " + std::to_string(w.weekday)
                            + " is not 1 (Monday) to 7 (Sunday)");
    if (w.start_minute < 0 || w.end_minute > 1440
        || w.start_minute >= w.end_minute)
      throw storage_error(ec::invalid_input,
                          where + "minutes [" + std::to_string(w.start_minute)
                            + ", " + std::to_string(w.end_minute)
                            + ") are not a range within 0..1440");
  }
}

// A setting in [lo, hi], or 0 where 0 means "the default" (`zero_ok`).
void check_setting(const std::optional<std::int32_t>& x, const char* field,
                   std::int32_t lo, std::int32_t hi, bool zero_ok) {
  if (!x || (zero_ok && *x == 0))
    return;
  require_input(*x >= lo && *x <= hi,
                std::string{field} + " " + std::to_string(*x)
                  + " is not in " + std::to_string(lo) + ".."
                  + std::to_string(hi) + (zero_ok ? " (or 0: the default)" : ""));
}

void check_settings(const user_profile& p) {
  check_setting(p.default_cadence_days, "default_cadence_days", 1, 3650,
                false);
  check_setting(p.dismiss_cooldown_days, "dismiss_cooldown_days", 1, 3650,
                true);
  check_setting(p.slot_horizon_days, "slot_horizon_days", 1, 90, true);
  check_setting(p.slot_minutes, "slot_minutes", 15, 480, true);
  check_setting(p.slots_per_day, "slots_per_day", 1, 24, true);
  check_setting(p.suggestions_per_run, "suggestions_per_run", 1, 1000, true);
}

bool has_settings(const user_profile& p) {
  return p.default_cadence_days || p.dismiss_cooldown_days
         || p.slot_horizon_days || p.slot_minutes || p.slots_per_day
         || p.suggestions_per_run;
}

// Unset: NULL (keep); 0: the default (stored as NULL, see the UPDATE).
std::optional<std::string> setting(const std::optional<std::int32_t>& x) {
  if (!x)
    return std::nullopt;
  return std::to_string(*x);
}

const char* text_or_null(const std::optional<std::string>& x) {
  return x ? x->c_str() : nullptr;
}

const char* bool_or_null(const std::optional<bool>& x) {
  return x ? (*x ? "true" : "false") : nullptr;
}

/// A user's row and counts, $1 the engine's "now" in Unix seconds; the
/// counts run per user on the (user_id, ...) indexes.
const char* const user_info_query
  = "SELECT u.id::text, u.email, u.name, u.timezone, u.active, "
    "extract(epoch from u.created_at)::bigint, "
    "(SELECT count(*) FROM contacts c WHERE c.user_id = u.id), "
    "(SELECT count(*) FROM suggestions s WHERE s.user_id = u.id "
    "AND (s.status = 'pending' OR (s.status = 'snoozed' "
    "AND s.snoozed_until <= to_timestamp($1::bigint)))) "
    "FROM users u ";

user_info read_user_info(const pqxx::row& row) {
  user_info u;
  u.id = row[0].c_str();
  u.email = row[1].c_str();
  u.name = row[2].c_str();
  u.timezone = row[3].c_str();
  u.active = row[4].as<bool>();
  u.created_at_unix_s = row[5].as<std::int64_t>();
  u.contacts = row[6].as<std::int64_t>();
  u.pending_suggestions = row[7].as<std::int64_t>();
  return u;
}

[[noreturn]] void user_not_found(const std::string& user_id) {
  throw storage_error(ec::not_found, "user " + user_id + " not found");
}

} // namespace

void require_user_id(const std::string& user_id) {
  require_input(is_uuid_text(user_id),
                "user id '" + printable_excerpt(user_id) + "' is not a UUID");
}

void require_user(const std::string& url, const std::string& user_id,
                  std::int64_t statement_timeout_ms) {
  require_user_id(user_id);
  bool exists = false;
  try {
    pqxx::connection conn{url};
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::read_transaction tx{conn};
    exists = !tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid",
                             user_id)
                .empty();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot look up user " + user_id);
  }
  if (!exists)
    user_not_found(user_id);
}

std::vector<user_info> read_users(const std::string& url,
                                  std::int64_t now_unix_s,
                                  std::int64_t statement_timeout_ms) {
  std::vector<user_info> out;
  try {
    pqxx::connection conn{url};
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::read_transaction tx{conn};
    for (auto row : tx.exec_params(std::string{user_info_query}
                                     + "ORDER BY u.created_at, u.id",
                                   now_unix_s))
      out.push_back(read_user_info(row));
  } catch (...) {
    detail::rethrow_as_storage_error("cannot list users");
  }
  return out;
}

user_info read_user(const std::string& url, const std::string& user_id,
                    std::int64_t now_unix_s,
                    std::int64_t statement_timeout_ms) {
  require_user_id(user_id);
  pqxx::result rows;
  try {
    pqxx::connection conn{url};
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::read_transaction tx{conn};
    rows = tx.exec_params(std::string{user_info_query}
                            + "WHERE u.id = $2::uuid",
                          now_unix_s, user_id);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read user " + user_id);
  }
  if (rows.empty())
    user_not_found(user_id);
  return read_user_info(rows[0]);
}

void delete_user(const std::string& url, const std::string& user_id,
                 std::int64_t statement_timeout_ms) {
  require_user_id(user_id);
  bool deleted = false;
  try {
    pqxx::connection conn{url};
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::work tx{conn};
    deleted = !tx.exec_params("DELETE FROM users WHERE id = $1::uuid "
                              "RETURNING 1",
                              user_id)
                 .empty();
    tx.commit();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot delete user " + user_id);
  }
  if (!deleted)
    user_not_found(user_id);
}

std::string put_user(const std::string& url, const user_profile& p,
                     std::int64_t statement_timeout_ms) {
  check_profile(p);
  try {
    pqxx::connection conn{url};
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::work tx{conn};
    if (p.timezone
        && tx.exec_params("SELECT 1 FROM pg_timezone_names WHERE name = $1",
                          *p.timezone)
             .empty())
      throw storage_error(ec::invalid_input,
                          "user timezone '" + *p.timezone
                            + "' is not an IANA zone name");
    auto name = text_or_null(p.name);
    auto zone = text_or_null(p.timezone);
    auto active = bool_or_null(p.active);
    std::string id = p.id;
    if (id.empty()) {
      // By email, in one statement, so two hosts creating the same user at
      // once end with one row.
      auto row = tx.exec_params1(
        "INSERT INTO users (email, name, timezone, active) "
        "VALUES ($1, coalesce($2, ''), coalesce($3, 'UTC'), "
        "coalesce($4::boolean, true)) ON CONFLICT (email) DO UPDATE SET "
        "name = coalesce($2, users.name), "
        "timezone = coalesce($3, users.timezone), "
        "active = coalesce($4::boolean, users.active) RETURNING id::text",
        p.email, name, zone, active);
      id = row[0].as<std::string>();
    } else if (p.email.empty()) {
      auto rows = tx.exec_params(
        "UPDATE users SET name = coalesce($2, name), "
        "timezone = coalesce($3, timezone), "
        "active = coalesce($4::boolean, active) "
        "WHERE id = $1::uuid RETURNING 1",
        id, name, zone, active);
      if (rows.empty())
        throw storage_error(ec::not_found,
                            "no user " + id + " (give an email to create it)");
    } else {
      tx.exec_params(
        "INSERT INTO users (id, email, name, timezone, active) "
        "VALUES ($1::uuid, $2, coalesce($3, ''), coalesce($4, 'UTC'), "
        "coalesce($5::boolean, true)) ON CONFLICT (id) DO UPDATE SET "
        "email = EXCLUDED.email, name = coalesce($3, users.name), "
        "timezone = coalesce($4, users.timezone), "
        "active = coalesce($5::boolean, users.active)",
        id, p.email, name, zone, active);
    }
    if (has_settings(p))
      // $n NULL keeps the stored value; 0 stores NULL ("the default").
      tx.exec_params(
        "UPDATE users SET "
        "default_cadence_days = coalesce($2, default_cadence_days), "
        "dismiss_cooldown_days = CASE WHEN $3::int IS NULL "
        "THEN dismiss_cooldown_days ELSE nullif($3::int, 0) END, "
        "slot_horizon_days = CASE WHEN $4::int IS NULL "
        "THEN slot_horizon_days ELSE nullif($4::int, 0) END, "
        "slot_minutes = CASE WHEN $5::int IS NULL "
        "THEN slot_minutes ELSE nullif($5::int, 0) END, "
        "slots_per_day = CASE WHEN $6::int IS NULL "
        "THEN slots_per_day ELSE nullif($6::int, 0) END, "
        "suggestions_per_run = CASE WHEN $7::int IS NULL "
        "THEN suggestions_per_run ELSE nullif($7::int, 0) END "
        "WHERE id = $1::uuid",
        id, text_or_null(setting(p.default_cadence_days)),
        text_or_null(setting(p.dismiss_cooldown_days)),
        text_or_null(setting(p.slot_horizon_days)),
        text_or_null(setting(p.slot_minutes)),
        text_or_null(setting(p.slots_per_day)),
        text_or_null(setting(p.suggestions_per_run)));
    if (p.availability) {
      tx.exec_params("DELETE FROM availability_windows WHERE user_id = $1::uuid",
                     id);
      for (const auto& w : *p.availability)
        tx.exec_params(
          "INSERT INTO availability_windows (user_id, weekday, start_minute, "
          "end_minute) VALUES ($1::uuid, $2, $3, $4) ON CONFLICT DO NOTHING",
          id, w.weekday, w.start_minute, w.end_minute);
    }
    tx.commit();
    return id;
  } catch (const pqxx::unique_violation&) {
    throw storage_error(ec::conflict, "cannot store user " + p.id
                                        + ": email " + p.email
                                        + " belongs to another user");
  } catch (...) {
    detail::rethrow_as_storage_error("cannot store user "
                                     + (p.id.empty() ? p.email : p.id));
  }
}

} // namespace catchup::storage
