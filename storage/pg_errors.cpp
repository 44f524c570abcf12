// SPDX-License-Identifier: Apache-2.0
#include "storage/detail/pg_errors.hpp"

#include <pqxx/pqxx>

#include "storage/storage_error.hpp"

namespace catchup::storage::detail {

void rethrow_as_storage_error(const std::string& context) {
  auto prefix = context.empty() ? std::string{} : context + ": ";
  try {
    throw;
  } catch (const storage_error&) {
    throw;
  } catch (const pqxx::broken_connection& e) {
    throw storage_error(ec::db_unavailable, prefix + e.what());
  } catch (const pqxx::in_doubt_error& e) {
    throw storage_error(ec::db_outcome_unknown, prefix + e.what());
  } catch (const pqxx::serialization_failure& e) {
    throw storage_error(ec::db_conflict, prefix + e.what());
  } catch (const pqxx::deadlock_detected& e) {
    throw storage_error(ec::db_conflict, prefix + e.what());
  } catch (const pqxx::sql_error& e) {
    // The server's message already ends in a newline; keep one line.
    std::string what = e.what();
    while (!what.empty() && (what.back() == '\n' || what.back() == ' '))
      what.pop_back();
    // A server shutting down, starting up or restarting (57P01..57P03)
    // and connection exceptions (class 08) say nothing of the query: the
    // database is out of reach for now.
    const auto& state = e.sqlstate();
    const bool unreachable = state.rfind("08", 0) == 0 || state == "57P01"
                             || state == "57P02" || state == "57P03";
    throw storage_error(unreachable ? ec::db_unavailable : ec::db_query_failed,
                        prefix + what + " [SQLSTATE " + state + "]");
  } catch (const std::exception& e) {
    throw storage_error(ec::db_query_failed, prefix + e.what());
  }
}

} // namespace catchup::storage::detail
