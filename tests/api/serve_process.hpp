// SPDX-License-Identifier: Apache-2.0
#pragma once

// A `catchup serve` node with cluster.enabled, run as its own process: the
// other member of a cluster whose first member is the engine a test holds.
// A real cluster has one actor system per process; two that talk inside
// one process make CAF 0.17's network layer leak its internals at exit.

#include <chrono>
#include <cstdlib>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "tests/support/child_process.hpp"

namespace catchup::api_test {

struct serve_process {
  std::unique_ptr<test::child_process> process;
  /// host:port of its cluster endpoint.
  std::string address;
};

/// Starts `catchup serve` as node `owner` on `database_url` (plain TCP on
/// loopback, said explicitly) with `extra` flags, and waits until its
/// cluster endpoint listens.
inline serve_process start_serve_process(const std::string& database_url,
                                         const std::string& owner,
                                         std::vector<std::string> extra = {}) {
  const char* binary = std::getenv("CUTEST_BINARY");
  BOOST_TEST_REQUIRE(binary != nullptr, "CUTEST_BINARY is not set");
  std::vector<std::string> args{binary,
                                "serve",
                                "--database-url",
                                database_url,
                                "--node-owner",
                                owner,
                                "--http-port",
                                "0",
                                "--schedule-generate-interval-ms",
                                "0",
                                "--cluster-enabled",
                                "true",
                                "--cluster-insecure",
                                "true",
                                "--cluster-port",
                                "0",
                                "--cluster-membership-interval-ms",
                                "100"};
  args.insert(args.end(), extra.begin(), extra.end());
  serve_process node;
  node.process = std::make_unique<test::child_process>(args);
  auto line = node.process->wait_for_line(
    [](const std::string& l) {
      return l.find("cluster endpoint ") != std::string::npos;
    },
    std::chrono::seconds(60));
  std::smatch m;
  BOOST_TEST_REQUIRE(
    std::regex_search(line, m, std::regex{"cluster endpoint (\\S+)"}),
    "node " << owner << " did not start:\n" << node.process->output());
  node.address = m[1];
  return node;
}

} // namespace catchup::api_test
