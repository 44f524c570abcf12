// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace catchup {

/// The engine's one source of wall time ("now"). Every instant the engine
/// decides with (generation, snoozes and responses, job run times and
/// leases, node heartbeats, calendar windows, import and sync times) is read
/// from the clock its engine was opened with, or is a "now" its caller
/// passed. Only `clock.cpp` reads the system's real-time clock; a test in
/// the suite fails if another source file does. Durations and timeouts are
/// measured on `std::chrono::steady_clock`, which this is not about.
///
/// A clock is a cheap, copyable handle; copies read the same source.
/// Reading it is thread-safe if its source is.
class wall_clock {
public:
  /// Reads the time in Unix milliseconds.
  using source_fn = std::function<std::int64_t()>;

  /// The system clock.
  wall_clock();

  /// Reads `source` (Unix milliseconds); an empty source means the system
  /// clock.
  explicit wall_clock(source_fn source);

  /// The system clock moved by `offset_ms` (to rehearse another date; every
  /// node of one cluster must use the same offset).
  static wall_clock system(std::int64_t offset_ms = 0);

  /// A clock that always reads `unix_ms` (tests).
  static wall_clock fixed(std::int64_t unix_ms);

  /// This clock moved by `offset_ms`.
  wall_clock shifted(std::int64_t offset_ms) const;

  std::int64_t now_unix_ms() const;
  std::int64_t now_unix_s() const;

  /// `given_unix_s` unless it is 0 (unset), else now in Unix seconds: the
  /// rule for every "now" a caller may pass. A negative one is kept, for
  /// the callee to refuse or use.
  std::int64_t or_now_unix_s(std::int64_t given_unix_s) const;

private:
  std::shared_ptr<const source_fn> source_;
};

} // namespace catchup
