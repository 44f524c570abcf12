// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace catchup::storage::detail {

/// Call inside a `catch (...)` block: rethrows the exception in flight as a
/// `storage_error`, classifying libpqxx exceptions the way `pqxx::perform`
/// does (broken connection -> db_unavailable, serialization failure or
/// deadlock -> db_conflict, in-doubt -> db_outcome_unknown, other SQL errors
/// -> db_query_failed with the SQLSTATE). `context` says what we were doing.
[[noreturn]] void rethrow_as_storage_error(const std::string& context);

} // namespace catchup::storage::detail
