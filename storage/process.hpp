// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace catchup::storage {

/// The outcome of a finished child process.
struct process_result {
  /// Exit status, or 128 + signal number if it was killed.
  int exit_code = 0;
  /// Standard output and standard error, interleaved, cut at 64 KiB.
  std::string output;
  /// True if the child was killed because it ran past its timeout.
  bool timed_out = false;
};

/// A user to run a child process as (PostgreSQL refuses to run as root).
struct run_as {
  uid_t uid;
  gid_t gid;
  std::string name;
};

/// Runs `argv` to completion without a shell, capturing its output.
/// The child runs as `user` when given (we must be root for that), in its own
/// process group, and is killed after `timeout`.
/// @throws storage_error if the program cannot be started at all.
process_result run_process(const std::vector<std::string>& argv,
                           const std::optional<run_as>& user,
                           std::chrono::milliseconds timeout);

} // namespace catchup::storage
