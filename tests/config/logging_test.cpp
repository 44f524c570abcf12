// SPDX-License-Identifier: Apache-2.0
// JSON logging: every record is one valid JSON object on one line, even
// when the message holds quotes, newlines or invalid UTF-8.

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "config/logging.hpp"
#include "tests/support/temp_dir.hpp"

using namespace catchup;

BOOST_AUTO_TEST_SUITE(config_logging)

BOOST_AUTO_TEST_CASE(json_format_writes_one_valid_object_per_line) {
  test::temp_dir dir;
  auto path = dir / "stderr.txt";
  // Capture stderr, where the logger writes.
  std::fflush(stderr);
  int saved = dup(STDERR_FILENO);
  auto* file = std::freopen(path.c_str(), "w", stderr);
  BOOST_REQUIRE(file != nullptr);
  config::setup_logging({"debug", "json"});
  spdlog::info("plain message");
  spdlog::warn("quote \" backslash \\ newline\n tab\t end");
  spdlog::error("bad utf8 \xff\xfe here");
  spdlog::debug("debug shows at level debug");
  spdlog::trace("trace is filtered at level debug");
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::ifstream in{path};
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(in, line))
    records.push_back(nlohmann::json::parse(line));
  BOOST_REQUIRE_EQUAL(records.size(), 4u);
  BOOST_TEST(records[0]["msg"] == "plain message");
  BOOST_TEST(records[0]["level"] == "info");
  BOOST_TEST(records[0]["logger"] == "catchup");
  BOOST_TEST(records[0]["ts"].get<std::string>().size() == 24u);
  BOOST_TEST(records[1]["msg"] == "quote \" backslash \\ newline\n tab\t end");
  BOOST_TEST(records[1]["level"] == "warning");
  BOOST_TEST(records[2]["level"] == "error");
  BOOST_TEST(records[3]["level"] == "debug");
  config::setup_logging({"info", "text"});
}

BOOST_AUTO_TEST_SUITE_END()
