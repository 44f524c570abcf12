// SPDX-License-Identifier: Apache-2.0
#include "core/cadence.hpp"

#include <cctype>

namespace catchup {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

bool strip_prefix(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix)
    return false;
  s.remove_prefix(prefix.size());
  s = trim(s);
  return true;
}

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (s.size() < suffix.size()
      || s.substr(s.size() - suffix.size()) != suffix)
    return false;
  s.remove_suffix(suffix.size());
  s = trim(s);
  return true;
}

} // namespace

std::optional<std::int32_t> parse_cadence_days(std::string_view text) {
  auto s = trim(text);
  strip_prefix(s, "every");
  if (!strip_suffix(s, "days") && !strip_suffix(s, "day"))
    strip_suffix(s, "d");
  if (s.empty() || s.size() > 9)
    return std::nullopt;
  std::int64_t n = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9')
      return std::nullopt;
    n = n * 10 + (ch - '0');
  }
  if (n < 1 || n > cadence_days_max)
    return std::nullopt;
  return static_cast<std::int32_t>(n);
}

std::optional<cadence_choice> parse_cadence(std::string_view text,
                                            std::string& why) {
  auto s = trim(text);
  cadence_choice out;
  if (s == "none")
    return out;
  if (auto f = parse_frequency(s)) {
    out.named = f;
    return out;
  }
  if (auto days = parse_cadence_days(s)) {
    out.days = *days;
    return out;
  }
  why = "cadence '" + std::string{text}
        + "' is neither a class (daily, weekly, biweekly, monthly, "
          "quarterly, yearly, flexible, na), a number of days from 1 to "
        + std::to_string(cadence_days_max) + " (45, 45d, every 45 days) "
        + "nor none";
  return std::nullopt;
}

std::optional<std::string> parse_importance(std::string_view text,
                                            std::string& why) {
  auto s = trim(text);
  if (s == "none")
    return std::string{};
  if (s == "inner" || s == "close" || s == "active" || s == "casual")
    return std::string{s};
  why = "importance '" + std::string{text}
        + "' is not one of inner, close, active, casual, none";
  return std::nullopt;
}

} // namespace catchup
