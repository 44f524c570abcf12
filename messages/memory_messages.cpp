// SPDX-License-Identifier: Apache-2.0
#include "messages/memory_messages.hpp"

#include <cstdio>

namespace catchup {

std::string describe(const memory_status& x) {
  constexpr double mib = 1024.0 * 1024.0;
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "memory pressure %s: %.1f MiB allocated, %.1f MiB resident, "
                "budget %.1f MiB (%.1f%%)",
                std::string{to_string(x.level)}.c_str(),
                x.allocated_bytes / mib, x.resident_bytes / mib,
                x.budget_bytes / mib, x.used_percent);
  return buf;
}

} // namespace catchup
