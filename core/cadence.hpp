// SPDX-License-Identifier: Apache-2.0
#pragma once

// How a person writes a cadence or an importance, read once here for every
// face (facade, CLI, HTTP): "weekly", "45" or "45d" or "every 45 days",
// "none"; "inner", "close", "active", "casual", "none".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/frequency.hpp"

namespace catchup {

/// The most days a cadence may span (ten years).
inline constexpr std::int32_t cadence_days_max = 3650;

/// A cadence setting: a named class, a number of days, or none (inherit
/// from the contact's groups, else the user's default).
struct cadence_choice {
  std::optional<frequency> named;
  /// 1..cadence_days_max when set by days; 0 otherwise.
  std::int32_t days = 0;
  /// True for "none".
  bool none() const noexcept { return !named && days == 0; }
};

/// Reads a cadence: a class label ("weekly"), a whole number of days
/// ("45", "45d", "every 45 days") or "none". Nullopt with `why` set on
/// anything else, including 0 or more than cadence_days_max days.
std::optional<cadence_choice> parse_cadence(std::string_view text,
                                            std::string& why);

/// Reads a whole number of days in 1..cadence_days_max written as "45",
/// "45d" or "every 45 days"; nullopt otherwise.
std::optional<std::int32_t> parse_cadence_days(std::string_view text);

/// Reads an importance: "inner", "close", "active", "casual" or "none"
/// (returned as ""). Nullopt with `why` set on anything else.
std::optional<std::string> parse_importance(std::string_view text,
                                            std::string& why);

} // namespace catchup
