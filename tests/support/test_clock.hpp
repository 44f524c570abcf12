// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

#include "core/clock.hpp"

namespace catchup::test {

/// Where engine tests stand the engine's clock (2026-11-18T11:06:40Z):
/// calls given no "now" read it, so no result depends on the day the suite
/// runs. Tests that pass their own "now" still set it.
inline constexpr std::int64_t clock_now_unix_s = 1795000000;

inline wall_clock standing_clock() {
  return wall_clock::fixed(clock_now_unix_s * 1000);
}

} // namespace catchup::test
