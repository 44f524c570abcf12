// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

#include "core/priority.hpp"

namespace catchup {

/// The civil-time rules of one time zone: how an instant reads on the
/// zone's clocks and which instant a wall-clock time stands for. The free
/// slot search lays weekly windows on local days through these two
/// questions alone, so it works with any zone; the tz database's zones live
/// in `adapters/tz_database`, fixed offsets (UTC) below.
///
/// A local time is counted as `local_seconds`: seconds since 1970-01-01
/// 00:00 on the zone's clocks, as if that wall-clock time were UTC.
///
/// Implementations keep every offset strictly within -24 h and +24 h (the
/// search looks one local day beyond its range on either side) and answer
/// for instants and local times within a few days of the years 1 to 9999.
/// Answers depend on the arguments only, and the const members are safe to
/// call from several threads at once.
class zone_rules {
public:
  virtual ~zone_rules() = default;

  /// The UTC offset in force at instant `t`, in seconds: the local time of
  /// `t` is `t + utc_offset_seconds(t)`.
  virtual std::int64_t utc_offset_seconds(unix_seconds t) const = 0;

  /// The instant the local time `local_seconds` stands for. A local time
  /// that does not exist (skipped by a change that moves the clocks
  /// forward) stands for the first instant after the gap, the instant of
  /// the change; an ambiguous one (repeated by a change that moves them
  /// back) stands for its earlier instant, read with the offset before the
  /// change. So the result never decreases as `local_seconds` grows.
  virtual unix_seconds to_instant(std::int64_t local_seconds) const = 0;

protected:
  zone_rules() = default;
  // Copies through a derived type only, never sliced through this one.
  zone_rules(const zone_rules&) = default;
  zone_rules& operator=(const zone_rules&) = default;
};

/// A zone whose offset never changes, such as UTC (offset 0): no local time
/// is skipped or repeated.
class fixed_offset_zone final : public zone_rules {
public:
  /// @throws std::invalid_argument if `offset_seconds` is not strictly
  ///   within -86400 and 86400.
  explicit fixed_offset_zone(std::int64_t offset_seconds);

  std::int64_t utc_offset_seconds(unix_seconds t) const override;
  unix_seconds to_instant(std::int64_t local_seconds) const override;

private:
  std::int64_t offset_seconds_;
};

} // namespace catchup
