// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "core/pressure.hpp"

namespace catchup {

/// One classified memory reading: what the memory supervisor broadcasts on
/// every level change and answers when asked.
struct memory_status {
  /// The pressure level after this reading (with hysteresis).
  pressure_level level = pressure_level::normal;
  /// Heap bytes in use, from the allocator.
  std::int64_t allocated_bytes = 0;
  /// Resident set of the process.
  std::int64_t resident_bytes = 0;
  /// The budget the percentage refers to.
  std::int64_t budget_bytes = 0;
  /// allocated_bytes in percent of budget_bytes.
  double used_percent = 0;
  /// Counts level changes since the supervisor started; subscribers use it
  /// to tell a newer broadcast from an older one.
  std::uint64_t change_seq = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, memory_status& x) {
  // The level travels as its number and is clamped on load: a peer node
  // must not be able to produce a level outside the enum.
  auto level = static_cast<std::uint8_t>(x.level);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    if (level > static_cast<std::uint8_t>(pressure_level::critical))
      level = static_cast<std::uint8_t>(pressure_level::critical);
    x.level = static_cast<pressure_level>(level);
    return caf::none;
  });
  return f(caf::meta::type_name("catchup::memory_status"), level,
           x.allocated_bytes, x.resident_bytes, x.budget_bytes,
           x.used_percent, x.change_seq, load);
}

/// "memory pressure critical: 41.2 MiB allocated, 44.0 MiB resident, budget
/// 48.0 MiB (85.8%)": the figures a refused request carries.
std::string describe(const memory_status& x);

} // namespace catchup
