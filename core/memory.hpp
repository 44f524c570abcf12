// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>

namespace catchup {

/// The process's memory as the kernel sees it.
struct process_memory {
  /// Resident set now (/proc/self/statm).
  std::int64_t resident_bytes = 0;
  /// Highest resident set since start or the last `reset_peak_resident`
  /// (VmHWM in /proc/self/status).
  std::int64_t peak_resident_bytes = 0;
};

/// Reads the process's resident and peak resident set; both are 0 where
/// /proc is not readable.
process_memory read_process_memory() noexcept;

/// Restarts the peak resident figure at the current resident set (Linux
/// 4.0+, "5" into /proc/self/clear_refs), so a benchmark can measure the
/// peak of one phase. False if the kernel refused.
bool reset_peak_resident() noexcept;

} // namespace catchup
