// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to api/: the one place where engine-internal values become the
// public API's values, and internal failures become `catchup::error`.

#include <exception>
#include <string>

#include <caf/error.hpp>

#include "actors/importer.hpp"
#include "catchup/error.hpp"
#include "catchup/types.hpp"
#include "messages/error_codes.hpp"
#include "messages/generation_messages.hpp"
#include "messages/memory_messages.hpp"
#include "storage/session.hpp"

namespace catchup::api {

/// How an internal invalid_input reads to the caller: a bad argument of a
/// call, or bad data in an import's input.
enum class input_means { argument, data };

error_code public_code(ec code, input_means input = input_means::argument);

suggestion to_public(const suggestion_record& x);
generation_summary to_public(const generation_result& x);
run_totals to_public(const run_summary& x);
memory_snapshot to_public(const memory_status& x);
import_summary to_public(const import_report& x);

/// The storage form of a response.
storage::suggestion_response to_internal(const suggestion_response& x);

/// Converts the exception in flight (call inside `catch (...)`): engine,
/// storage and configuration errors keep their code; anything else is
/// `internal` with its message.
error current_error(input_means input = input_means::argument) noexcept;

/// Converts an error an engine actor replied with.
error from_caf(const caf::error& err, const std::string& rendered);

} // namespace catchup::api
