// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the Google client reads out of Google's JSON and writes into its
// queries: people and events mapped to the records the file importers
// produce, Google's error messages, RFC 3339 times. Used by
// google_client.cpp only; its own header, so the client holds HTTP and
// OAuth and this file the mapping.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "adapters/google_client.hpp"

namespace catchup::google_json {

using json = nlohmann::json;

/// What an exception quotes of a body or of Google's message: enough for
/// Google's one-sentence messages, never a whole page.
inline constexpr std::size_t message_excerpt_bytes_max = 200;

/// Nesting accepted in a response. Google's replies nest about six deep;
/// the bound keeps a hostile body from driving the recursive parts of the
/// JSON library (dump, comparisons) deep into the stack.
inline constexpr int json_depth_max = 64;

/// Thrown while mapping one item: the item is skipped and reported.
struct bad_item {
  std::string reason;
};

/// `text` trimmed and cut to `bytes_max`, printable (`printable_excerpt`).
std::string excerpt(std::string_view text, std::size_t bytes_max);

/// True when `body` nests arrays and objects deeper than `depth_max`. A
/// linear scan, before parsing, so depth is bounded whatever the parser
/// does.
bool json_too_deep(std::string_view body, int depth_max) noexcept;

/// `key` of `object`, or null when absent or JSON null.
const json* member(const json& object, const char* key);

/// What a google_item_error keeps of its item.
std::string item_excerpt(const json& item);

/// "message (STATUS; reason)" from Google's error body, the OAuth
/// "error: error_description", else an excerpt of the body itself.
std::string google_message(const std::string& body);

/// "YYYY-MM-DDTHH:MM:SSZ", as timeMin/timeMax want it.
/// @throws std::invalid_argument naming `what` outside the years
/// 0000..9999.
std::string format_date_time_utc(std::int64_t unix_s, const char* what);

/// Appends the person `item` to `page` (a deleted one to its deleted
/// names), as `google_client::list_connections` describes.
/// @throws bad_item when it cannot be mapped.
void map_person(const json& item, people_page& page);

/// The event `item`, the `index`th of its page, as
/// `google_client::list_events` describes.
/// @throws bad_item when it cannot be mapped.
calendar_event_item map_event(const json& item, std::size_t index);

} // namespace catchup::google_json
