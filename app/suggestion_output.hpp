// SPDX-License-Identifier: Apache-2.0
#pragma once

// How suggestions are printed, by `generate`, `suggestions` and `demo`.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <catchup/types.hpp>

namespace catchup::app {

/// {id, rank, contact_id, contact_name, priority, slot_start, slot_end,
/// slot_timezone, reason, status}, slots in UTC.
nlohmann::json suggestion_json(const suggestion& s);

/// [suggestion_json, ...].
nlohmann::json suggestions_json(const std::vector<suggestion>& items);

/// "  ID  SLOT  REASON  (priority P)", the slot in the user's zone.
void print_suggestion_line(const suggestion& s);

/// "user ID: N suggestion(s)", then one line per suggestion
/// (print_suggestion_line), at most `rows_max` of them.
void print_suggestions(const std::string& user_id,
                       const std::vector<suggestion>& items,
                       std::size_t rows_max);

} // namespace catchup::app
