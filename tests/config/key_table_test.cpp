// SPDX-License-Identifier: Apache-2.0
// The key table is the one declaration of every key: each row sets its own
// field of `settings` and no other, the defaults in settings.hpp agree with
// the table, and the rows follow the order of the fields.

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <variant>

#include "config/config.hpp"

using namespace catchup::config;

namespace {

// The field a row is bound to, as text in the canonical form `load` gives
// the value (integers in decimal, booleans true/false).
std::string field_text(settings& s, const key_spec& spec) {
  return std::visit(
    [&](auto get) -> std::string {
      auto& field = get(s);
      using type = std::decay_t<decltype(field)>;
      if constexpr (std::is_same_v<type, bool>)
        return field ? "true" : "false";
      else if constexpr (std::is_same_v<type, std::int64_t>)
        return std::to_string(field);
      else
        return field;
    },
    spec.field.get);
}

const void* field_address(settings& s, const key_spec& spec) {
  return std::visit([&](auto get) -> const void* { return &get(s); },
                    spec.field.get);
}

// A valid value of `spec` other than its default, in canonical form.
std::string other_value(const key_spec& spec) {
  switch (spec.kind) {
    case value_kind::integer: {
      auto max = std::to_string(spec.max_value);
      return max != spec.default_value ? max : std::to_string(spec.min_value);
    }
    case value_kind::boolean:
      return spec.default_value == "true" ? "false" : "true";
    case value_kind::choice: {
      std::string_view rest = spec.choices;
      auto first = rest.substr(0, rest.find('|'));
      if (first != spec.default_value)
        return std::string{first};
      rest.remove_prefix(first.size() + 1);
      return std::string{rest.substr(0, rest.find('|'))};
    }
    case value_kind::string:
      return "set-" + std::string{spec.key};
  }
  return "";
}

} // namespace

BOOST_AUTO_TEST_SUITE(config_key_table)

BOOST_AUTO_TEST_CASE(every_key_sets_its_own_field_and_no_other) {
  auto defaults = load({}).values;
  for (auto& spec : key_specs()) {
    std::string key{spec.key};
    auto value = other_value(spec);
    BOOST_TEST_CONTEXT(key << " = " << value) {
      BOOST_TEST(value != spec.default_value);
      config_input input;
      input.flags = {{key, value}};
      auto cfg = load(input);
      // What `catchup config show` prints ...
      for (auto& e : cfg.entries)
        if (e.key == key)
          BOOST_TEST(e.value == value);
      // ... is what the engine reads, and nothing else moved.
      for (auto& other : key_specs()) {
        BOOST_TEST_CONTEXT("field of " << other.key) {
          auto expected = &other == &spec ? value
                                          : field_text(defaults, other);
          BOOST_TEST(field_text(cfg.values, other) == expected);
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(defaults_in_settings_hpp_agree_with_the_table) {
  settings built_in{};
  auto cfg = load({});
  BOOST_TEST_REQUIRE(cfg.entries.size() == key_specs().size());
  for (std::size_t i = 0; i < key_specs().size(); ++i) {
    auto& spec = key_specs()[i];
    BOOST_TEST_CONTEXT(spec.key) {
      // entries hold the table's default in canonical form ("50MiB" would
      // read 52428800).
      BOOST_TEST(field_text(built_in, spec) == cfg.entries[i].value);
    }
  }
}

// A swap of two rows' fields would pass the tests above when both defaults
// agree; it cannot keep the order.
BOOST_AUTO_TEST_CASE(rows_follow_the_order_of_the_fields_in_settings_hpp) {
  settings s;
  auto& keys = key_specs();
  for (std::size_t i = 1; i < keys.size(); ++i)
    BOOST_TEST_CONTEXT(keys[i - 1].key << " before " << keys[i].key) {
      BOOST_TEST(std::less<const void*>{}(field_address(s, keys[i - 1]),
                                          field_address(s, keys[i])));
    }
}

BOOST_AUTO_TEST_SUITE_END()
