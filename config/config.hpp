// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/settings.hpp"

namespace catchup::config {

/// A configuration error. The message names the key, the value, where the
/// value came from and why it was refused.
class config_error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Where a value came from, lowest precedence first.
enum class source_kind { built_in, file, environment, flag };

/// The origin of one value, e.g. {file, "catchup.conf:4"}.
struct value_origin {
  source_kind kind = source_kind::built_in;
  /// "catchup.conf:4", "DATABASE_URL" or "--database-url"; empty if built in.
  std::string where;
  /// A phrase for messages: "file catchup.conf:4", "environment DATABASE_URL".
  std::string describe() const;
};

/// The type of a key's value.
enum class value_kind { string, integer, boolean, choice };

/// One configuration key. The table of all keys is `key_specs()`.
struct key_spec {
  /// Dotted name, "section.key", units last ("memory.sample_interval_ms").
  std::string_view key;
  value_kind kind;
  std::string_view default_value;
  /// The original service's environment variable for this key, if any.
  std::string_view legacy_env;
  /// Inclusive range for integers.
  std::int64_t min_value = 0;
  std::int64_t max_value = 0;
  /// Allowed values for choices, separated by '|'.
  std::string_view choices;
  std::string_view help;
};

/// Every key the engine knows, in display order.
const std::vector<key_spec>& key_specs();

/// Returns the spec of `key`, or nullptr.
const key_spec* find_key(std::string_view key);

/// The command-line flag of a key: "database.url" -> "--database-url".
std::string flag_name(std::string_view key);

/// The generic environment variable of a key: "CATCHUP_DATABASE_URL".
std::string env_name(std::string_view key);

/// Names the environment variable that points at a config file.
inline constexpr std::string_view config_file_env = "CATCHUP_CONFIG";

/// Everything `load` reads; the app fills it from argv and environ, tests
/// fill it directly.
struct config_input {
  /// A config file to read (from `--config` or CATCHUP_CONFIG).
  std::optional<std::string> file;
  /// The process environment as (name, value) pairs.
  std::vector<std::pair<std::string, std::string>> environment;
  /// Values given on the command line as (key, value), in order.
  std::vector<std::pair<std::string, std::string>> flags;
};

/// One effective value and its origin.
struct entry {
  std::string key;
  std::string value;
  value_origin origin;
};

/// The effective configuration: typed values plus where each came from.
struct configuration {
  settings values;
  /// One entry per key, in `key_specs()` order.
  std::vector<entry> entries;
};

/// Reads all sources, applies precedence (built-in < file < environment <
/// flag) and validates every value.
/// @throws config_error naming key, value, source and reason.
configuration load(const config_input& input);

/// Collects the process environment for `config_input::environment`.
std::vector<std::pair<std::string, std::string>> process_environment();

/// Closest known key to `key` by edit distance, or empty if none is close.
std::string suggest_key(std::string_view key);

} // namespace catchup::config
