// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
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

/// Where a key's value lives in `settings`: a function returning a reference
/// to the field. A table row gives it as a lambda,
/// `[](settings& s) -> auto& { return s.memory.budget_bytes; }`; a field of
/// another type than the three below, or a lambda returning a copy, does not
/// compile.
struct field_ref {
  using integer_field = std::int64_t& (*)(settings&);
  using boolean_field = bool& (*)(settings&);
  using string_field = std::string& (*)(settings&);
  std::variant<integer_field, boolean_field, string_field> get;

  template <class Get>
  constexpr field_ref(Get get_field) : get{to_pointer(get_field)} {}

private:
  template <class Get>
  static constexpr auto to_pointer(Get get_field) {
    using result = std::invoke_result_t<Get, settings&>;
    using type = std::remove_reference_t<result>;
    static_assert(std::is_lvalue_reference_v<result>,
                  "a field_ref returns a reference to the field: -> auto&");
    static_assert(std::is_same_v<type, std::int64_t>
                    || std::is_same_v<type, bool>
                    || std::is_same_v<type, std::string>,
                  "a setting is a std::int64_t, a bool or a std::string");
    return static_cast<result (*)(settings&)>(get_field);
  }
};

/// One configuration key: one row of the table `key_specs()`, which is all
/// there is to a key besides its field in `settings`. Its flag, environment
/// variables, file key and `catchup config show` line follow from the row.
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
  /// The field of `settings` the value is stored in. Its type fits `kind`
  /// (checked at compile time): integer - std::int64_t, boolean - bool,
  /// string and choice - std::string.
  field_ref field;
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
