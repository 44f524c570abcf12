// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace catchup::app {

/// Parses "2026-11-22T18:00:00Z", "2026-11-22T18:00:00+05:30",
/// "2026-11-22" (midnight UTC) or plain Unix seconds.
std::optional<std::int64_t> parse_instant(const std::string& text);

/// "2026-11-22T18:00:00Z".
std::string format_utc(std::int64_t unix_s);

/// "Mon 2026-11-23 18:00 Europe/Berlin" in the given IANA zone.
std::string format_local(std::int64_t unix_s, const std::string& timezone);

} // namespace catchup::app
