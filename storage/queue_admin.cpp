// SPDX-License-Identifier: Apache-2.0
// The statements of queue_admin.hpp. Ids travel as one array parameter
// each, so every call is one statement whatever the count.

#include "storage/queue_admin.hpp"

#include <pqxx/pqxx>

#include "core/utf8.hpp"
#include "core/uuid.hpp"
#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/seed.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

constexpr std::int32_t max_attempts_min = 1;
constexpr std::int32_t max_attempts_max = 100;

template <class T>
void check_count(const std::vector<T>& ids, const char* what) {
  require_input(ids.size() <= queue_admin_ids_max,
          std::string{"at most "} + std::to_string(queue_admin_ids_max) + " "
            + what + " per call, got " + std::to_string(ids.size()));
}

void check_batch(const job_batch_request& batch) {
  check_count(batch.user_ids, "user ids");
  for (const auto& id : batch.user_ids)
    require_input(is_uuid_text(id),
            "user id '" + printable_excerpt(id) + "' is not a UUID");
  require_input(batch.max_attempts >= max_attempts_min
            && batch.max_attempts <= max_attempts_max,
          "max_attempts must be in " + std::to_string(max_attempts_min) + ".."
            + std::to_string(max_attempts_max) + ", got "
            + std::to_string(batch.max_attempts));
  require_input(batch.run_at_unix_ms >= 0,
          "run_at must be a Unix time in ms (0 for now), got "
            + std::to_string(batch.run_at_unix_ms));
}

} // namespace

struct queue_admin::impl {
  impl(const std::string& url, wall_clock c, std::int64_t statement_timeout_ms)
    : clock(std::move(c)), conn(url) {
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::nontransaction tx{conn};
    // Callers poll with small statements; JIT compiling one would cost
    // more than running it (as for the job queue).
    tx.exec0("SET jit = off");
    conn.prepare("admin_enqueue",
                 "SELECT e.id, e.created FROM unnest($2::uuid[]) WITH "
                 "ORDINALITY AS u(user_id, n) CROSS JOIN LATERAL "
                 "catchup_enqueue($1, u.user_id, $3::jsonb, timestamptz "
                 "'epoch' + $4::bigint * interval '1 millisecond', "
                 "$5::integer) AS e ORDER BY u.n");
    conn.prepare("admin_counts",
                 "SELECT count(*) FILTER (WHERE state = 'pending'), "
                 "count(*) FILTER (WHERE state = 'running'), "
                 "count(*) FILTER (WHERE state = 'done'), "
                 "count(*) FILTER (WHERE state = 'failed'), "
                 "count(*) FILTER (WHERE state = 'cancelled') "
                 "FROM jobs WHERE id = ANY($1::bigint[])");
    conn.prepare("admin_held_by",
                 "SELECT id FROM jobs WHERE state = 'running' AND "
                 "lease_owner = $1 ORDER BY id");
    // The domain compared as text, not with LIKE: '_' and '%' in it would
    // be wildcards.
    conn.prepare("admin_delete_domain_jobs",
                 "DELETE FROM jobs j USING users u WHERE j.user_id = u.id "
                 "AND right(u.email, length($1) + 1) = '@' || $1");
    conn.prepare("admin_forget_node", "DELETE FROM nodes WHERE id = $1");
  }
  wall_clock clock;
  pqxx::connection conn;
};

queue_admin::queue_admin(const std::string& url, wall_clock clock,
                         std::int64_t statement_timeout_ms) {
  try {
    impl_ = std::make_unique<impl>(url, std::move(clock),
                                   statement_timeout_ms);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot open the queue's admin "
                                     "connection");
  }
}

queue_admin::~queue_admin() = default;

std::vector<enqueue_result>
queue_admin::enqueue(const job_batch_request& batch) {
  check_batch(batch);
  auto run_at = batch.run_at_unix_ms == 0 ? impl_->clock.now_unix_ms()
                                          : batch.run_at_unix_ms;
  auto payload = batch.payload_json.empty() ? std::string{"{}"}
                                            : batch.payload_json;
  std::vector<enqueue_result> out;
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_prepared("admin_enqueue", batch.kind,
                                 detail::array_literal(batch.user_ids),
                                 payload, run_at, batch.max_attempts);
    out.reserve(rows.size());
    for (auto row : rows)
      out.push_back({row[0].as<std::int64_t>(), row[1].as<bool>()});
  } catch (const pqxx::foreign_key_violation&) {
    throw storage_error(ec::not_found, "cannot enqueue " + batch.kind
                                         + ": a user of the batch does not "
                                           "exist");
  } catch (...) {
    detail::rethrow_as_storage_error("cannot enqueue a batch of "
                                     + std::to_string(batch.user_ids.size())
                                     + " " + batch.kind + " jobs");
  }
  return out;
}

job_state_counts queue_admin::counts(const std::vector<std::int64_t>& ids) {
  check_count(ids, "job ids");
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto row = tx.exec_prepared1("admin_counts", bigint_array(ids));
    job_state_counts c;
    c.pending = row[0].as<std::int64_t>();
    c.running = row[1].as<std::int64_t>();
    c.done = row[2].as<std::int64_t>();
    c.failed = row[3].as<std::int64_t>();
    c.cancelled = row[4].as<std::int64_t>();
    return c;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot count jobs by state");
  }
}

std::vector<std::int64_t> queue_admin::held_by(const std::string& owner) {
  std::vector<std::int64_t> out;
  try {
    pqxx::nontransaction tx{impl_->conn};
    for (auto row : tx.exec_prepared("admin_held_by", owner))
      out.push_back(row[0].as<std::int64_t>());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot list the jobs " + owner
                                     + " holds");
  }
  return out;
}

std::int64_t queue_admin::delete_seed_jobs(std::uint64_t seed) {
  auto domain = seed_user_email(1, seed);
  domain.erase(0, domain.find('@') + 1);
  try {
    pqxx::nontransaction tx{impl_->conn};
    return static_cast<std::int64_t>(
      tx.exec_prepared("admin_delete_domain_jobs", domain).affected_rows());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot delete the jobs of seed "
                                     + std::to_string(seed));
  }
}

bool queue_admin::forget_node(const std::string& id) {
  require_input(!id.empty(), "a node id must not be empty");
  try {
    pqxx::nontransaction tx{impl_->conn};
    return tx.exec_prepared("admin_forget_node", id).affected_rows() > 0;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot forget node "
                                     + printable_excerpt(id));
  }
}

} // namespace catchup::storage
