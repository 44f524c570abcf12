// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to api/: the one place where engine-internal values become the
// public API's values, and internal failures (engine_error,
// storage::storage_error, config::config_error, the `ec` codes of
// messages/, CAF errors) become `catchup::error`.

#include <exception>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "actors/engine_core.hpp"
#include "actors/importer.hpp"
#include "catchup/admin.hpp"
#include "catchup/error.hpp"
#include "catchup/types.hpp"
#include "core/metrics.hpp"
#include "messages/cluster_messages.hpp"
#include "messages/contact.hpp"
#include "messages/error_codes.hpp"
#include "messages/generation_messages.hpp"
#include "messages/memory_messages.hpp"
#include "storage/embedded_cluster.hpp"
#include "storage/job_queue.hpp"
#include "storage/migrations.hpp"
#include "storage/node_registry.hpp"
#include "storage/seed.hpp"
#include "storage/session.hpp"
#include "storage/user_store.hpp"

namespace catchup::api {

/// How an internal invalid_input (or std::invalid_argument) reads to the
/// caller: a bad argument of a call, bad data in an import's input, or a
/// bad setting.
enum class input_means { argument, data, setting };

error_code public_code(ec code, input_means input = input_means::argument);

// -- to the public API ------------------------------------------------------------

suggestion to_public(const suggestion_record& x);
generation_summary to_public(const generation_result& x);
run_totals to_public(const run_summary& x);
memory_snapshot to_public(const memory_status& x);
import_summary to_public(const import_report& x);
std::vector<import_warning> to_public(const std::vector<import_problem>& x);
contact_info to_public(const contact_record& x);
metric_reading to_public(const metric_snapshot& x);
admin::database_info to_public(const storage::cluster_status& x);
admin::migration_summary to_public(const storage::migration_report& x);
admin::seed_summary to_public(const storage::seed_report& x);
admin::remote_generation to_public(const routed_generation& x);

/// Why an import or sync that ran stopped early: ok when it did not;
/// invalid_input when a bad item stopped a strict run; database_error
/// otherwise (the report's own text, which says what failed).
error stop_reason(const import_report& report, bool strict);

// -- to the engine's own values ---------------------------------------------------

/// The storage form of a response.
storage::suggestion_response to_internal(const suggestion_response& x);
google_sync_request to_internal(const google_sync_params& x);
storage::seed_options to_internal(const admin::seed_params& x);

// -- failures ---------------------------------------------------------------------

/// Converts the exception in flight (call inside `catch (...)`): engine,
/// storage and configuration errors keep their code; anything else is
/// `internal` with its message (std::invalid_argument is invalid_config
/// where `input` is a setting).
error current_error(input_means input = input_means::argument) noexcept;

/// Converts the exception in flight while an engine opens: as
/// `current_error`, but a failure no layer classified is
/// database_unavailable (the database could not be opened, whatever layer
/// noticed).
error opening_error() noexcept;

/// Converts an error an engine actor replied with.
error from_caf(const caf::error& err, const std::string& rendered);

} // namespace catchup::api
