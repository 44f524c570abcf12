// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace catchup::storage {

/// One versioned schema change. Versions start at 1 and have no gaps.
struct migration {
  std::int64_t version;
  /// Short description from the file name ("initial").
  std::string name;
  /// The SQL text, run in one transaction with the others being applied.
  std::string sql;
};

/// The migrations compiled into this binary, in version order.
const std::vector<migration>& built_in_migrations();

/// The newest schema version this binary knows.
std::int64_t known_schema_version();

/// A stable checksum of a migration's text (FNV-1a 64, hex), stored with
/// each applied migration to notice a migration edited after release.
std::string migration_checksum(const std::string& sql);

/// What `migrate` did.
struct migration_report {
  /// Schema version before and after.
  std::int64_t version_before = 0;
  std::int64_t version_after = 0;
  /// Versions applied by this call, in order.
  std::vector<std::int64_t> applied;
};

/// Applies every pending migration of `migrations` in order, inside one
/// transaction holding a PostgreSQL advisory lock, so that nodes starting at
/// once apply each migration exactly once. Either all pending migrations
/// are applied or none is.
/// @throws storage_error: `schema_too_new` if the database has a version
///         this list lacks, `invalid_input` if an applied migration's
///         checksum differs, `db_query_failed` if a migration fails (with its
///         version and the server's message).
migration_report migrate(const std::string& url,
                         const std::vector<migration>& migrations
                         = built_in_migrations());

/// The schema version of the database (0 if never migrated).
/// @throws storage_error if the database cannot be reached.
std::int64_t schema_version(const std::string& url);

/// Checks that the database's schema is exactly `known_schema_version()`.
/// @throws storage_error: `schema_too_new` (upgrade the engine) or
///         `schema_too_old` (run `catchup migrate`).
void require_current_schema(const std::string& url);

} // namespace catchup::storage
