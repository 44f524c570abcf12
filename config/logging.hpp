// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "config/settings.hpp"

namespace catchup::config {

/// Points spdlog's default logger at stderr with the level and format of
/// `log`. With format "json" each record is one JSON object on one line:
/// {"ts":"2026-11-22T10:00:00.123Z","level":"info","logger":"catchup",
///  "msg":"..."} with every string properly escaped.
void setup_logging(const log_settings& log);

} // namespace catchup::config
