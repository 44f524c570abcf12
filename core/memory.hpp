// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

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

/// One reading of the process's memory as the supervisor uses it.
struct memory_sample {
  /// Bytes the program has allocated and not freed (jemalloc
  /// `stats.allocated` when jemalloc is the allocator, else glibc's
  /// in-use bytes from mallinfo2).
  std::int64_t allocated_bytes = 0;
  /// Resident set (/proc/self/statm).
  std::int64_t resident_bytes = 0;
};

/// Where memory figures come from: the real process, or a fake in tests.
class memory_probe {
public:
  virtual ~memory_probe() = default;
  /// Takes a reading; cheap (microseconds).
  virtual memory_sample sample() = 0;
  /// Returns freed memory to the OS (jemalloc purge or malloc_trim).
  virtual void release_free_memory() {
    // nop
  }
};

/// The probe of this process. With jemalloc linked as the allocator (the
/// `catchup` binary links it) allocated bytes are jemalloc's exact figure;
/// otherwise glibc's.
class process_memory_probe : public memory_probe {
public:
  memory_sample sample() override;
  void release_free_memory() override;
  /// True when jemalloc's statistics are in use.
  static bool uses_jemalloc() noexcept;
  /// The heap figure alone (no /proc read).
  static std::int64_t allocated_bytes() noexcept;
};

/// The memory budget when none is configured: the cgroup limit (v2
/// memory.max, else v1 memory.limit_in_bytes) if there is one below
/// physical memory, else physical memory. `cgroup_root` is read as
/// /sys/fs/cgroup (a parameter so tests can point it at a fake tree).
std::int64_t default_memory_budget_bytes(
  const char* cgroup_root = "/sys/fs/cgroup") noexcept;

/// Restarts the peak resident figure at the current resident set (Linux
/// 4.0+, "5" into /proc/self/clear_refs), so a benchmark can measure the
/// peak of one phase. False if the kernel refused.
bool reset_peak_resident() noexcept;

} // namespace catchup
