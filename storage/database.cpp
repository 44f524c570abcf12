// SPDX-License-Identifier: Apache-2.0
#include "storage/database.hpp"

#include <libpq-fe.h>
#include <pqxx/pqxx>

#include <set>
#include <string>
#include <utility>

#include "storage/detail/pg_errors.hpp"
#include "storage/storage_error.hpp"
#include "storage/migrations.hpp"

namespace catchup::storage {

embedded_cluster_options
cluster_options(const config::database_settings& cfg) {
  embedded_cluster_options result;
  result.data_dir = cfg.data_dir;
  result.pg_bin_dir = cfg.pg_bin_dir;
  result.service_user = cfg.service_user;
  result.start_timeout = std::chrono::milliseconds(cfg.start_timeout_ms);
  result.tcp_port = static_cast<int>(cfg.tcp_port);
  return result;
}

void validate_url(const std::string& url) {
  char* err = nullptr;
  auto* options = PQconninfoParse(url.c_str(), &err);
  if (options == nullptr) {
    std::string why = err != nullptr ? err : "out of memory";
    if (err != nullptr)
      PQfreemem(err);
    while (!why.empty() && why.back() == '\n')
      why.pop_back();
    throw storage_error(ec::invalid_config,
                        "database.url is not a valid PostgreSQL connection "
                        "string: " + why);
  }
  PQconninfoFree(options);
}

std::string with_link_limits(const std::string& url) {
  validate_url(url);
  static constexpr std::pair<const char*, const char*> limits[] = {
    {"keepalives", "1"},
    {"keepalives_idle", "10"},
    {"keepalives_interval", "5"},
    {"keepalives_count", "3"},
    {"tcp_user_timeout", "30000"},
  };
  char* err = nullptr;
  auto* options = PQconninfoParse(url.c_str(), &err);
  std::set<std::string> given;
  for (auto* o = options; o != nullptr && o->keyword != nullptr; ++o)
    if (o->val != nullptr)
      given.insert(o->keyword);
  PQconninfoFree(options);
  // A URI takes query parameters; a key=value string takes more pairs.
  bool uri = url.rfind("postgresql://", 0) == 0
             || url.rfind("postgres://", 0) == 0;
  auto out = url;
  for (auto [key, value] : limits) {
    if (given.count(key) > 0)
      continue;
    if (uri)
      out += (out.find('?') == std::string::npos ? "?" : "&");
    else
      out += ' ';
    out += std::string{key} + "=" + value;
  }
  return out;
}

void ping(const std::string& url) {
  try {
    pqxx::connection conn{url};
    pqxx::nontransaction tx{conn};
    tx.exec1("SELECT 1");
  } catch (...) {
    detail::rethrow_as_storage_error("cannot reach the database");
  }
}

std::unique_ptr<database>
database::open_unchecked(const config::database_settings& cfg) {
  std::unique_ptr<database> db{new database};
  if (!cfg.url.empty()) {
    db->url_ = with_link_limits(cfg.url);
    ping(db->url_);
    return db;
  }
  db->cluster_ = std::make_unique<embedded_cluster>(cluster_options(cfg));
  db->cluster_->start();
  db->url_ = db->cluster_->url();
  return db;
}

std::unique_ptr<database>
database::open(const config::database_settings& cfg) {
  auto db = open_unchecked(cfg);
  if (cfg.migrate_on_start)
    migrate(db->url());
  else
    require_current_schema(db->url());
  return db;
}

} // namespace catchup::storage
