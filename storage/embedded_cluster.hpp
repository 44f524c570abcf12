// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace pqxx {
class transaction_base;
} // namespace pqxx

namespace catchup::storage {

/// Settings of a private PostgreSQL cluster.
struct embedded_cluster_options {
  /// The cluster's data directory; also holds its unix socket and log.
  std::string data_dir = ".catchup/pg";
  /// Directory with initdb and pg_ctl; empty searches the usual places.
  std::string pg_bin_dir;
  /// Runs the server when we are root (PostgreSQL refuses to run as root).
  std::string service_user = "postgres";
  /// Upper bound for initdb plus start-up.
  std::chrono::milliseconds start_timeout{60000};
  /// TCP port on localhost; 0 keeps the server on its unix socket only.
  int tcp_port = 0;
};

/// What `status()` finds in the data directory.
enum class cluster_state {
  /// No cluster has been created there yet.
  absent,
  /// A cluster exists but no server runs on it.
  stopped,
  /// A server runs on it and owns it.
  running,
};

/// Returns "absent", "stopped" or "running".
const char* to_string(cluster_state state);

/// A snapshot of the cluster.
struct cluster_status {
  cluster_state state = cluster_state::absent;
  /// The postmaster's PID while running.
  std::optional<std::int64_t> pid;
  /// Absolute data directory.
  std::string data_dir;
  /// Connection URL of the engine's database in this cluster.
  std::string url;
  /// Who will stop the server: "manual" (catchup db start) or a process ID.
  std::string owner;
  /// The 0600 file holding the superuser's password, which connections
  /// over TCP (database.tcp_port) need; empty until the first start.
  std::string password_file;
};

/// A private PostgreSQL cluster that lives in a data directory the engine
/// owns, reachable through a unix socket inside that directory (mode 0700:
/// its owner only) and, when a TCP port is set, on localhost with the
/// superuser's generated password (scram-sha-256, in a 0600 file).
///
/// Ownership: `start()` stops the server again when this object is destroyed
/// if (and only if) this object started it, or adopted it from a run that
/// died. A server started with `start_detached()` (`catchup db start`) is
/// shared: engines use it and leave it running until `catchup db stop`.
///
/// Not thread-safe; concurrent processes are serialised by a lock file
/// beside the data directory.
class embedded_cluster {
public:
  /// Resolves paths and binaries; does not touch the disk.
  /// @throws storage_error if the PostgreSQL binaries cannot be found.
  explicit embedded_cluster(embedded_cluster_options options);

  embedded_cluster(const embedded_cluster&) = delete;
  embedded_cluster& operator=(const embedded_cluster&) = delete;

  /// Stops the server if this object owns it.
  ~embedded_cluster();

  /// Creates the cluster if absent and starts it if stopped, then waits
  /// until it accepts connections and the engine's database exists.
  /// @returns true if this call started the server.
  /// @throws storage_error with the reason (and the server log's tail).
  bool start();

  /// Like `start()`, but leaves the server running after this object is gone
  /// and marks it as managed by hand.
  bool start_detached();

  /// Stops the server (fast shutdown: open sessions are cancelled).
  /// @returns false if it was not running.
  bool stop();

  /// Inspects the data directory and the postmaster.
  cluster_status status() const;

  /// Connection URL of the engine's database ("catchup") in this cluster.
  std::string url() const;

  /// Absolute path of the data directory.
  const std::string& data_dir() const noexcept {
    return data_dir_;
  }

  /// The 0600 file with the superuser's password (for TCP connections).
  std::string password_file_path() const;

  /// What this cluster was made with (another object made with them
  /// manages the same cluster).
  const embedded_cluster_options& options() const noexcept {
    return options_;
  }

  /// Directory of the PostgreSQL server binaries in use.
  const std::string& bin_dir() const noexcept {
    return bin_dir_;
  }

private:
  bool start_impl(bool detached);
  void initdb();
  void create_database();
  void ensure_password(pqxx::transaction_base& tx);
  std::optional<std::int64_t> running_pid() const;
  void write_owner(const std::string& owner);
  std::string read_owner() const;
  std::string log_tail() const;

  embedded_cluster_options options_;
  std::string data_dir_;
  std::string bin_dir_;
  bool owned_ = false;
};

/// Percent-encodes `text` for use inside a libpq URI.
std::string uri_encode(const std::string& text);

} // namespace catchup::storage
