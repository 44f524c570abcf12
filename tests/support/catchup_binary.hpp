// SPDX-License-Identifier: Apache-2.0
#pragma once

// The `catchup` binary under test (CUTEST_BINARY, set by CTest) and a way
// to run it to completion, for the tests that use it as a user does.

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "storage/process.hpp"

namespace catchup::test {

inline std::string catchup_binary() {
  auto* path = std::getenv("CUTEST_BINARY");
  BOOST_REQUIRE_MESSAGE(path != nullptr, "CUTEST_BINARY is not set");
  return path;
}

/// Runs `catchup ARGS...` to its end (at most 5 minutes).
inline storage::process_result run_catchup(std::vector<std::string> args) {
  args.insert(args.begin(), catchup_binary());
  return storage::run_process(args, std::nullopt, std::chrono::seconds(300));
}

} // namespace catchup::test
