// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>

#include "config/settings.hpp"

namespace catchup::app {

/// `catchup serve`: a long-running node. It takes jobs from the queue in
/// PostgreSQL, schedules generation, serves /metrics, /livez, /readyz and
/// /status, and on SIGTERM or SIGINT stops claiming, gives jobs in flight
/// `node.shutdown_grace_ms` to finish, hands the rest back and exits 0.
/// SIGHUP calls `reload_log_level` (which re-reads the configuration).
/// @returns the process exit code.
int run_serve(const config::settings& settings,
              std::function<void()> reload_log_level);

/// `catchup enqueue KIND --user ID [--payload JSON]`: prints the job id
/// and whether it is new.
int run_enqueue(const config::settings& settings, const std::string& kind,
                const std::string& user_id, const std::string& payload_json,
                std::int32_t max_attempts);

/// `catchup jobs list|show|retry|cancel`.
int run_jobs(const config::settings& settings, const std::string& action,
             std::int64_t id, const std::string& state, std::int64_t limit,
             bool as_json);

/// `catchup cluster status [--json]`: every node the `nodes` table knows,
/// with its state, pressure level, memory, jobs in flight and the age of
/// its last heartbeat.
int run_cluster_status(const config::settings& settings, bool as_json);

} // namespace catchup::app
