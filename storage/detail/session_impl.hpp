// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to storage/: the libpqxx state behind `session`.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include <pqxx/pqxx>

#include "storage/session.hpp"

namespace catchup::storage {

/// Name and text of the prepared priority-stream statement.
extern const char* const priority_statement;
std::string priority_statement_sql();
/// Name and text of the statement listing a user's priority classes.
extern const char* const priority_classes_statement;
std::string priority_classes_sql();

namespace detail {

/// What every connection of the engine sets first. Times travel as
/// PostgreSQL text between sessions (keyset positions, cursors); a fixed
/// zone and style make that text the same on every connection. The server
/// enforces the limit of one call, so callers (actors) wait without timers
/// of their own (see actors/repository.cpp).
inline void configure_connection(pqxx::connection& conn,
                                 std::int64_t statement_timeout_ms) {
  pqxx::nontransaction tx{conn};
  tx.exec0("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'");
  tx.exec0("SET statement_timeout = "
           + std::to_string(std::max<std::int64_t>(statement_timeout_ms, 1)));
}

} // namespace detail

struct session::impl {
  impl(const std::string& url, std::int64_t statement_timeout_ms)
    : conn(url) {
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::nontransaction tx{conn};
    // The priority statement's plan is the same for every user (range
    // scans per class): plan it once, not on each of the first pulls.
    tx.exec0("SET plan_cache_mode = force_generic_plan");
    conn.prepare(priority_statement, priority_statement_sql());
    conn.prepare(priority_classes_statement, priority_classes_sql());
  }
  pqxx::connection conn;
  // The open bulk stream's transaction (holding its cursor) and id.
  std::unique_ptr<pqxx::transaction_base> bulk_tx;
  std::uint64_t bulk_id = 0;
};

namespace detail {

/// Encodes strings as a PostgreSQL array literal ({"a","b\"c"}).
std::string array_literal(const std::vector<std::string>& items);

} // namespace detail

} // namespace catchup::storage
