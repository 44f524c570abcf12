// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// When a user is open to catching up. Standard types only, so every layer
/// of the engine speaks this one type: the public API, the domain logic that
/// cuts free slots from it and the store that keeps it.

namespace catchup {

/// A weekly time of day when the user is free, in the user's own zone.
struct availability_window {
  /// ISO weekday: 1 = Monday ... 7 = Sunday.
  int weekday = 1;
  /// Minutes after local midnight, [start, end); end 1440 is midnight.
  int start_minute = 0;
  int end_minute = 0;
};

} // namespace catchup
