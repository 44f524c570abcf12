// SPDX-License-Identifier: Apache-2.0
#pragma once

// The system's tz database (IANA zones such as "Europe/Berlin", links such
// as "UTC"), read through Howard Hinnant's date/tz, as zone_rules for the
// free slot search. date/tz is linked privately: no date type appears here
// but this declaration, which date/tz makes itself.

#include <cstdint>
#include <string>

#include "core/zone_rules.hpp"

namespace date {
class time_zone;
} // namespace date

namespace catchup {

/// A zone of the tz database. A cheap handle to copy and to look up: the
/// database lists its zones once per process and reads each zone's rules
/// from disk once, on first use, keeping them for the life of the process.
/// Safe to use from several threads at once.
class tz_database_zone final : public zone_rules {
public:
  /// The zone (or link) named `name`, case-sensitive.
  /// @throws std::invalid_argument `unknown time zone "NAME": REASON` if the
  ///   database has no zone of that name.
  static tz_database_zone locate(const std::string& name);

  std::int64_t utc_offset_seconds(unix_seconds t) const override;
  unix_seconds to_instant(std::int64_t local_seconds) const override;

private:
  explicit tz_database_zone(const date::time_zone& zone) noexcept;

  // Owned by the database, which never frees it.
  const date::time_zone* zone_;
};

/// True if `timezone` names a zone (or link) of the tz database, such as
/// "Europe/Berlin" or "UTC". Case-sensitive.
bool is_valid_timezone(const std::string& timezone) noexcept;

} // namespace catchup
