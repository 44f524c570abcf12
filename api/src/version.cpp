// SPDX-License-Identifier: Apache-2.0
#include "catchup/error.hpp"
#include "catchup/types.hpp"
#include "catchup/version.hpp"

namespace catchup {

const char* version() noexcept {
  return CATCHUP_VERSION_STRING;
}

const char* to_string(error_code code) noexcept {
  switch (code) {
    case error_code::ok:
      return "ok";
    case error_code::invalid_argument:
      return "invalid_argument";
    case error_code::invalid_config:
      return "invalid_config";
    case error_code::database_unavailable:
      return "database_unavailable";
    case error_code::database_error:
      return "database_error";
    case error_code::schema_mismatch:
      return "schema_mismatch";
    case error_code::not_found:
      return "not_found";
    case error_code::conflict:
      return "conflict";
    case error_code::invalid_input:
      return "invalid_input";
    case error_code::memory_critical:
      return "memory_critical";
    case error_code::timeout:
      return "timeout";
    case error_code::busy:
      return "busy";
    case error_code::closed:
      return "closed";
    case error_code::internal:
      return "internal";
  }
  return "unknown";
}

const char* to_string(suggestion_status status) noexcept {
  switch (status) {
    case suggestion_status::pending:
      return "pending";
    case suggestion_status::accepted:
      return "accepted";
    case suggestion_status::dismissed:
      return "dismissed";
    case suggestion_status::snoozed:
      return "snoozed";
    case suggestion_status::expired:
      return "expired";
  }
  return "unknown";
}

const char* to_string(memory_level level) noexcept {
  switch (level) {
    case memory_level::normal:
      return "normal";
    case memory_level::elevated:
      return "elevated";
    case memory_level::high:
      return "high";
    case memory_level::critical:
      return "critical";
  }
  return "unknown";
}

} // namespace catchup
