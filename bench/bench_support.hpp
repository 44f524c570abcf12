// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the benchmarks share: their fixed "now", their configuration, how a
// failure of the engine leaves them, and where progress goes.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <catchup/admin.hpp>
#include <catchup/engine.hpp>
#include <catchup/error.hpp>

namespace catchup::bench {

/// The instant every benchmark seeds and generates at
/// (2026-11-01T09:00:00Z): fixed, so a data set seeded once stays valid
/// and every run computes the same suggestions.
inline constexpr std::int64_t bench_now_unix_s = 1793523600;

/// A call of the public API that failed under a benchmark: its error, whose
/// code says how the process exits (invalid_config: 2, else 1).
class failure : public std::runtime_error {
public:
  explicit failure(catchup::error err);
  const catchup::error& error() const noexcept {
    return error_;
  }

private:
  catchup::error error_;
};

/// The value of `r`. @throws failure with its error.
template <class T>
T checked(result<T> r) {
  if (!r)
    throw failure(r.error());
  return std::move(r).value();
}

/// @throws failure with the error of `r`.
void checked(result<void> r);

/// Every key's effective value under one configuration.
class bench_settings {
public:
  /// @throws failure(invalid_config) naming the key, value and source.
  explicit bench_settings(const engine_config& config);

  /// The effective value of `key` ("" for an unknown key).
  std::string value(const std::string& key) const;
  /// Where it came from ("built-in default", "flag --database-url", ...).
  std::string source(const std::string& key) const;
  /// An integer key's value. @throws std::invalid_argument for another.
  std::int64_t integer(const std::string& key) const;

private:
  std::vector<admin::setting> all_;
};

/// `config` as the benchmarks run with it: their data sets (up to millions
/// of contacts) get a private cluster of their own, ".catchup/bench-pg",
/// unless a database was chosen explicitly.
engine_config bench_config(const engine_config& config);

/// Prints one progress line on stderr, so that --json output on stdout
/// stays parseable.
void say(const std::string& line);

} // namespace catchup::bench
