// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace catchup {

/// A random (version 4) UUID in canonical lower-case text. Suggestions get
/// their ids where they are made, so the generation that made them can
/// return them without reading its own writes back. Thread-safe.
std::string random_uuid();

/// True for the canonical 8-4-4-4-12 hex form (either case). Ids are
/// checked before they reach SQL, so a malformed one is an error naming it
/// rather than a cast failure from the server.
bool is_uuid_text(std::string_view s) noexcept;

} // namespace catchup
