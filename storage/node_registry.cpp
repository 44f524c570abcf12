// SPDX-License-Identifier: Apache-2.0
// The membership table's statements (see node_registry.hpp and
// migrations/0003_nodes.sql).
//
// Each call is one statement in its own transaction. A change of state
// names the state it expects (mark_down only downs a node that is up), so
// two peers declaring the same node down both succeed in effect and only
// one is told it changed something. All times come from the database's
// clock, the one the job leases are compared with.

#include "storage/node_registry.hpp"

#include <pqxx/pqxx>

#include "core/utf8.hpp"
#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

// Unix milliseconds of a timestamptz expression, floored like the job
// queue's; NULL stays NULL.
std::string unix_ms(const std::string& expr) {
  return "floor(extract(epoch FROM " + expr + ") * 1000)::bigint";
}

// The columns read into a node_record, in read_record's order. A beat
// committed by a transaction that started after this statement's reads as
// slightly in the future: its age is 0, not negative.
std::string record_columns() {
  return "id, address, version, state, level, allocated_bytes, "
         "budget_bytes, jobs_in_flight, "
         + unix_ms("started_at") + ", " + unix_ms("heartbeat_at")
         + ", greatest(" + unix_ms("now() - heartbeat_at") + ", 0), coalesce("
         + unix_ms("down_at") + ", 0), coalesce(down_reason, '')";
}

node_record read_record(const pqxx::row& row) {
  node_record r;
  r.id = row[0].c_str();
  r.address = row[1].c_str();
  r.version = row[2].c_str();
  r.state = row[3].c_str();
  r.level = row[4].c_str();
  r.heap_bytes = row[5].as<std::int64_t>();
  r.budget_bytes = row[6].as<std::int64_t>();
  r.jobs_in_flight = row[7].as<std::int64_t>();
  r.started_unix_ms = row[8].as<std::int64_t>();
  r.heartbeat_unix_ms = row[9].as<std::int64_t>();
  r.heartbeat_age_ms = row[10].as<std::int64_t>();
  r.down_unix_ms = row[11].as<std::int64_t>();
  r.down_reason = row[12].c_str();
  return r;
}

// The server takes only UTF-8 without NUL bytes; refusing here says which
// argument was wrong, where the server would only say "invalid byte".
bool storable_text(const std::string& text, std::size_t bytes_max) {
  return text.size() <= bytes_max && valid_utf8(text)
         && text.find('\0') == std::string::npos;
}

void check_id(const std::string& id) {
  require_input(!id.empty() && storable_text(id, node_id_bytes_max),
          "a node id must be 1.." + std::to_string(node_id_bytes_max)
            + " bytes of UTF-8 (its lease owner name, \"host:pid\"), got '"
            + printable_excerpt(id) + "'");
}

bool known_level(const std::string& level) {
  return level == "normal" || level == "elevated" || level == "high"
         || level == "critical";
}

void check_heartbeat(const std::string& id, const node_heartbeat& hb) {
  auto where = "the heartbeat of node " + id + ": ";
  require_input(known_level(hb.level),
          where + "unknown pressure level '" + printable_excerpt(hb.level)
            + "' (normal, elevated, high or critical)");
  require_input(hb.allocated_bytes >= 0,
          where + "allocated_bytes must be at least 0, got "
            + std::to_string(hb.allocated_bytes));
  require_input(hb.budget_bytes >= 0, where + "budget_bytes must be at least 0, got "
                                  + std::to_string(hb.budget_bytes));
  require_input(hb.jobs_in_flight >= 0 && hb.jobs_in_flight <= node_jobs_in_flight_max,
          where + "jobs_in_flight must be 0.."
            + std::to_string(node_jobs_in_flight_max) + ", got "
            + std::to_string(hb.jobs_in_flight));
}

// A restart under the same name is a new incarnation: nothing of the old
// one's load or down mark applies to it.
constexpr const char* register_sql = R"(
INSERT INTO nodes (id, address, version, level, allocated_bytes,
  budget_bytes, jobs_in_flight) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address,
  version = EXCLUDED.version, state = 'up', level = EXCLUDED.level,
  allocated_bytes = EXCLUDED.allocated_bytes,
  budget_bytes = EXCLUDED.budget_bytes,
  jobs_in_flight = EXCLUDED.jobs_in_flight,
  started_at = now(), heartbeat_at = now(), down_at = NULL,
  down_reason = NULL)";

// A beat from a node declared down (or one that left) means it is alive
// after all: it is up again, so its peers count it in once more.
constexpr const char* heartbeat_sql = R"(
UPDATE nodes SET heartbeat_at = now(), level = $2, allocated_bytes = $3,
  budget_bytes = $4, jobs_in_flight = $5, state = 'up', down_at = NULL,
  down_reason = NULL
WHERE id = $1)";

} // namespace

struct node_registry::impl {
  impl(const std::string& url, std::int64_t statement_timeout_ms)
    : conn(url) {
    detail::configure_connection(conn, statement_timeout_ms);
    // The one statement every node runs every beat.
    conn.prepare("node_heartbeat", heartbeat_sql);
  }
  pqxx::connection conn;
};

node_registry::node_registry(const std::string& url,
                             std::int64_t statement_timeout_ms) {
  try {
    impl_ = std::make_unique<impl>(url, statement_timeout_ms);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot open the node registry");
  }
}

node_registry::~node_registry() = default;

void node_registry::register_node(const std::string& id,
                                  const std::string& address,
                                  const std::string& version,
                                  const node_heartbeat& load) {
  check_id(id);
  check_heartbeat(id, load);
  require_input(storable_text(address, node_address_bytes_max),
          "the address of node " + id + " must be at most "
            + std::to_string(node_address_bytes_max)
            + " bytes of UTF-8 (host:port, or '' when it does not "
              "cluster), got '"
            + printable_excerpt(address) + "'");
  require_input(storable_text(version, node_version_bytes_max),
          "the version of node " + id + " must be at most "
            + std::to_string(node_version_bytes_max)
            + " bytes of UTF-8, got '" + printable_excerpt(version) + "'");
  try {
    pqxx::nontransaction tx{impl_->conn};
    tx.exec_params0(register_sql, id, address, version, load.level,
                    load.allocated_bytes, load.budget_bytes,
                    load.jobs_in_flight);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot register node " + id);
  }
}

bool node_registry::heartbeat(const std::string& id,
                              const node_heartbeat& hb) {
  check_id(id);
  check_heartbeat(id, hb);
  try {
    pqxx::nontransaction tx{impl_->conn};
    return tx
             .exec_prepared("node_heartbeat", id, hb.level,
                            hb.allocated_bytes, hb.budget_bytes,
                            hb.jobs_in_flight)
             .affected_rows()
           == 1;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot record the heartbeat of node "
                                     + id);
  }
}

std::vector<node_record> node_registry::list(std::size_t limit) {
  require_input(limit >= 1 && limit <= node_list_rows_max,
          "a node listing shows 1.." + std::to_string(node_list_rows_max)
            + " nodes, asked for " + std::to_string(limit));
  std::vector<node_record> out;
  try {
    pqxx::nontransaction tx{impl_->conn};
    for (auto row : tx.exec_params("SELECT " + record_columns()
                                     + " FROM nodes ORDER BY id LIMIT $1",
                                   static_cast<std::int64_t>(limit)))
      out.push_back(read_record(row));
  } catch (...) {
    detail::rethrow_as_storage_error("cannot list the nodes");
  }
  return out;
}

bool node_registry::mark_down(const std::string& id,
                              const std::string& reason,
                              std::int64_t silent_for_ms) {
  check_id(id);
  require_input(!reason.empty() && storable_text(reason, node_down_reason_bytes_max),
          "declaring node " + id + " down needs a reason of 1.."
            + std::to_string(node_down_reason_bytes_max)
            + " bytes of UTF-8 (who saw what), got '"
            + printable_excerpt(reason) + "'");
  require_input(silent_for_ms >= 0 && silent_for_ms <= node_prune_age_ms_max,
          "declaring node " + id + " down: silent_for_ms must be 0.."
            + std::to_string(node_prune_age_ms_max) + ", got "
            + std::to_string(silent_for_ms));
  try {
    pqxx::nontransaction tx{impl_->conn};
    // A node that beat within `silent_for_ms` is alive, whatever the
    // caller saw that long ago.
    return tx
             .exec_params("UPDATE nodes SET state = 'down', down_at = now(), "
                          "down_reason = $2 WHERE id = $1 AND state = 'up' "
                          "AND heartbeat_at <= now() - $3 * interval "
                          "'1 millisecond'",
                          id, reason, silent_for_ms)
             .affected_rows()
           == 1;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot declare node " + id + " down");
  }
}

void node_registry::leave(const std::string& id) {
  check_id(id);
  try {
    pqxx::nontransaction tx{impl_->conn};
    // A node that left runs nothing: its last beat's job count is stale.
    tx.exec_params0("UPDATE nodes SET state = 'left', down_at = NULL, "
                    "down_reason = NULL, jobs_in_flight = 0 WHERE id = $1",
                    id);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot record that node " + id
                                     + " left");
  }
}

std::int64_t node_registry::prune(std::int64_t older_than_ms) {
  require_input(older_than_ms >= 0 && older_than_ms <= node_prune_age_ms_max,
          "a prune age must be 0.." + std::to_string(node_prune_age_ms_max)
            + " ms, got " + std::to_string(older_than_ms));
  try {
    pqxx::nontransaction tx{impl_->conn};
    return static_cast<std::int64_t>(
      tx.exec_params("DELETE FROM nodes WHERE state <> 'up' AND "
                     "heartbeat_at < now() - $1 * interval '1 millisecond'",
                     older_than_ms)
        .affected_rows());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot prune the nodes");
  }
}

} // namespace catchup::storage
