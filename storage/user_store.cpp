// SPDX-License-Identifier: Apache-2.0
#include "storage/user_store.hpp"

#include <pqxx/pqxx>

#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "core/uuid.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

void check_profile(const user_profile& p) {
  if (!p.id.empty() && !is_uuid_text(p.id))
    throw storage_error(ec::invalid_input,
                        "user id '" + p.id + "' is not a UUID");
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

const char* text_or_null(const std::optional<std::string>& x) {
  return x ? x->c_str() : nullptr;
}

const char* bool_or_null(const std::optional<bool>& x) {
  return x ? (*x ? "true" : "false") : nullptr;
}

} // namespace

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
