// SPDX-License-Identifier: Apache-2.0
#include "messages/error_codes.hpp"

namespace catchup {

std::string to_string(ec code) {
  switch (code) {
    case ec::none: return "none";
    case ec::db_unavailable: return "db_unavailable";
    case ec::db_conflict: return "db_conflict";
    case ec::db_outcome_unknown: return "db_outcome_unknown";
    case ec::db_query_failed: return "db_query_failed";
    case ec::schema_too_new: return "schema_too_new";
    case ec::schema_too_old: return "schema_too_old";
    case ec::invalid_config: return "invalid_config";
    case ec::not_found: return "not_found";
    case ec::invalid_input: return "invalid_input";
    case ec::memory_critical: return "memory_critical";
    case ec::shutting_down: return "shutting_down";
    case ec::conflict: return "conflict";
    case ec::timeout: return "timeout";
    case ec::unavailable: return "unavailable";
  }
  return "ec(" + std::to_string(static_cast<int>(code)) + ")";
}

} // namespace catchup
