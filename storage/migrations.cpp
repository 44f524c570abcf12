// SPDX-License-Identifier: Apache-2.0
#include "storage/migrations.hpp"

#include <cstdio>
#include <map>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "storage/detail/pg_errors.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

// Key of the advisory lock that serialises migrations across processes
// ("catchup" in ASCII, as a 64-bit integer).
constexpr long long migration_lock_key = 0x6361746368757000LL;

constexpr const char* create_table_sql = R"(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    version    bigint PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  ))";

std::string upgrade_hint(std::int64_t found, std::int64_t known) {
  return "the database schema is at version " + std::to_string(found)
         + ", newer than this engine knows (" + std::to_string(known)
         + "); a newer catchup has migrated it, so upgrade this one";
}

} // namespace

std::int64_t known_schema_version() {
  auto& all = built_in_migrations();
  return all.empty() ? 0 : all.back().version;
}

std::string migration_checksum(const std::string& sql) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : sql) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx",
                static_cast<unsigned long long>(hash));
  return out;
}

migration_report migrate(const std::string& url,
                         const std::vector<migration>& migrations) {
  for (std::size_t i = 0; i < migrations.size(); ++i)
    if (migrations[i].version != static_cast<std::int64_t>(i) + 1)
      throw storage_error(ec::invalid_input,
                          "migration list is not numbered 1, 2, 3, ...: "
                          "found version "
                            + std::to_string(migrations[i].version)
                            + " at position " + std::to_string(i + 1));
  migration_report report;
  try {
    pqxx::connection conn{url};
    pqxx::work tx{conn, "migrate"};
    // Held until commit or rollback; a second node waits here and then
    // finds the work done.
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key);
    tx.exec0(create_table_sql);
    std::map<std::int64_t, std::pair<std::string, std::string>> applied;
    for (auto row : tx.exec("SELECT version, name, checksum "
                            "FROM schema_migrations ORDER BY version"))
      applied[row[0].as<std::int64_t>()] = {row[1].as<std::string>(),
                                            row[2].as<std::string>()};
    auto known = migrations.empty() ? 0 : migrations.back().version;
    report.version_before = applied.empty() ? 0 : applied.rbegin()->first;
    if (report.version_before > known)
      throw storage_error(ec::schema_too_new,
                          upgrade_hint(report.version_before, known));
    for (auto& m : migrations) {
      auto checksum = migration_checksum(m.sql);
      if (auto i = applied.find(m.version); i != applied.end()) {
        if (i->second.second != checksum)
          throw storage_error(
            ec::invalid_input,
            "migration " + std::to_string(m.version) + " (" + m.name
              + ") was applied with checksum " + i->second.second
              + " but this build has " + checksum
              + ": an applied migration must never change; add a new one");
        continue;
      }
      try {
        tx.exec0(m.sql);
      } catch (...) {
        detail::rethrow_as_storage_error("migration "
                                         + std::to_string(m.version) + " ("
                                         + m.name + ") failed; nothing was "
                                                    "applied");
      }
      tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) "
                     "VALUES ($1, $2, $3)",
                     m.version, m.name, checksum);
      report.applied.push_back(m.version);
    }
    tx.commit();
    report.version_after = known > report.version_before
                             ? known
                             : report.version_before;
  } catch (...) {
    detail::rethrow_as_storage_error("");
  }
  for (auto v : report.applied)
    spdlog::info("applied schema migration {}", v);
  return report;
}

std::int64_t schema_version(const std::string& url) {
  try {
    pqxx::connection conn{url};
    pqxx::nontransaction tx{conn};
    auto exists = tx.exec1("SELECT to_regclass('schema_migrations') IS NULL");
    if (exists[0].as<bool>())
      return 0;
    auto row = tx.exec1("SELECT coalesce(max(version), 0) "
                        "FROM schema_migrations");
    return row[0].as<std::int64_t>();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the schema version");
  }
}

void require_current_schema(const std::string& url) {
  auto found = schema_version(url);
  auto known = known_schema_version();
  if (found > known)
    throw storage_error(ec::schema_too_new, upgrade_hint(found, known));
  if (found < known)
    throw storage_error(ec::schema_too_old,
                        "the database schema is at version "
                          + std::to_string(found) + " but this engine needs "
                          + std::to_string(known)
                          + "; run 'catchup migrate'");
}

} // namespace catchup::storage
