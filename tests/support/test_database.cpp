// SPDX-License-Identifier: Apache-2.0
#include "tests/support/test_database.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <unistd.h>

#include <pqxx/pqxx>

#include "storage/embedded_cluster.hpp"

namespace catchup::test {

namespace {

std::string pg_dir() {
  auto* dir = std::getenv("CUTEST_PG_DIR");
  if (dir == nullptr || *dir == '\0')
    throw std::runtime_error("CUTEST_PG_DIR is not set: run the "
                             "integration tests through ctest, which starts "
                             "the test cluster");
  return dir;
}

} // namespace

std::string test_database::url_of(const std::string& name) {
  return "postgresql:///" + name + "?host=" + storage::uri_encode(pg_dir())
         + "&port=5432&user=catchup";
}

test_database::test_database() {
  static std::atomic<int> counter{0};
  name_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  pqxx::connection admin{url_of("postgres")};
  pqxx::nontransaction tx{admin};
  tx.exec0("DROP DATABASE IF EXISTS " + name_);
  tx.exec0("CREATE DATABASE " + name_);
  url_ = url_of(name_);
}

struct test_database::clock_connection {
  explicit clock_connection(const std::string& url) : conn(url) {
    // nop
  }
  pqxx::connection conn;
};

std::int64_t test_database::server_clock_unix_ms() const {
  std::lock_guard<std::mutex> lock{clock_mtx_};
  if (!clock_)
    clock_ = std::make_unique<clock_connection>(url_);
  pqxx::nontransaction tx{clock_->conn};
  return tx
    .exec1("SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)"
           "::bigint")[0]
    .as<std::int64_t>();
}

test_database::~test_database() {
  clock_.reset();
  try {
    pqxx::connection admin{url_of("postgres")};
    pqxx::nontransaction tx{admin};
    tx.exec0("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
    // Leaving a database behind only costs disk in a throwaway cluster.
  }
}

std::vector<std::string> test_database::query(const std::string& sql) const {
  pqxx::connection conn{url_};
  pqxx::nontransaction tx{conn};
  std::vector<std::string> out;
  for (auto row : tx.exec(sql))
    out.push_back(row[0].is_null() ? std::string{} : row[0].c_str());
  return out;
}

} // namespace catchup::test
