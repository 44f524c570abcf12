// SPDX-License-Identifier: Apache-2.0
#include "core/memory.hpp"

#include <cstdio>
#include <cstring>

#include <unistd.h>

namespace catchup {

process_memory read_process_memory() noexcept {
  process_memory m;
  // statm: size resident shared text lib data dt, in pages.
  if (auto* f = std::fopen("/proc/self/statm", "r")) {
    long long size = 0;
    long long resident = 0;
    if (std::fscanf(f, "%lld %lld", &size, &resident) == 2)
      m.resident_bytes = resident * sysconf(_SC_PAGESIZE);
    std::fclose(f);
  }
  if (auto* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      long long kib = 0;
      if (std::strncmp(line, "VmHWM:", 6) == 0
          && std::sscanf(line + 6, "%lld", &kib) == 1) {
        m.peak_resident_bytes = kib * 1024;
        break;
      }
    }
    std::fclose(f);
  }
  return m;
}

bool reset_peak_resident() noexcept {
  auto* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f)
    return false;
  bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

} // namespace catchup
