// SPDX-License-Identifier: Apache-2.0
// The job queue's statements (see job_queue.hpp and migrations/0002_jobs.sql).
//
// Every state change is one statement that names the state it expects, so
// concurrent nodes cannot both win: a claim locks its rows with FOR UPDATE
// SKIP LOCKED (claimers never wait for each other and never share a job),
// and complete/fail/renew/release only touch rows still running under the
// caller's lease.
//
// Two clocks, each for one kind of time. Instants - when a job is due
// (run_at, retries, schedules), when it started and finished - come from
// the engine's clock (core/clock.hpp), passed as a parameter, so a host that
// sets the clock moves the whole queue with it. Leases are durations that
// several nodes compare: they are measured on the database server's clock,
// the one timer every node shares (a node's own clock may disagree with its
// peers' by more than a lease), as a single process measures its timeouts
// on a monotonic clock.

#include "storage/job_queue.hpp"

#include <algorithm>
#include <chrono>
#include <cctype>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "core/assert.hpp"
#include "core/utf8.hpp"
#include "storage/detail/pg_errors.hpp"
#include "core/uuid.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

// The NOTIFY channel of the jobs triggers (0002_jobs.sql).
constexpr const char* notify_channel = "catchup_jobs";

// First key of the schedules' advisory locks (the second is the hash of
// the schedule's name). The two-key form never collides with the
// migrations' one-key lock.
constexpr int schedule_lock_class = 0x63756a62; // "cujb"

// A failure text longer than this is cut: it is for people reading the
// job, and an executor's runaway message must not bloat every row.
constexpr std::size_t error_bytes_max = 8192;

// The most jobs one renew or release names (far above any node's jobs in
// flight; keeps the array parameter bounded).
constexpr std::size_t ids_per_call_max = 10000;

// How often a fail or release runs again after a concurrent enqueue made
// the job's way back to pending collide with a new pending job: the rerun
// sees that job and cancels this one as superseded, so one rerun suffices
// unless the new job vanished again in between - which a busy enqueuer of
// the same (kind, user) can make happen a few times in a row on a loaded
// machine. Each round is one short statement.
constexpr int supersede_rounds_max = 20;

// How far into the past expire_leases sets a lease's end. A claim takes a
// lease as expired when lease_expires_at <= now(), and the now() of any
// transaction that starts after ours committed is at least ours - unless
// the server's clock is stepped back in between (an NTP correction), which
// this margin absorbs, so that the next claim always sees the lease ended.
constexpr std::int64_t ended_lease_margin_ms = 60000;

constexpr std::int32_t max_attempts_min = 1;
constexpr std::int32_t max_attempts_max = 100;
constexpr std::size_t owner_bytes_max = 200;
constexpr std::size_t schedule_name_bytes_max = 200;

// The timestamptz of parameter $n, given in Unix milliseconds.
std::string at_ms(int n) {
  auto p = "$" + std::to_string(n);
  return "(timestamptz 'epoch' + " + p + "::bigint * interval '1 millisecond')";
}

// Unix milliseconds of a timestamptz column, floored so that a job's
// run_at never reads later than it is; NULL stays NULL.
std::string unix_ms(const std::string& column) {
  return "floor(extract(epoch FROM " + column + ") * 1000)::bigint";
}

// The columns read into a job_record, in read_record's order.
std::string record_columns(const std::string& t) {
  return t + "id, " + t + "kind, " + t + "user_id::text, " + t
         + "payload::text, " + t + "state::text, " + t + "attempts, " + t
         + "max_attempts, " + unix_ms(t + "run_at") + ", coalesce(" + t
         + "last_error, ''), coalesce(" + t + "lease_owner, ''), coalesce("
         + unix_ms(t + "lease_expires_at") + ", 0), "
         + unix_ms(t + "created_at") + ", coalesce("
         + unix_ms(t + "finished_at") + ", 0)";
}

job_record read_record(const pqxx::row& row) {
  job_record r;
  r.id = row[0].as<std::int64_t>();
  r.kind = row[1].c_str();
  r.user_id = row[2].c_str();
  r.payload_json = row[3].c_str();
  r.state = row[4].c_str();
  r.attempts = row[5].as<std::int32_t>();
  r.max_attempts = row[6].as<std::int32_t>();
  r.run_at_unix_ms = row[7].as<std::int64_t>();
  r.last_error = row[8].c_str();
  r.lease_owner = row[9].c_str();
  r.lease_expires_unix_ms = row[10].as<std::int64_t>();
  r.created_unix_ms = row[11].as<std::int64_t>();
  r.finished_unix_ms = row[12].as<std::int64_t>();
  return r;
}

bool known_kind(const std::string& kind) {
  return kind == "generate" || kind == "sync_contacts"
         || kind == "sync_calendar";
}

bool known_state(const std::string& state) {
  return state == "pending" || state == "running" || state == "done"
         || state == "failed" || state == "cancelled";
}

void check_owner(const std::string& owner) {
  require_input(!owner.empty() && owner.size() <= owner_bytes_max
            && valid_utf8(owner) && owner.find('\0') == std::string::npos,
          "a lease owner must be 1.." + std::to_string(owner_bytes_max)
            + " bytes of UTF-8, got '" + printable_excerpt(owner) + "'");
}

void check_lease(std::int64_t lease_ms) {
  require_input(lease_ms >= 1 && lease_ms <= job_lease_ms_max,
          "a lease must be 1.." + std::to_string(job_lease_ms_max)
            + " ms, got " + std::to_string(lease_ms));
}

void check_ids(const std::vector<std::int64_t>& ids) {
  require_input(ids.size() <= ids_per_call_max,
          "at most " + std::to_string(ids_per_call_max)
            + " job ids per call, got " + std::to_string(ids.size()));
}

// The server takes only well-formed UTF-8 without NUL bytes, and an
// executor's message may be neither (a library's raw error text): a
// failure must be recorded whatever it says, so bad bytes become '?' and
// an overlong text is cut at a character boundary.
std::string storable_error(const std::string& error) {
  std::string out;
  out.reserve(std::min(error.size(), error_bytes_max));
  for (std::size_t i = 0; i < error.size();) {
    auto n = utf8_length(error, i);
    if (n == 0 || error[i] == '\0') {
      n = 1;
      if (out.size() + 1 > error_bytes_max)
        break;
      out += '?';
    } else {
      if (out.size() + n > error_bytes_max)
        break;
      out.append(error, i, n);
    }
    i += n;
  }
  return out;
}

// claim: first fail the jobs whose lease expired on their last attempt
// (their worker died every time; running them again would exceed
// max_attempts), then lease the oldest due jobs - pending ones and running
// ones whose lease expired - to the caller. Both parts lock with SKIP
// LOCKED, so concurrent claimers take disjoint rows and never wait. The
// ordered scan of jobs_claimable stops after $2 rows. A job whose attempts
// are used up is never claimed again (only hand-edited rows can be pending
// so), which keeps one bad row from breaking every claim on the CHECK.
std::string claim_sql() {
  return R"(
WITH exhausted AS (
  UPDATE jobs SET state = 'failed', lease_owner = NULL,
    lease_expires_at = NULL, finished_at = )" + at_ms(4) + R"(,
    last_error = format('the lease of %s expired during attempt %s of %s: '
                        'its worker stopped without an answer',
                        lease_owner, attempts, max_attempts)
  WHERE id IN (SELECT id FROM jobs
               WHERE state = 'running' AND lease_expires_at <= now()
                 AND attempts >= max_attempts
               FOR UPDATE SKIP LOCKED)
),
picked AS (
  SELECT id FROM jobs
  WHERE state IN ('pending', 'running') AND run_at <= )" + at_ms(4) + R"(
    AND attempts < max_attempts
    AND (state = 'pending' OR lease_expires_at <= now())
  ORDER BY run_at, id
  LIMIT $2
  FOR UPDATE SKIP LOCKED
),
claimed AS (
  UPDATE jobs j SET state = 'running', lease_owner = $1,
    lease_expires_at = now() + $3 * interval '1 millisecond',
    attempts = j.attempts + 1, started_at = )" + at_ms(4) + R"(,
    last_error = CASE WHEN j.state = 'running'
      THEN format('attempt %s: the lease of %s expired', j.attempts,
                  j.lease_owner)
      ELSE j.last_error END
  FROM picked WHERE j.id = picked.id
  RETURNING j.*
)
SELECT )" + record_columns("") + R"( FROM claimed ORDER BY run_at, id)";
}

// fail: the job goes back to pending after the backoff while attempts are
// left, else fails. Backoff and jitter are computed by the server, from the
// queue's now ($6), in one statement. A pending job of the same kind and user
// (necessarily enqueued after this one was claimed) supersedes it: two
// would break the one-pending rule, and the newer carries the newer intent.
std::string fail_sql() {
  return R"(
WITH held AS (
  SELECT id, kind, user_id, attempts, max_attempts FROM jobs
  WHERE id = $1 AND state = 'running' AND lease_owner = $2
  FOR UPDATE
),
rival AS (
  SELECT min(p.id) AS id FROM jobs p JOIN held h
    ON p.kind = h.kind AND p.user_id = h.user_id
  WHERE p.state = 'pending'
),
next AS (
  SELECT h.id, h.attempts, r.id AS rival,
    (CASE WHEN h.attempts >= h.max_attempts THEN 'failed'
          WHEN r.id IS NOT NULL THEN 'cancelled'
          ELSE 'pending' END)::job_state AS state
  FROM held h CROSS JOIN rival r
)
UPDATE jobs j SET state = n.state, lease_owner = NULL,
  lease_expires_at = NULL,
  run_at = CASE WHEN n.state = 'pending'
    THEN )" + at_ms(6) + R"( + least($4::float8 * power(2::float8, n.attempts - 1),
                       $5::float8)
                 * (0.5 + 0.5 * random()) * interval '1 millisecond'
    ELSE j.run_at END,
  finished_at = CASE WHEN n.state = 'pending' THEN NULL ELSE )" + at_ms(6) + R"( END,
  last_error = CASE WHEN n.state = 'cancelled'
    THEN $3::text || format(' (not retried: superseded by pending job %s)',
                            n.rival)
    ELSE $3::text END
FROM next n WHERE j.id = n.id
RETURNING n.state::text)";
}

// release: back to pending and due now, the interrupted attempt not
// counted, unless the attempt ran longer than its lease ($4 ms): a job that
// outlives a lease on every node it reaches (a poison job) would otherwise
// move from node to node for ever, so its attempt counts, and with no
// attempt left it fails with the reason. Among the released jobs of one
// kind and user (a node may hold an old one and its successor) the newest
// goes back, unless a pending one exists already; the others are cancelled
// as superseded.
std::string release_sql() {
  return R"(
WITH held AS (
  SELECT id, kind, user_id,
    $3::bigint - )" + unix_ms("started_at") + R"( > $4::bigint AS counted
  FROM jobs
  WHERE id = ANY ($2::bigint[]) AND state = 'running' AND lease_owner = $1
  ORDER BY id
  FOR UPDATE
),
next AS (
  SELECT h.id, h.counted, coalesce(
    (SELECT min(p.id) FROM jobs p
     WHERE p.kind = h.kind AND p.user_id = h.user_id
       AND p.state = 'pending'),
    nullif(max(h.id) OVER same, h.id)) AS rival
  FROM held h
  WINDOW same AS (PARTITION BY h.kind, h.user_id)
),
outcome AS (
  SELECT n.id, n.counted, n.rival,
    CASE WHEN n.rival IS NOT NULL THEN 'cancelled'
         WHEN n.counted AND j.attempts >= j.max_attempts THEN 'failed'
         ELSE 'pending' END AS state
  FROM next n JOIN jobs j ON j.id = n.id
)
UPDATE jobs j SET
  state = o.state::job_state,
  lease_owner = NULL, lease_expires_at = NULL,
  attempts = CASE WHEN o.counted THEN j.attempts ELSE j.attempts - 1 END,
  run_at = CASE WHEN o.state = 'pending' THEN )" + at_ms(3) + R"( ELSE j.run_at END,
  finished_at = CASE WHEN o.state = 'pending' THEN NULL ELSE )" + at_ms(3) + R"( END,
  last_error = CASE
    WHEN o.state = 'cancelled'
      THEN format('handed back by %s on shutdown; not retried: superseded '
                  'by job %s', $1, o.rival)
    WHEN o.counted
      THEN format('attempt %s of %s counted: handed back by %s on shutdown '
                  'after running longer than its lease (%s ms)%s',
                  j.attempts, j.max_attempts, $1, $4,
                  CASE WHEN o.state = 'failed' THEN '; no attempt left'
                       ELSE '' END)
    ELSE j.last_error END
FROM outcome o WHERE j.id = o.id
RETURNING j.id)";
}

// Users in id order; the k-th of n runs k/n of the interval from now.
std::string schedule_insert_sql() {
  return R"(
WITH targets AS (
  SELECT id, row_number() OVER (ORDER BY id) - 1 AS k,
         count(*) OVER () AS n
  FROM users WHERE active
)
INSERT INTO jobs (kind, user_id, run_at)
SELECT 'generate', id,
       )" + at_ms(2) + R"( + (k::float8 * $1::float8 / n) * interval '1 millisecond'
FROM targets
ON CONFLICT (kind, user_id) WHERE state = 'pending' DO NOTHING)";
}

} // namespace

// Counts the notifications delivered on its connection.
class job_notice_receiver final : public pqxx::notification_receiver {
public:
  job_notice_receiver(pqxx::connection_base& conn, std::size_t& count)
    : pqxx::notification_receiver(conn, notify_channel), count_(count) {
    // nop
  }

  void operator()(const std::string&, int) override {
    ++count_;
  }

private:
  std::size_t& count_;
};

struct job_queue::impl {
  impl(const std::string& url, wall_clock c, std::int64_t statement_timeout_ms)
    : clock(std::move(c)), conn(url) {
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::nontransaction tx{conn};
    // Queue statements are small and frequent; JIT compiling one (100+ ms)
    // would cost far more than running it, and the scheduler's insert for
    // many users crosses the JIT cost threshold.
    tx.exec0("SET jit = off");
    conn.prepare("job_claim", claim_sql());
    conn.prepare("job_complete",
                 "UPDATE jobs SET state = 'done', finished_at = " + at_ms(3)
                   + ", lease_owner = NULL, lease_expires_at = NULL "
                 "WHERE id = $1 AND state = 'running' AND lease_owner = $2");
    conn.prepare("job_renew",
                 "UPDATE jobs SET lease_expires_at = now() + $3 * interval "
                 "'1 millisecond' WHERE id = ANY ($2::bigint[]) AND "
                 "state = 'running' AND lease_owner = $1 RETURNING id");
    conn.prepare("job_fail", fail_sql());
    conn.prepare("job_enqueue",
                 "SELECT id, created FROM catchup_enqueue($1, $2::uuid, "
                 "$3::jsonb, " + at_ms(4) + ", $5::integer)");
  }
  wall_clock clock;
  // Declared first so that the receiver, which unregisters from it, goes
  // first.
  pqxx::connection conn;
  std::unique_ptr<job_notice_receiver> receiver;
  // Notifications delivered and not yet reported by wait_for_notification.
  std::size_t notices = 0;
};

job_queue::job_queue(const std::string& url, wall_clock clock,
                     std::int64_t statement_timeout_ms) {
  try {
    impl_ = std::make_unique<impl>(url, std::move(clock),
                                   statement_timeout_ms);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot open the job queue");
  }
}

job_queue::~job_queue() = default;

enqueue_result job_queue::enqueue(const std::string& kind,
                                  const std::string& user_id,
                                  const std::string& payload_json,
                                  std::int64_t run_at_unix_ms,
                                  std::int32_t max_attempts) {
  require_input(known_kind(kind), "unknown job kind '" + printable_excerpt(kind)
                              + "' (generate, sync_contacts or "
                                "sync_calendar)");
  require_input(is_uuid_text(user_id),
          "user id '" + printable_excerpt(user_id) + "' is not a UUID");
  require_input(max_attempts >= max_attempts_min && max_attempts <= max_attempts_max,
          "max_attempts must be in " + std::to_string(max_attempts_min) + ".."
            + std::to_string(max_attempts_max) + ", got "
            + std::to_string(max_attempts));
  require_input(run_at_unix_ms >= 0,
          "run_at must be a Unix time in ms (0 for now), got "
            + std::to_string(run_at_unix_ms));
  if (run_at_unix_ms == 0)
    run_at_unix_ms = impl_->clock.now_unix_ms();
  auto payload = payload_json.empty() ? std::string{"{}"} : payload_json;
  {
    auto parsed = nlohmann::json::parse(payload, nullptr, false);
    require_input(!parsed.is_discarded() && parsed.is_object(),
            "a job's payload must be a JSON object, got '"
              + printable_excerpt(payload) + "'");
  }
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto row = tx.exec_prepared1("job_enqueue", kind, user_id, payload,
                                 run_at_unix_ms, max_attempts);
    return {row[0].as<std::int64_t>(), row[1].as<bool>()};
  } catch (const pqxx::foreign_key_violation&) {
    throw storage_error(ec::not_found, "cannot enqueue " + kind
                                         + ": no user " + user_id);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot enqueue " + kind + " for user "
                                     + user_id);
  }
}

std::vector<job_record> job_queue::claim(const std::string& owner,
                                         std::size_t n,
                                         std::int64_t lease_ms) {
  check_owner(owner);
  check_lease(lease_ms);
  require_input(n <= job_claim_batch_max,
          "a claim takes at most " + std::to_string(job_claim_batch_max)
            + " jobs, asked for " + std::to_string(n));
  std::vector<job_record> out;
  if (n == 0)
    return out;
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_prepared("job_claim", owner,
                                 static_cast<std::int64_t>(n), lease_ms,
                                 impl_->clock.now_unix_ms());
    out.reserve(rows.size());
    for (auto row : rows)
      out.push_back(read_record(row));
  } catch (...) {
    detail::rethrow_as_storage_error("cannot claim jobs for " + owner);
  }
  CATCHUP_ASSERT(out.size() <= n, "a claim takes no more jobs than asked");
  for (const job_record& job : out) {
    CATCHUP_ASSERT(job.lease_owner == owner, "a claimed job is leased to us");
    CATCHUP_ASSERT(job.attempts >= 1, "a claimed job counts its attempt");
    CATCHUP_ASSERT(job.attempts <= job.max_attempts,
                   "a claim never goes past the last attempt");
    CATCHUP_ASSERT(job.max_attempts <= max_attempts_max,
                   "attempts are bounded as enqueue bounds them");
  }
  return out;
}

std::vector<std::int64_t>
job_queue::renew(const std::string& owner,
                 const std::vector<std::int64_t>& ids, std::int64_t lease_ms) {
  check_owner(owner);
  check_lease(lease_ms);
  check_ids(ids);
  std::vector<std::int64_t> held;
  if (ids.empty())
    return held;
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_prepared("job_renew", owner, bigint_array(ids), lease_ms);
    for (auto row : rows)
      held.push_back(row[0].as<std::int64_t>());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot renew the leases of " + owner);
  }
  std::sort(held.begin(), held.end());
  return held;
}

bool job_queue::complete(std::int64_t id, const std::string& owner) {
  check_owner(owner);
  try {
    pqxx::nontransaction tx{impl_->conn};
    return tx.exec_prepared("job_complete", id, owner,
                            impl_->clock.now_unix_ms())
             .affected_rows()
           == 1;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot complete job "
                                     + std::to_string(id));
  }
}

std::string job_queue::fail(std::int64_t id, const std::string& owner,
                            const std::string& error,
                            const retry_policy& policy) {
  check_owner(owner);
  require_input(policy.backoff_initial_ms >= 0
            && policy.backoff_initial_ms <= job_delay_ms_max
            && policy.backoff_max_ms >= policy.backoff_initial_ms
            && policy.backoff_max_ms <= job_delay_ms_max,
          "a retry backoff needs 0 <= initial (" +
            std::to_string(policy.backoff_initial_ms) + " ms) <= max ("
            + std::to_string(policy.backoff_max_ms) + " ms) <= "
            + std::to_string(job_delay_ms_max) + " ms");
  auto text = storable_error(error);
  for (int round = 1;; ++round) {
    try {
      pqxx::nontransaction tx{impl_->conn};
      auto rows = tx.exec_prepared("job_fail", id, owner, text,
                                   policy.backoff_initial_ms,
                                   policy.backoff_max_ms,
                                   impl_->clock.now_unix_ms());
      return rows.empty() ? std::string{} : rows[0][0].as<std::string>();
    } catch (const pqxx::unique_violation&) {
      // A job of this kind and user was enqueued after the statement's
      // snapshot; the rerun sees it and cancels this one as superseded.
      if (round < supersede_rounds_max)
        continue;
      detail::rethrow_as_storage_error("cannot record the failure of job "
                                       + std::to_string(id));
    } catch (...) {
      detail::rethrow_as_storage_error("cannot record the failure of job "
                                       + std::to_string(id));
    }
  }
}

std::int64_t job_queue::expire_leases(const std::string& owner) {
  check_owner(owner);
  try {
    pqxx::nontransaction tx{impl_->conn};
    // A row a concurrent renew, complete or claim has locked is waited for
    // and checked again: one finished or taken over by then is left alone.
    return static_cast<std::int64_t>(
      tx.exec_params("UPDATE jobs SET lease_expires_at = now() - $2 * "
                     "interval '1 millisecond' WHERE state = 'running' "
                     "AND lease_owner = $1 AND lease_expires_at > now()",
                     owner, ended_lease_margin_ms)
        .affected_rows());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot end the leases of " + owner);
  }
}

std::size_t job_queue::release(const std::string& owner,
                               const std::vector<std::int64_t>& ids,
                               std::int64_t counted_after_ms) {
  check_owner(owner);
  check_ids(ids);
  if (ids.empty())
    return 0;
  for (int round = 1;; ++round) {
    try {
      pqxx::nontransaction tx{impl_->conn};
      return tx.exec_params(release_sql(), owner, bigint_array(ids),
                            impl_->clock.now_unix_ms(), counted_after_ms)
        .affected_rows();
    } catch (const pqxx::unique_violation&) {
      // As in fail: a concurrent enqueue; the rerun supersedes.
      if (round < supersede_rounds_max)
        continue;
      detail::rethrow_as_storage_error("cannot hand the jobs of " + owner
                                       + " back");
    } catch (...) {
      detail::rethrow_as_storage_error("cannot hand the jobs of " + owner
                                       + " back");
    }
  }
}

std::optional<job_record> job_queue::get(std::int64_t id) {
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_params("SELECT " + record_columns("")
                                 + " FROM jobs WHERE id = $1",
                               id);
    if (rows.empty())
      return std::nullopt;
    return read_record(rows[0]);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read job " + std::to_string(id));
  }
}

std::vector<job_record> job_queue::list(const std::string& state,
                                        std::size_t limit) {
  require_input(state.empty() || known_state(state),
          "unknown job state '" + printable_excerpt(state)
            + "' (pending, running, done, failed or cancelled)");
  require_input(limit <= job_list_rows_max,
          "a listing shows at most " + std::to_string(job_list_rows_max)
            + " jobs, asked for " + std::to_string(limit));
  std::vector<job_record> out;
  if (limit == 0)
    return out;
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto sql = "SELECT " + record_columns("") + " FROM jobs "
               + (state.empty() ? std::string{"WHERE $1 = ''"}
                                : std::string{"WHERE state = $1::job_state"})
               + " ORDER BY id DESC LIMIT $2";
    for (auto row :
         tx.exec_params(sql, state, static_cast<std::int64_t>(limit)))
      out.push_back(read_record(row));
  } catch (...) {
    detail::rethrow_as_storage_error("cannot list jobs");
  }
  return out;
}

bool job_queue::retry(std::int64_t id) {
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto r = tx.exec_params(
      "UPDATE jobs j SET state = 'pending', run_at = " + at_ms(2)
        + ", attempts = 0, finished_at = NULL WHERE j.id = $1 AND j.state IN ('failed', "
      "'cancelled') AND NOT EXISTS (SELECT 1 FROM jobs p WHERE "
      "p.kind = j.kind AND p.user_id = j.user_id AND p.state = 'pending')",
      id, impl_->clock.now_unix_ms());
    return r.affected_rows() == 1;
  } catch (const pqxx::unique_violation&) {
    // A job of its kind and user became pending after our snapshot.
    return false;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot retry job " + std::to_string(id));
  }
}

bool job_queue::cancel(std::int64_t id) {
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto r = tx.exec_params("UPDATE jobs SET state = 'cancelled', "
                            "finished_at = " + at_ms(2) + " WHERE id = $1 "
                            "AND state = 'pending'",
                            id, impl_->clock.now_unix_ms());
    return r.affected_rows() == 1;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot cancel job "
                                     + std::to_string(id));
  }
}

queue_depth job_queue::depth() {
  queue_depth d;
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto row = tx.exec_params1(
      "SELECT count(*) FILTER (WHERE state = 'pending'), "
      "count(*) FILTER (WHERE state = 'pending' AND run_at <= " + at_ms(1)
        + "), "
      "count(*) FILTER (WHERE state = 'running'), "
      "count(*) FILTER (WHERE state = 'failed'), "
      "count(*) FILTER (WHERE state = 'done'), "
      "count(*) FILTER (WHERE state = 'cancelled') FROM jobs",
      impl_->clock.now_unix_ms());
    d.pending = row[0].as<std::int64_t>();
    d.due = row[1].as<std::int64_t>();
    d.running = row[2].as<std::int64_t>();
    d.failed = row[3].as<std::int64_t>();
    d.done = row[4].as<std::int64_t>();
    d.cancelled = row[5].as<std::int64_t>();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot count the jobs");
  }
  return d;
}

std::int64_t job_queue::schedule_generation(const std::string& name,
                                            std::int64_t interval_ms) {
  require_input(!name.empty() && name.size() <= schedule_name_bytes_max
            && valid_utf8(name) && name.find('\0') == std::string::npos,
          "a schedule name must be 1.."
            + std::to_string(schedule_name_bytes_max) + " bytes of UTF-8");
  require_input(interval_ms >= 1 && interval_ms <= job_delay_ms_max,
          "a schedule's interval must be 1.."
            + std::to_string(job_delay_ms_max) + " ms, got "
            + std::to_string(interval_ms));
  try {
    pqxx::work tx{impl_->conn, "schedule_generation"};
    // Another node holding the lock is doing this very run: leave it to
    // that node rather than wait and then find the schedule not due.
    auto locked = tx.exec_params1(
      "SELECT pg_try_advisory_xact_lock($1, hashtext($2))",
      schedule_lock_class, name)[0].as<bool>();
    if (!locked)
      return 0;
    // Read after taking the lock (a statement of its own, so its snapshot
    // sees what the previous holder committed).
    auto now_ms = impl_->clock.now_unix_ms();
    auto due = tx.exec_params("SELECT next_due_at <= " + at_ms(2) + " FROM "
                              "schedule_state WHERE name = $1",
                              name, now_ms);
    if (!due.empty() && !due[0][0].as<bool>())
      return 0;
    auto inserted = static_cast<std::int64_t>(
      tx.exec_params(schedule_insert_sql(), interval_ms, now_ms)
        .affected_rows());
    tx.exec_params(
      "INSERT INTO schedule_state (name, next_due_at, last_run_at, "
      "last_enqueued) VALUES ($1, " + at_ms(4) + " + $2 * interval "
      "'1 millisecond', " + at_ms(4) + ", $3) ON CONFLICT (name) DO UPDATE SET "
      "next_due_at = EXCLUDED.next_due_at, "
      "last_run_at = EXCLUDED.last_run_at, "
      "last_enqueued = EXCLUDED.last_enqueued",
      name, interval_ms, inserted, now_ms);
    tx.commit();
    return inserted;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot run the schedule " + name);
  }
}

void job_queue::listen() {
  if (impl_->receiver)
    return;
  try {
    // Registering runs LISTEN at once (no transaction is open).
    impl_->receiver = std::make_unique<job_notice_receiver>(impl_->conn,
                                                            impl_->notices);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot listen for new jobs");
  }
}

bool job_queue::wait_for_notification(std::int64_t timeout_ms) {
  require_input(impl_->receiver != nullptr,
          "wait_for_notification needs listen() first");
  require_input(timeout_ms >= 0 && timeout_ms <= job_wait_ms_max,
          "a notification wait must be 0.." + std::to_string(job_wait_ms_max)
            + " ms, got " + std::to_string(timeout_ms));
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  try {
    // Notifications that came in with the answers to earlier statements
    // wait in libpq; they count, since they may be for a job that arrived
    // after the caller's last claim.
    impl_->conn.get_notifs();
    while (impl_->notices == 0) {
      auto left = deadline - clock::now();
      if (left <= clock::duration::zero())
        break;
      // libpqxx 6.4 polls with whole milliseconds (rounding down): round
      // up so that the last wait does not spin at 0 ms.
      auto left_ms
        = std::chrono::ceil<std::chrono::milliseconds>(left).count();
      // Any traffic on the socket ends the wait early; the loop waits again.
      impl_->conn.await_notification(static_cast<long>(left_ms / 1000),
                                     static_cast<long>(left_ms % 1000) * 1000);
    }
  } catch (...) {
    detail::rethrow_as_storage_error("cannot wait for new jobs");
  }
  bool arrived = impl_->notices > 0;
  impl_->notices = 0;
  return arrived;
}

std::int64_t job_queue::now_unix_ms() const {
  return impl_->clock.now_unix_ms();
}

std::int64_t job_queue::lease_clock_unix_ms() {
  try {
    pqxx::nontransaction tx{impl_->conn};
    return tx.exec1("SELECT " + unix_ms("clock_timestamp()"))[0]
      .as<std::int64_t>();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the database clock");
  }
}

} // namespace catchup::storage
