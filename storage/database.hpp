// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

#include "config/settings.hpp"
#include "storage/embedded_cluster.hpp"

namespace catchup::storage {

/// The database an engine runs against: an external server named by
/// `database.url`, or the private cluster in `database.data_dir`, started on
/// demand and stopped again when this object goes away (if it started it).
class database {
public:
  /// Resolves the database: checks an external URL, or starts the private
  /// cluster; then migrates (with `migrate_on_start`) or checks the schema.
  /// @throws storage_error with what failed and why.
  static std::unique_ptr<database> open(const config::database_settings& cfg);

  /// Like `open`, but neither migrates nor checks the schema.
  static std::unique_ptr<database>
  open_unchecked(const config::database_settings& cfg);

  /// The libpq connection URL.
  const std::string& url() const noexcept {
    return url_;
  }

  /// True when this is the engine's private cluster.
  bool embedded() const noexcept {
    return cluster_ != nullptr;
  }

  /// The private cluster, or nullptr for an external server.
  embedded_cluster* cluster() noexcept {
    return cluster_.get();
  }

private:
  database() = default;

  std::string url_;
  std::unique_ptr<embedded_cluster> cluster_;
};

/// Cluster options from the configuration.
embedded_cluster_options cluster_options(const config::database_settings& cfg);

/// Checks that `url` is a connection string libpq accepts.
/// @throws storage_error(invalid_config) with libpq's reason.
void validate_url(const std::string& url);

/// `url` with client-side limits for a link that dies, for each limit it
/// does not set itself: TCP keepalives (first probe after 10 s idle, every
/// 5 s, 3 probes) for an answer that never comes, and tcp_user_timeout
/// (30 s) for data never acknowledged. Without them a query on a cut link
/// waits for the kernel, hours, holding its actor and its job; with them
/// it fails in under a minute and the connection is opened again. Unix
/// socket connections ignore them.
/// @throws storage_error(invalid_config) if libpq cannot parse `url`.
std::string with_link_limits(const std::string& url);

/// Opens one connection and runs `SELECT 1`.
/// @throws storage_error(db_unavailable) if that fails.
void ping(const std::string& url);

} // namespace catchup::storage
