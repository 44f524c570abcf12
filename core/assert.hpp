// SPDX-License-Identifier: Apache-2.0
#pragma once

// CATCHUP_ASSERT(condition, reason): states an invariant of the engine's
// own code - a heap that holds at most K, a byte count that never goes
// below zero - never a property of its input, which gets an error instead.
//
// Without NDEBUG (Debug and sanitizer builds, the fuzz targets) a broken
// invariant prints "file:line: assertion failed: condition (reason)" to
// stderr and aborts, before it can silently corrupt a result. With NDEBUG
// (RelWithDebInfo, Release) neither operand is evaluated, but both are
// still compiled, so an assertion cannot rot in the builds that skip it and
// a variable read only by one is not "unused".

#include <cstdio>
#include <cstdlib>

namespace catchup::detail {

/// Reports a broken invariant and aborts.
[[noreturn]] inline void assertion_failed(const char* condition,
                                          const char* file, int line,
                                          const char* reason) noexcept {
  std::fprintf(stderr, "%s:%d: assertion failed: %s (%s)\n", file, line,
               condition, reason);
  std::fflush(stderr);
  std::abort();
}

/// Only named inside sizeof: makes an NDEBUG build type-check the operands
/// (a condition convertible to bool, a reason that is a C string).
constexpr bool assertion_operands(bool, const char*) noexcept {
  return true;
}

} // namespace catchup::detail

#ifdef NDEBUG
#define CATCHUP_ASSERT(condition, reason)                                     \
  static_cast<void>(sizeof(::catchup::detail::assertion_operands(            \
    static_cast<bool>(condition), reason)))
#else
#define CATCHUP_ASSERT(condition, reason)                                     \
  (static_cast<bool>(condition)                                               \
     ? static_cast<void>(0)                                                   \
     : ::catchup::detail::assertion_failed(#condition, __FILE__, __LINE__,    \
                                           reason))
#endif
