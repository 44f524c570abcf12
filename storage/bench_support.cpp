// SPDX-License-Identifier: Apache-2.0
// The cluster bench's statements (see bench_support.hpp). Ids travel as one
// array parameter each, so every call is one statement whatever the count.

#include "storage/bench_support.hpp"

#include <pqxx/pqxx>

#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

template <class T>
void check_count(const std::vector<T>& ids, const char* what) {
  if (ids.size() > bench_ids_per_call_max)
    throw storage_error(ec::invalid_input,
                        std::string{"at most "}
                          + std::to_string(bench_ids_per_call_max) + " "
                          + what + " per call, got "
                          + std::to_string(ids.size()));
}

// {1,2,3}: a bigint[] literal.
std::string id_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0)
      out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

} // namespace

struct bench_queue::impl {
  impl(const std::string& url, std::int64_t statement_timeout_ms)
    : conn(url) {
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::nontransaction tx{conn};
    // The bench polls with small statements; JIT compiling one would cost
    // more than running it (as for the job queue).
    tx.exec0("SET jit = off");
    // Prefix and suffix compared as text, not with LIKE: '_' and '%' in
    // them would be wildcards.
    conn.prepare("bench_delete_jobs",
                 "DELETE FROM jobs j USING users u WHERE j.user_id = u.id "
                 "AND right(u.email, length($1) + 1) = '@' || $1");
    conn.prepare("bench_delete_nodes",
                 "DELETE FROM nodes WHERE left(id, length($1)) = $1");
    conn.prepare("bench_other_open",
                 "SELECT count(*) FROM jobs j JOIN users u ON u.id = "
                 "j.user_id WHERE j.state IN ('pending', 'running') AND "
                 "right(u.email, length($1) + 1) <> '@' || $1");
    conn.prepare("bench_enqueue",
                 "SELECT e.id FROM unnest($1::uuid[]) WITH ORDINALITY "
                 "AS u(user_id, n) CROSS JOIN LATERAL catchup_enqueue("
                 "'generate', u.user_id, $2::jsonb) AS e ORDER BY u.n");
    conn.prepare("bench_counts",
                 "SELECT count(*) FILTER (WHERE state = 'pending'), "
                 "count(*) FILTER (WHERE state = 'running'), "
                 "count(*) FILTER (WHERE state = 'done'), "
                 "count(*) FILTER (WHERE state = 'failed'), "
                 "count(*) FILTER (WHERE state = 'cancelled') "
                 "FROM jobs WHERE id = ANY($1::bigint[])");
    conn.prepare("bench_held_by",
                 "SELECT id FROM jobs WHERE state = 'running' AND "
                 "lease_owner = $1 ORDER BY id");
    conn.prepare("bench_still_held",
                 "SELECT count(*) FROM jobs WHERE id = ANY($1::bigint[]) "
                 "AND state = 'running' AND lease_owner = $2");
  }
  pqxx::connection conn;
};

bench_queue::bench_queue(const std::string& url,
                         std::int64_t statement_timeout_ms) {
  try {
    impl_ = std::make_unique<impl>(url, statement_timeout_ms);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot open the bench's connection");
  }
}

bench_queue::~bench_queue() = default;

void bench_queue::reset(const std::string& email_domain,
                        const std::string& node_prefix) {
  // Empty, either would match every user or every node of the database.
  if (email_domain.empty() || node_prefix.empty())
    throw storage_error(ec::invalid_input,
                        "the bench's e-mail domain and node prefix must not "
                        "be empty");
  try {
    pqxx::work tx{impl_->conn};
    tx.exec_prepared0("bench_delete_jobs", email_domain);
    tx.exec_prepared0("bench_delete_nodes", node_prefix);
    tx.commit();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot reset the bench's jobs");
  }
}

std::int64_t bench_queue::other_open_jobs(const std::string& email_domain) {
  if (email_domain.empty())
    throw storage_error(ec::invalid_input,
                        "the bench's e-mail domain must not be empty");
  try {
    pqxx::nontransaction tx{impl_->conn};
    return tx.exec_prepared1("bench_other_open", email_domain)[0]
      .as<std::int64_t>();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot count other users' jobs");
  }
}

std::vector<std::int64_t>
bench_queue::enqueue_generations(const std::vector<std::string>& user_ids,
                                 const std::string& payload_json) {
  check_count(user_ids, "user ids");
  std::vector<std::int64_t> out;
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_prepared("bench_enqueue",
                                 detail::array_literal(user_ids),
                                 payload_json);
    out.reserve(rows.size());
    for (auto row : rows)
      out.push_back(row[0].as<std::int64_t>());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot enqueue the bench's jobs");
  }
  return out;
}

bench_job_counts bench_queue::counts(const std::vector<std::int64_t>& ids) {
  check_count(ids, "job ids");
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto row = tx.exec_prepared1("bench_counts", id_array(ids));
    bench_job_counts c;
    c.pending = row[0].as<std::int64_t>();
    c.running = row[1].as<std::int64_t>();
    c.done = row[2].as<std::int64_t>();
    c.failed = row[3].as<std::int64_t>();
    c.cancelled = row[4].as<std::int64_t>();
    return c;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot count the bench's jobs");
  }
}

std::vector<std::int64_t> bench_queue::held_by(const std::string& owner) {
  std::vector<std::int64_t> out;
  try {
    pqxx::nontransaction tx{impl_->conn};
    for (auto row : tx.exec_prepared("bench_held_by", owner))
      out.push_back(row[0].as<std::int64_t>());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot list the jobs " + owner
                                     + " holds");
  }
  return out;
}

std::int64_t bench_queue::still_held(const std::vector<std::int64_t>& ids,
                                     const std::string& owner) {
  check_count(ids, "job ids");
  try {
    pqxx::nontransaction tx{impl_->conn};
    return tx.exec_prepared1("bench_still_held", id_array(ids), owner)[0]
      .as<std::int64_t>();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot count the jobs " + owner
                                     + " still holds");
  }
}

} // namespace catchup::storage
