// SPDX-License-Identifier: Apache-2.0
#pragma once

// How the CLI shows a contact and a group, in JSON and as text, for every
// command that prints one.

#include <nlohmann/json.hpp>

#include <catchup/types.hpp>

namespace catchup::app {

/// A contact as JSON: times as UTC text, unset values as null.
nlohmann::json contact_json(const contact_info& c);

/// A group as JSON.
nlohmann::json group_json(const group_info& g);

/// Prints a JSON object's members as "key: value" lines.
void print_fields(const nlohmann::json& object);

/// Prints `object` as indented JSON (`as_json`) or as "key: value" lines.
void print_object(const nlohmann::json& object, bool as_json);

} // namespace catchup::app
