// SPDX-License-Identifier: Apache-2.0
#include "convert.hpp"

#include <chrono>
#include <stdexcept>

#include <caf/atom.hpp>
#include <caf/sec.hpp>

#include "config/config.hpp"
#include "core/frequency.hpp"
#include "core/memory.hpp"
#include "storage/session.hpp"
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
      switch (input) {
        case input_means::data:
          return error_code::invalid_input;
        case input_means::setting:
          return error_code::invalid_config;
        case input_means::argument:
          break;
      }
      return error_code::invalid_argument;
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
  static_cast<generation_figures&>(out) = x;
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
  out.warnings = to_public(x.problems);
  out.outside_window = x.outside_window;
  out.window_from_unix_s = x.window_from_unix_s;
  out.window_to_unix_s = x.window_to_unix_s;
  out.swept = x.swept;
  out.bytes_total = x.bytes_total;
  return out;
}

std::vector<import_warning> to_public(const std::vector<import_problem>& x) {
  std::vector<import_warning> out;
  out.reserve(x.size());
  for (const auto& p : x)
    out.push_back({p.where, p.reason, p.excerpt});
  return out;
}

contact_info to_public(const contact_record& x) {
  contact_info out;
  out.id = x.id;
  out.name = x.name;
  if (x.has_last_contact)
    out.last_contact_unix_s = x.last_contact_unix_s;
  if (x.frequency != no_frequency)
    out.frequency = std::string{to_string(static_cast<frequency>(x.frequency))};
  out.group_ids = x.group_ids;
  out.archived = x.archived;
  out.email = x.email;
  out.phone = x.phone;
  out.location = x.location;
  out.organization = x.organization;
  out.cadence_days = x.cadence_days;
  out.group_cadence_days = x.group_cadence_days;
  auto cadence = storage::cadence_of(x, x.default_cadence_days);
  out.effective_cadence_days = static_cast<std::int32_t>(cadence.days);
  out.cadence_source = cadence.source == cadence_source::contact ? "contact"
                       : cadence.source == cadence_source::group ? "group"
                                                                 : "default";
  out.importance = x.importance;
  out.added_unix_s = x.created_at_unix_s;
  if (x.paused_until_unix_s != 0)
    out.paused_until_unix_s = x.paused_until_unix_s;
  return out;
}

metric_reading to_public(const metric_snapshot& x) {
  metric_reading out;
  out.name = x.name;
  out.help = x.help;
  switch (x.kind) {
    case metric_kind::counter:
      out.type = metric_type::counter;
      break;
    case metric_kind::gauge:
      out.type = metric_type::gauge;
      break;
    case metric_kind::histogram:
      out.type = metric_type::histogram;
      break;
  }
  out.value = x.value;
  out.upper_bounds = x.upper_bounds;
  out.bucket_counts = x.bucket_counts;
  out.count = x.count;
  out.sum = x.sum;
  return out;
}

admin::database_info to_public(const storage::cluster_status& x) {
  admin::database_info out;
  switch (x.state) {
    case storage::cluster_state::absent:
      out.state = admin::database_state::absent;
      break;
    case storage::cluster_state::stopped:
      out.state = admin::database_state::stopped;
      break;
    case storage::cluster_state::running:
      out.state = admin::database_state::running;
      break;
  }
  out.pid = x.pid.value_or(0);
  out.data_dir = x.data_dir;
  out.url = x.url;
  out.owner = x.owner;
  out.password_file = x.password_file;
  return out;
}

admin::migration_summary to_public(const storage::migration_report& x) {
  return {x.version_before, x.version_after, x.applied};
}

admin::seed_summary to_public(const storage::seed_report& x) {
  admin::seed_summary out;
  out.user_ids = x.user_ids;
  out.contacts = x.contacts;
  out.events = x.events;
  out.wall_ms = x.wall_ms;
  return out;
}

admin::remote_generation to_public(const routed_generation& x) {
  return {x.node_id, x.attempts, to_public(x.result)};
}

error stop_reason(const import_report& report, bool strict) {
  if (report.ok())
    return {};
  auto code = strict && report.skipped > 0 ? error_code::invalid_input
                                           : error_code::database_error;
  return {code, report.error};
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

google_sync_request to_internal(const google_sync_params& x) {
  google_sync_request out;
  out.user_id = x.user_id;
  switch (x.what) {
    case google_sync_kind::contacts:
      out.what = google_sync_request::kind::contacts;
      break;
    case google_sync_kind::calendar:
      out.what = google_sync_request::kind::calendar;
      break;
    default:
      throw engine_error(ec::invalid_input,
                         "unknown Google sync kind "
                           + std::to_string(static_cast<int>(x.what)));
  }
  out.calendar_id = x.calendar_id;
  out.credentials.client_id = x.client_id;
  out.credentials.client_secret = x.client_secret;
  out.credentials.refresh_token = x.refresh_token;
  out.credentials.access_token = x.access_token;
  out.strict = x.strict;
  out.now_unix_s = x.now_unix_s; // 0: the engine's clock
  return out;
}

storage::seed_options to_internal(const admin::seed_params& x) {
  storage::seed_options out;
  out.users = x.users;
  out.contacts_per_user = x.contacts_per_user;
  out.seed = x.seed;
  out.now_unix_s = x.now_unix_s;
  out.busy_events_per_user_max = x.busy_events_per_user_max;
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
    } catch (const std::invalid_argument& e) {
      return {input == input_means::setting ? error_code::invalid_config
                                            : error_code::internal,
              e.what()};
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

error opening_error() noexcept {
  auto err = current_error();
  if (err.code == error_code::internal)
    err.code = error_code::database_unavailable;
  return err;
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
