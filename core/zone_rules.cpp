// SPDX-License-Identifier: Apache-2.0
#include "core/zone_rules.hpp"

#include <stdexcept>
#include <string>

namespace catchup {

fixed_offset_zone::fixed_offset_zone(std::int64_t offset_seconds)
  : offset_seconds_(offset_seconds) {
  if (offset_seconds <= -seconds_per_day || offset_seconds >= seconds_per_day)
    throw std::invalid_argument("invalid fixed UTC offset " +
                                std::to_string(offset_seconds) +
                                " s: must lie strictly within -86400 and "
                                "86400");
}

std::int64_t fixed_offset_zone::utc_offset_seconds(unix_seconds) const {
  return offset_seconds_;
}

unix_seconds fixed_offset_zone::to_instant(std::int64_t local_seconds) const {
  return local_seconds - offset_seconds_;
}

} // namespace catchup
