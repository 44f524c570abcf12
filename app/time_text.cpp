// SPDX-License-Identifier: Apache-2.0
#include "app/time_text.hpp"

#include <chrono>
#include <fstream>
#include <sstream>

#include <date/date.h>
#include <date/tz.h>

namespace catchup::app {

std::optional<std::int64_t> parse_instant(const std::string& text) {
  if (!text.empty()
      && text.find_first_not_of("0123456789") == std::string::npos) {
    try {
      return std::stoll(text);
    } catch (...) {
      return std::nullopt;
    }
  }
  using namespace std::chrono;
  for (auto* fmt : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%Ez",
                    "%Y-%m-%dT%H:%MZ", "%Y-%m-%d"}) {
    std::istringstream in{text};
    date::sys_seconds tp;
    in >> date::parse(fmt, tp);
    if (!in.fail() && in.peek() == std::char_traits<char>::eof())
      return tp.time_since_epoch().count();
  }
  return std::nullopt;
}

std::string format_utc(std::int64_t unix_s) {
  date::sys_seconds tp{std::chrono::seconds{unix_s}};
  return date::format("%Y-%m-%dT%H:%M:%SZ", tp);
}

std::string format_local(std::int64_t unix_s, const std::string& timezone) {
  date::sys_seconds tp{std::chrono::seconds{unix_s}};
  try {
    auto zt = date::make_zoned(timezone, tp);
    return date::format("%a %Y-%m-%d %H:%M ", zt) + timezone;
  } catch (const std::exception&) {
    return format_utc(unix_s);
  }
}

} // namespace catchup::app
