// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace catchup::test {

/// A fresh, empty database in the test run's shared private cluster
/// (CUTEST_PG_DIR, started by the `test_db` CTest fixture), dropped
/// again on destruction. Each test gets its own, so suites run in parallel.
class test_database {
public:
  test_database();
  ~test_database();
  test_database(const test_database&) = delete;
  test_database& operator=(const test_database&) = delete;

  /// Connection URL of this database.
  const std::string& url() const noexcept {
    return url_;
  }

  /// Runs SQL and returns the first column of every row as text ("" for
  /// NULL); for assertions in tests only.
  std::vector<std::string> query(const std::string& sql) const;

  /// Now on the database server's clock (clock_timestamp), Unix
  /// milliseconds, over one kept connection: a clock for tests that check
  /// times the server stamps itself. Thread-safe.
  std::int64_t server_clock_unix_ms() const;

  /// The URL of database `name` in the shared test cluster.
  static std::string url_of(const std::string& name);

private:
  struct clock_connection;
  std::string name_;
  std::string url_;
  mutable std::mutex clock_mtx_;
  mutable std::unique_ptr<clock_connection> clock_;
};

} // namespace catchup::test
