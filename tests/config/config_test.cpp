// SPDX-License-Identifier: Apache-2.0
// Configuration precedence and validation: every source overrides the one
// below it, every value records where it came from, and every invalid value
// fails with a message naming key, value and source.

#include <boost/test/unit_test.hpp>

#include <fstream>

#include "config/config.hpp"
#include "tests/support/temp_dir.hpp"

using namespace catchup;
using namespace catchup::config;

namespace {

struct fixture {
  test::temp_dir dir;

  std::string write_file(const std::string& text) {
    auto path = dir / "catchup.conf";
    std::ofstream out{path};
    out << text;
    return path;
  }

  static const entry& find(const configuration& cfg, const std::string& key) {
    for (auto& e : cfg.entries)
      if (e.key == key)
        return e;
    BOOST_FAIL("no entry " + key);
    throw 0;
  }

  // Runs `load` and returns the error message it throws ("" if none).
  static std::string error_of(const config_input& input) {
    try {
      load(input);
    } catch (const config_error& e) {
      return e.what();
    }
    return "";
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(config_config, fixture)

BOOST_AUTO_TEST_CASE(defaults_apply_when_no_source_sets_a_key) {
  auto cfg = load({});
  BOOST_TEST(cfg.values.database.url == "");
  BOOST_TEST(cfg.values.database.data_dir == ".catchup/pg");
  BOOST_TEST(cfg.values.memory.max_heap_percent == 80);
  BOOST_TEST(cfg.values.memory.monitoring_enabled);
  BOOST_TEST(cfg.values.memory.forced_gc_enabled);
  BOOST_TEST(cfg.values.generation.batch_rows_max == 100);
  BOOST_TEST(cfg.values.generation.suggestions_max == 50);
  BOOST_TEST(cfg.entries.size() == key_specs().size());
  for (auto& e : cfg.entries)
    BOOST_TEST((e.origin.kind == source_kind::built_in));
}

BOOST_AUTO_TEST_CASE(file_beats_default_env_beats_file_flag_beats_env) {
  config_input input;
  input.file = write_file("[generation]\n"
                          "batch_rows_max = 60\n"
                          "suggestions_max = 40\n"
                          "[memory]\n"
                          "max_heap_percent = 70\n");
  input.environment = {{"SUGGESTION_BATCH_SIZE", "30"},
                       {"MAX_HEAP_PERCENT", "75"}};
  input.flags = {{"memory.max_heap_percent", "90"}};
  auto cfg = load(input);
  BOOST_TEST(cfg.values.generation.suggestions_max == 40);
  BOOST_TEST(cfg.values.generation.batch_rows_max == 30);
  BOOST_TEST(cfg.values.memory.max_heap_percent == 90);
  BOOST_TEST(find(cfg, "generation.suggestions_max").origin.describe()
             == "file " + *input.file + ":3");
  BOOST_TEST(find(cfg, "generation.batch_rows_max").origin.describe()
             == "environment SUGGESTION_BATCH_SIZE");
  BOOST_TEST(find(cfg, "memory.max_heap_percent").origin.describe()
             == "flag --memory-max-heap-percent");
  BOOST_TEST(find(cfg, "database.url").origin.describe()
             == "built-in default");
}

BOOST_AUTO_TEST_CASE(original_environment_names_keep_their_meaning) {
  config_input input;
  input.environment = {{"DATABASE_URL", "postgresql://db.example/catchup"},
                       {"MAX_HEAP_PERCENT", "65"},
                       {"SUGGESTION_BATCH_SIZE", "250"},
                       {"MAX_SUGGESTIONS_PER_GENERATION", "20"},
                       {"ENABLE_MEMORY_MONITORING", "false"},
                       {"ENABLE_FORCED_GC", "0"},
                       {"UNRELATED", "ignored"}};
  auto cfg = load(input);
  BOOST_TEST(cfg.values.database.url == "postgresql://db.example/catchup");
  BOOST_TEST(cfg.values.memory.max_heap_percent == 65);
  BOOST_TEST(cfg.values.generation.batch_rows_max == 250);
  BOOST_TEST(cfg.values.generation.suggestions_max == 20);
  BOOST_TEST(!cfg.values.memory.monitoring_enabled);
  BOOST_TEST(!cfg.values.memory.forced_gc_enabled);
}

BOOST_AUTO_TEST_CASE(generic_catchup_variable_beats_the_original_name) {
  config_input input;
  input.environment = {{"MAX_HEAP_PERCENT", "65"},
                       {"CATCHUP_MEMORY_MAX_HEAP_PERCENT", "85"}};
  auto cfg = load(input);
  BOOST_TEST(cfg.values.memory.max_heap_percent == 85);
  BOOST_TEST(find(cfg, "memory.max_heap_percent").origin.where
             == "CATCHUP_MEMORY_MAX_HEAP_PERCENT");
}

BOOST_AUTO_TEST_CASE(every_key_accepts_its_default_from_every_source) {
  for (auto& spec : key_specs()) {
    std::string key{spec.key};
    std::string value{spec.default_value};
    config_input by_flag;
    by_flag.flags = {{key, value}};
    BOOST_TEST((find(load(by_flag), key).origin.kind == source_kind::flag));
    config_input by_env;
    by_env.environment = {{env_name(key), value}};
    BOOST_TEST((find(load(by_env), key).origin.kind
                == source_kind::environment));
    config_input by_file;
    by_file.file = write_file(key + " = \"" + value + "\"\n");
    BOOST_TEST((find(load(by_file), key).origin.kind == source_kind::file));
  }
}

BOOST_AUTO_TEST_CASE(byte_sizes_accept_unit_suffixes) {
  config_input input;
  input.flags = {{"memory.budget_bytes", "2GiB"}};
  BOOST_TEST(load(input).values.memory.budget_bytes == 2LL << 30);
  input.flags = {{"memory.budget_bytes", "512 MB"}};
  BOOST_TEST(load(input).values.memory.budget_bytes == 512000000);
  // Byte limits too, as their help says.
  input.flags = {{"cache.contacts_bytes_max", "50MiB"}};
  BOOST_TEST(load(input).values.cache.contacts.bytes_max == 50LL << 20);
  input.flags = {{"sync.line_bytes_max", "128KiB"}};
  BOOST_TEST(load(input).values.sync.line_bytes_max == 128LL << 10);
  input.flags = {{"memory.budget_bytes", "12XB"}};
  BOOST_TEST(contains(error_of(input), "memory.budget_bytes = \"12XB\""));
}

BOOST_AUTO_TEST_CASE(wrong_type_names_key_value_and_source) {
  config_input input;
  input.environment = {{"MAX_HEAP_PERCENT", "eighty"}};
  auto msg = error_of(input);
  BOOST_TEST(contains(msg, "memory.max_heap_percent = \"eighty\""));
  BOOST_TEST(contains(msg, "environment MAX_HEAP_PERCENT"));
  BOOST_TEST(contains(msg, "must be an integer from 10 to 100"));
  input.environment = {{"ENABLE_FORCED_GC", "maybe"}};
  msg = error_of(input);
  BOOST_TEST(contains(msg, "memory.forced_gc_enabled = \"maybe\""));
  BOOST_TEST(contains(msg, "must be a boolean"));
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_refused) {
  config_input input;
  input.flags = {{"memory.max_heap_percent", "101"}};
  auto msg = error_of(input);
  BOOST_TEST(contains(msg, "memory.max_heap_percent = \"101\""));
  BOOST_TEST(contains(msg, "flag --memory-max-heap-percent"));
  input.flags = {{"generation.batch_rows_max", "0"}};
  BOOST_TEST(contains(error_of(input), "generation.batch_rows_max = \"0\""));
  input.flags = {{"database.tcp_port", "70000"}};
  BOOST_TEST(contains(error_of(input), "from 0 to 65535"));
  input.flags = {{"generation.suggestions_max", "-5"}};
  BOOST_TEST(contains(error_of(input), "generation.suggestions_max"));
  input.flags = {{"generation.suggestions_max", "99999999999999999999"}};
  BOOST_TEST(contains(error_of(input), "must be an integer"));
}

BOOST_AUTO_TEST_CASE(choices_are_checked) {
  config_input input;
  input.file = write_file("[log]\nformat = xml\n");
  auto msg = error_of(input);
  BOOST_TEST(contains(msg, "log.format = \"xml\""));
  BOOST_TEST(contains(msg, "catchup.conf:2"));
  BOOST_TEST(contains(msg, "must be one of: text json"));
}

BOOST_AUTO_TEST_CASE(unknown_file_key_is_an_error_with_a_suggestion) {
  config_input input;
  input.file = write_file("[memory]\nmax_heap_percnt = 70\n");
  auto msg = error_of(input);
  BOOST_TEST(contains(msg, "unknown key memory.max_heap_percnt"));
  BOOST_TEST(contains(msg, "catchup.conf:2"));
  BOOST_TEST(contains(msg, "did you mean memory.max_heap_percent?"));
}

BOOST_AUTO_TEST_CASE(unknown_catchup_environment_variable_is_an_error) {
  config_input input;
  input.environment = {{"CATCHUP_MEMORY_BUDGET", "1GiB"}};
  auto msg = error_of(input);
  BOOST_TEST(contains(msg, "unknown environment variable "
                           "CATCHUP_MEMORY_BUDGET"));
  // The variable that names the config file is not a key.
  input.environment = {{"CATCHUP_CONFIG", "/nonexistent"}};
  BOOST_TEST(error_of(input).empty());
}

BOOST_AUTO_TEST_CASE(unknown_flag_key_is_an_error) {
  config_input input;
  input.flags = {{"database.uri", "x"}};
  BOOST_TEST(contains(error_of(input), "did you mean database.url?"));
}

BOOST_AUTO_TEST_CASE(missing_config_file_is_an_error_naming_it) {
  config_input input;
  input.file = dir / "absent.conf";
  auto msg = error_of(input);
  BOOST_TEST(contains(msg, "cannot read config file " + *input.file));
  BOOST_TEST(contains(msg, "No such file"));
}

BOOST_AUTO_TEST_CASE(flag_and_env_names_follow_the_key) {
  BOOST_TEST(flag_name("database.url") == "--database-url");
  BOOST_TEST(flag_name("memory.sample_interval_ms")
             == "--memory-sample-interval-ms");
  BOOST_TEST(env_name("memory.sample_interval_ms")
             == "CATCHUP_MEMORY_SAMPLE_INTERVAL_MS");
}

BOOST_AUTO_TEST_SUITE_END()
