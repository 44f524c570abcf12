// SPDX-License-Identifier: Apache-2.0
#include "convert.hpp"

#include <chrono>

#include <caf/atom.hpp>
#include <caf/sec.hpp>

#include "actors/engine_core.hpp"
#include "config/config.hpp"
#include "storage/storage_error.hpp"

namespace catchup::api {

error_code public_code(ec code, input_means input) {
  switch (code) {
    case ec::none:
      return error_code::ok;
    case ec::db_unavailable:
      return error_code::database_unavailable;
    case ec::db_conflict:
    case ec::db_outcome_unknown:
    case ec::db_query_failed:
      return error_code::database_error;
    case ec::schema_too_new:
    case ec::schema_too_old:
      return error_code::schema_mismatch;
    case ec::invalid_config:
      return error_code::invalid_config;
    case ec::not_found:
      return error_code::not_found;
    case ec::invalid_input:
      return input == input_means::data ? error_code::invalid_input
                                        : error_code::invalid_argument;
    case ec::memory_critical:
      return error_code::memory_critical;
    case ec::shutting_down:
      return error_code::closed;
    case ec::conflict:
      return error_code::conflict;
    case ec::timeout:
      return error_code::timeout;
    case ec::unavailable:
      return error_code::busy;
  }
  return error_code::internal;
}

namespace {

suggestion_status status_of(const std::string& s) {
  if (s == "accepted")
    return suggestion_status::accepted;
  if (s == "dismissed")
    return suggestion_status::dismissed;
  if (s == "snoozed")
    return suggestion_status::snoozed;
  if (s == "expired")
    return suggestion_status::expired;
  return suggestion_status::pending;
}

} // namespace

suggestion to_public(const suggestion_record& x) {
  suggestion out;
  out.id = x.id;
  out.contact_id = x.contact_id;
  out.contact_name = x.contact_name;
  out.rank = x.rank;
  out.priority = x.priority;
  out.slot_start_unix_s = x.slot_start_unix_s;
  out.slot_end_unix_s = x.slot_end_unix_s;
  out.slot_timezone = x.slot_timezone;
  out.reason = x.reason;
  out.status = status_of(x.status);
  return out;
}

generation_summary to_public(const generation_result& x) {
  generation_summary out;
  out.user_id = x.user_id;
  out.generation_id = x.generation_id;
  out.contacts_read = x.contacts_read;
  out.suggestions = x.suggestions;
  out.free_slots = x.free_slots;
  out.partial = x.partial;
  out.paused = x.paused;
  out.warnings = x.warnings;
  out.wall_ms = x.wall_ms;
  out.items.reserve(x.items.size());
  for (const auto& item : x.items)
    out.items.push_back(to_public(item));
  return out;
}

run_totals to_public(const run_summary& x) {
  run_totals out;
  out.users = x.users;
  out.failed = x.failed;
  out.partial = x.partial;
  out.paused = x.paused;
  out.contacts_read = x.contacts_read;
  out.suggestions = x.suggestions;
  out.breaker_holds = x.breaker_holds;
  out.wall_ms = x.wall_ms;
  return out;
}

memory_snapshot to_public(const memory_status& x) {
  memory_snapshot out;
  out.level = static_cast<memory_level>(x.level);
  out.heap_bytes = x.allocated_bytes;
  out.resident_bytes = x.resident_bytes;
  out.budget_bytes = x.budget_bytes;
  out.used_percent = x.used_percent;
  return out;
}

import_summary to_public(const import_report& x) {
  import_summary out;
  out.items = x.items;
  out.resumed_items = x.resumed_items;
  out.inserted = x.inserted;
  out.updated = x.updated;
  out.deleted = x.deleted;
  out.skipped = x.skipped;
  out.last_contact_moved = x.last_contact_moved;
  out.pages = x.pages;
  out.bytes = x.bytes;
  out.wall_ms = x.wall_ms;
  out.warnings.reserve(x.problems.size());
  for (const auto& p : x.problems)
    out.warnings.push_back({p.where, p.reason, p.excerpt});
  return out;
}

storage::suggestion_response to_internal(const suggestion_response& x) {
  storage::suggestion_response out;
  out.user_id = x.user_id;
  out.suggestion_id = x.suggestion_id;
  switch (x.action) {
    case suggestion_action::accept:
      out.action = storage::suggestion_action::accept;
      break;
    case suggestion_action::dismiss:
      out.action = storage::suggestion_action::dismiss;
      break;
    case suggestion_action::snooze:
      out.action = storage::suggestion_action::snooze;
      break;
    default:
      // Values from a remote peer are not checked by the type system.
      throw engine_error(ec::invalid_input,
                         "unknown suggestion action "
                           + std::to_string(static_cast<int>(x.action)));
  }
  out.snooze_until_unix_s = x.snooze_until_unix_s;
  out.reason = x.reason;
  out.met_recently = x.met_recently;
  out.now_unix_s = x.now_unix_s; // 0: the engine's clock
  return out;
}

error current_error(input_means input) noexcept {
  try {
    try {
      throw;
    } catch (const engine_error& e) {
      return {public_code(e.code(), input), e.what()};
    } catch (const storage::storage_error& e) {
      return {public_code(e.code(), input), e.what()};
    } catch (const config::config_error& e) {
      return {error_code::invalid_config, e.what()};
    } catch (const std::bad_alloc&) {
      return {error_code::memory_critical, "out of memory"};
    } catch (const std::exception& e) {
      return {error_code::internal, e.what()};
    } catch (...) {
      return {error_code::internal, "unknown failure"};
    }
  } catch (...) {
    // Building the message itself failed (no memory for the string).
    return {error_code::internal, {}};
  }
}

error from_caf(const caf::error& err, const std::string& rendered) {
  if (err.category() == caf::atom("catchup"))
    return {public_code(static_cast<ec>(err.code())), rendered};
  if (err.category() == caf::atom("system")
      && err.code() == static_cast<std::uint8_t>(caf::sec::request_timeout))
    return {error_code::timeout, rendered};
  return {error_code::internal, rendered};
}

} // namespace catchup::api
