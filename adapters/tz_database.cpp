// SPDX-License-Identifier: Apache-2.0
#include "adapters/tz_database.hpp"

#include <chrono>
#include <exception>
#include <stdexcept>

#include <date/tz.h>

namespace catchup {

tz_database_zone tz_database_zone::locate(const std::string& name) {
  try {
    return tz_database_zone{*date::locate_zone(name)};
  } catch (const std::exception& e) {
    throw std::invalid_argument("unknown time zone \"" + name + "\": " +
                                e.what());
  }
}

tz_database_zone::tz_database_zone(const date::time_zone& zone) noexcept
  : zone_(&zone) {
}

std::int64_t tz_database_zone::utc_offset_seconds(unix_seconds t) const {
  return zone_->get_info(date::sys_seconds{std::chrono::seconds{t}})
    .offset.count();
}

unix_seconds tz_database_zone::to_instant(std::int64_t local_seconds) const {
  auto info =
    zone_->get_info(date::local_seconds{std::chrono::seconds{local_seconds}});
  if (info.result == date::local_info::nonexistent)
    return info.second.begin.time_since_epoch().count();
  // For an ambiguous time `first` is the offset before the change, which
  // gives the earlier instant.
  return local_seconds - info.first.offset.count();
}

bool is_valid_timezone(const std::string& timezone) noexcept {
  try {
    static_cast<void>(date::locate_zone(timezone));
    return true;
  } catch (...) {
    return false;
  }
}

} // namespace catchup
