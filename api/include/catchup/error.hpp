// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Errors as values: every fallible call of the public API returns a
/// `result<T>` holding either its value or an `error` (a code a program
/// can branch on, and a message a person can act on). No exception leaves
/// the API.

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "catchup/export.hpp"

namespace catchup {

/// What kind of failure an `error` is. Values are stable.
enum class error_code : std::uint8_t {
  /// Not an error.
  ok = 0,
  /// An argument of the call is wrong (empty user id, unknown format, a
  /// value out of range); the message names it.
  invalid_argument = 1,
  /// A setting or the config file was refused; the message names the key,
  /// the value, where it came from and why.
  invalid_config = 2,
  /// The database cannot be reached or started (a missing server, a data
  /// directory that cannot be created); retrying later may succeed.
  database_unavailable = 3,
  /// The database refused an operation (its message and SQLSTATE follow).
  database_error = 4,
  /// The database schema is of another engine version.
  schema_mismatch = 5,
  /// A user, contact or suggestion that does not exist.
  not_found = 6,
  /// The current state forbids the call (a suggestion no longer pending,
  /// an overlapping accepted slot, a dispatcher already running).
  conflict = 7,
  /// Imported input could not be read; the message says where and why.
  invalid_input = 8,
  /// Refused while memory pressure is critical; the message carries the
  /// memory figures. Retry when the level falls (see on_pressure_change).
  memory_critical = 9,
  /// The call did not finish within its time limit.
  timeout = 10,
  /// Too many asynchronous calls are waiting (engine_config::
  /// async_queue_max); retry later.
  busy = 11,
  /// The engine is closed (or was moved from).
  closed = 12,
  /// A failure inside the engine that none of the above describes.
  internal = 13,
};

/// The enumerator's name, e.g. "not_found".
CATCHUP_API const char* to_string(error_code code) noexcept;

/// A failure: what kind, and a message saying what failed, where and why.
struct error {
  error_code code = error_code::ok;
  std::string message;
};

/// Either a value or an error. Reading the value of a failed result (or
/// the error of a successful one) is a programming error: it throws
/// std::bad_variant_access. Check `ok()` first.
template <class T>
class result {
public:
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {
    // nop
  }
  result(catchup::error err) : data_(std::in_place_index<1>, std::move(err)) {
    // nop
  }

  /// True when the call succeeded.
  bool ok() const noexcept {
    return data_.index() == 0;
  }
  explicit operator bool() const noexcept {
    return ok();
  }

  T& value() & {
    return std::get<0>(data_);
  }
  const T& value() const& {
    return std::get<0>(data_);
  }
  /// By value on a temporary result: a reference into it would dangle
  /// (`for (auto& s : engine.suggestions(user).value())` would read a
  /// destroyed vector).
  T value() && {
    return std::get<0>(std::move(data_));
  }
  T* operator->() {
    return &value();
  }
  const T* operator->() const {
    return &value();
  }
  T& operator*() & {
    return value();
  }
  const T& operator*() const& {
    return value();
  }
  /// By value on a temporary: `for (auto& s : *engine.suggestions(user))`
  /// iterates a vector that lives as long as the loop.
  T operator*() && {
    return std::move(*this).value();
  }
  T operator*() const&& = delete;

  /// The error of a failed call.
  const catchup::error& error() const {
    return std::get<1>(data_);
  }

  /// The value, or `fallback` when the call failed.
  T value_or(T fallback) const& {
    return ok() ? value() : std::move(fallback);
  }

private:
  std::variant<T, catchup::error> data_;
};

/// The result of a call that returns nothing but may fail.
template <>
class result<void> {
public:
  result() = default;
  result(catchup::error err) : error_(std::move(err)) {
    // nop
  }
  bool ok() const noexcept {
    return error_.code == error_code::ok;
  }
  explicit operator bool() const noexcept {
    return ok();
  }
  const catchup::error& error() const {
    return error_;
  }

private:
  catchup::error error_;
};

} // namespace catchup
