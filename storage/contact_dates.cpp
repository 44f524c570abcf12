// SPDX-License-Identifier: Apache-2.0
#include "storage/contact_dates.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>

#include <pqxx/pqxx>

#include "core/contact_date.hpp"
#include "core/uuid.hpp"
#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

constexpr const char* upcoming_columns_sql
  = "SELECT d.contact_id::text, c.name, d.kind, d.month, d.day, d.year "
    "FROM contact_dates d JOIN contacts c ON c.user_id = d.user_id "
    "AND c.id = d.contact_id "
    "WHERE d.user_id = $1::uuid AND c.archived_at IS NULL AND ";

// The (month, day) ranges the horizon covers: one range, or two when it
// runs past Dec 31 (their OR then covers the whole year for a horizon
// that comes back to its first month and day). Both keep to the index's
// (user_id, month, day) order.
constexpr const char* within_year_sql
  = "(d.month, d.day) >= ($2::smallint, $3::smallint) "
    "AND (d.month, d.day) <= ($4::smallint, $5::smallint)";
constexpr const char* across_year_end_sql
  = "((d.month, d.day) >= ($2::smallint, $3::smallint) "
    "OR (d.month, d.day) <= ($4::smallint, $5::smallint))";

std::string iso_date(const civil_day& d) {
  char text[16];
  std::snprintf(text, sizeof text, "%04lld-%02d-%02d",
                static_cast<long long>(d.year), d.month, d.day);
  return text;
}

void check_user_id(const std::string& user_id) {
  require_input(is_uuid_text(user_id),
                "user id '" + user_id + "' is not a UUID");
}

} // namespace

std::vector<contact_date_info>
contact_dates(const std::string& url, const std::string& user_id,
              const std::string& contact_id,
              std::int64_t statement_timeout_ms) {
  check_user_id(user_id);
  require_input(is_uuid_text(contact_id),
                "contact id '" + contact_id + "' is not a UUID");
  std::vector<contact_date_info> out;
  try {
    pqxx::connection conn{url};
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::read_transaction tx{conn};
    for (auto row : tx.exec_params(
           "SELECT kind, month, day, year FROM contact_dates "
           "WHERE contact_id = $2::uuid AND user_id = $1::uuid "
           "ORDER BY kind = 'anniversary', kind",
           user_id, contact_id)) {
      contact_date_info d;
      d.kind = row[0].c_str();
      d.month = row[1].as<int>();
      d.day = row[2].as<int>();
      d.year = row[3].as<std::optional<int>>();
      out.push_back(std::move(d));
    }
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the dates of contact "
                                     + contact_id);
  }
  return out;
}

std::vector<upcoming_date>
upcoming_dates(const std::string& url, const std::string& user_id,
               int horizon_days, std::int64_t now_unix_s,
               std::int64_t statement_timeout_ms) {
  check_user_id(user_id);
  require_input(horizon_days >= 1 && horizon_days <= upcoming_horizon_days_max,
                "horizon_days " + std::to_string(horizon_days)
                  + " is not 1 to "
                  + std::to_string(upcoming_horizon_days_max));
  std::vector<upcoming_date> out;
  try {
    pqxx::connection conn{url};
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::read_transaction tx{conn};
    // The user's local day at `now`, by the server's tz database, which
    // also checked the zone when the user was stored.
    auto user = tx.exec_params(
      "SELECT extract(year FROM t)::int, extract(month FROM t)::int, "
      "extract(day FROM t)::int FROM (SELECT to_timestamp($2::bigint) "
      "AT TIME ZONE timezone AS t FROM users WHERE id = $1::uuid) u",
      user_id, now_unix_s);
    if (user.empty())
      throw storage_error(ec::not_found, "no user " + user_id);
    const civil_day today{user[0][0].as<std::int64_t>(), user[0][1].as<int>(),
                          user[0][2].as<int>()};
    const auto today_days = days_from_civil(today);
    const civil_day last = civil_from_days(today_days + horizon_days - 1);
    // A Feb 29 date falls on Feb 28 in a year without it: a horizon
    // ending on that Feb 28 takes Feb 29 too.
    int last_day = last.day;
    if (last.month == 2 && last.day == 28 && !is_leap_year(last.year))
      last_day = 29;
    const bool across_year_end = last.year != today.year;
    auto rows = tx.exec_params(
      std::string{upcoming_columns_sql}
        + (across_year_end ? across_year_end_sql : within_year_sql),
      user_id, today.month, today.day, last.month, last_day);
    for (auto row : rows) {
      const int month = row[3].as<int>();
      const int day = row[4].as<int>();
      const civil_day next = next_occurrence(today, month, day);
      const auto days_until = days_from_civil(next) - today_days;
      if (days_until >= horizon_days)
        continue;
      upcoming_date item;
      item.contact_id = row[0].c_str();
      item.contact_name = row[1].c_str();
      item.kind = row[2].c_str();
      item.date = iso_date(next);
      item.days_until = static_cast<int>(days_until);
      const auto year = row[5].as<std::optional<int>>();
      if (year && next.year > *year)
        item.years = static_cast<int>(next.year - *year);
      out.push_back(std::move(item));
    }
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the upcoming dates of user "
                                     + user_id);
  }
  std::sort(out.begin(), out.end(),
            [](const upcoming_date& a, const upcoming_date& b) {
              if (a.days_until != b.days_until)
                return a.days_until < b.days_until;
              if (a.contact_name != b.contact_name)
                return a.contact_name < b.contact_name;
              if (a.contact_id != b.contact_id)
                return a.contact_id < b.contact_id;
              return a.kind < b.kind;
            });
  return out;
}

} // namespace catchup::storage
