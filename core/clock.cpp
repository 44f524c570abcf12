// SPDX-License-Identifier: Apache-2.0
// The only file of the project that reads the system's real-time clock
// (tests/guard/no_wall_clock_test checks this); see clock.hpp.
#include "core/clock.hpp"

#include <chrono>
#include <utility>

namespace catchup {

namespace {

std::int64_t system_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

wall_clock::wall_clock() : wall_clock(source_fn{}) {
  // nop
}

wall_clock::wall_clock(source_fn source)
  : source_(std::make_shared<const source_fn>(
      source ? std::move(source) : source_fn{system_unix_ms})) {
  // nop
}

wall_clock wall_clock::system(std::int64_t offset_ms) {
  return wall_clock{}.shifted(offset_ms);
}

wall_clock wall_clock::fixed(std::int64_t unix_ms) {
  return wall_clock{[unix_ms] { return unix_ms; }};
}

wall_clock wall_clock::shifted(std::int64_t offset_ms) const {
  if (offset_ms == 0)
    return *this;
  return wall_clock{[base = source_, offset_ms] { return (*base)() + offset_ms; }};
}

std::int64_t wall_clock::now_unix_ms() const {
  return (*source_)();
}

std::int64_t wall_clock::now_unix_s() const {
  // Floor, so a clock before 1970 still rounds towards the past.
  auto ms = now_unix_ms();
  return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

std::int64_t wall_clock::or_now_unix_s(std::int64_t given_unix_s) const {
  return given_unix_s != 0 ? given_unix_s : now_unix_s();
}

} // namespace catchup
