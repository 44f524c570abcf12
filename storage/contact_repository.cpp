// SPDX-License-Identifier: Apache-2.0
// Contact streams and the per-user context of a generation.

#include <algorithm>
#include <atomic>
#include <sstream>

#include "core/frequency.hpp"
#include "core/priority.hpp"
#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

constexpr std::size_t class_count = all_frequencies.size();

// Columns of both projections, in contact_record order. The sort key of the
// stream's order follows as the last two columns (key text, id).
constexpr const char* minimal_columns
  = "c.id::text, c.name, extract(epoch from c.last_contact_date)::bigint, "
    "c.frequency_preference::text, "
    "array_to_string(ARRAY(SELECT cg.group_id::text FROM contact_groups cg "
    "WHERE cg.contact_id = c.id ORDER BY 1), ','), "
    "c.archived_at IS NOT NULL";
constexpr const char* full_columns
  = ", coalesce(c.email, ''), coalesce(c.phone, ''), "
    "coalesce(c.location, ''), coalesce(c.organization, ''), "
    "extract(epoch from c.created_at)::bigint";

const char* key_expression(contact_order order) {
  switch (order) {
    case contact_order::last_contact: return "c.last_contact_key";
    case contact_order::name: return "c.name";
    case contact_order::created_at: return "c.created_at";
  }
  return "c.last_contact_key";
}

const char* key_type(contact_order order) {
  return order == contact_order::name ? "text" : "timestamptz";
}

contact_record read_record(const pqxx::row& row, bool full) {
  contact_record rec;
  rec.id = row[0].c_str();
  rec.name = row[1].c_str();
  if (!row[2].is_null()) {
    rec.has_last_contact = true;
    rec.last_contact_unix_s = row[2].as<std::int64_t>();
  }
  if (!row[3].is_null())
    if (auto f = parse_frequency(row[3].c_str()))
      rec.frequency = static_cast<std::uint8_t>(*f);
  std::string groups = row[4].c_str();
  std::stringstream in{groups};
  std::string id;
  while (std::getline(in, id, ','))
    if (!id.empty())
      rec.group_ids.push_back(id);
  rec.archived = row[5].as<bool>();
  if (full) {
    rec.email = row[6].c_str();
    rec.phone = row[7].c_str();
    rec.location = row[8].c_str();
    rec.organization = row[9].c_str();
    rec.created_at_unix_s = row[10].as<std::int64_t>();
  }
  return rec;
}

// The query of an ordered stream: $1 user; with `after`, rows after the
// keyset position ($3 key, $4 id). The sort key's text is the last column.
std::string ordered_sql(const stream_cursor& cursor, bool after) {
  auto key = key_expression(cursor.order);
  auto dir = cursor.descending ? "DESC" : "ASC";
  std::string sql = std::string{"SELECT "} + minimal_columns
                    + (cursor.full_projection ? full_columns : "") + ", "
                    + key + "::text FROM contacts c "
                    "WHERE c.user_id = $1::uuid AND c.archived_at IS NULL";
  if (after)
    sql += std::string{" AND ("} + key + ", c.id) "
           + (cursor.descending ? "<" : ">") + " ($3::"
           + key_type(cursor.order) + ", $4::uuid)";
  sql += std::string{" ORDER BY "} + key + " " + dir + ", c.id " + dir;
  return sql;
}

std::atomic<std::uint64_t> last_bulk_id{0};

constexpr const char* nil_uuid = "00000000-0000-0000-0000-000000000000";

} // namespace

const char* const priority_statement = "catchup_priority_stream";

std::string priority_statement_sql() {
  // $1 user, $2 now, $3 rows wanted; class i has cutoff $(4+4i), position
  // $(5+4i) and $(6+4i), limit $(7+4i) (0 once the class is exhausted).
  //
  // Each branch is a range scan of contacts_by_class over due, eligible
  // rows, in ascending last contact, which within one class is descending
  // priority. The merge orders by whole days overdue: priority is
  // 100 + 50 ln(1 + overdue), strictly increasing in that integer, so this
  // is exactly the engine's total order (then last contact with "never"
  // first, then id) without comparing floating-point values in SQL. Only
  // the rows that win the merge get their groups looked up and sent.
  std::string sql = "WITH cand AS MATERIALIZED (";
  for (std::size_t cls = 0; cls < class_count; ++cls) {
    auto param = [&](int k) { return "$" + std::to_string(4 + 4 * cls + k); };
    auto f = all_frequencies[cls];
    if (cls > 0)
      sql += " UNION ALL ";
    sql += "(SELECT c.id, c.last_contact_key AS key, " + std::to_string(cls)
           + " AS cls, ($2::bigint - CASE WHEN c.last_contact_key = "
             "'-infinity' THEN 0 ELSE extract(epoch from "
             "c.last_contact_key)::bigint END) / 86400 - "
           + std::to_string(threshold_days(f))
           + " AS overdue FROM contacts c WHERE c.user_id = $1::uuid "
             "AND c.archived_at IS NULL AND c.effective_frequency = '"
           + std::string{to_string(f)}
           + "' AND c.last_contact_key <= to_timestamp(" + param(0)
           + "::bigint) AND (c.last_contact_key, c.id) > (" + param(1)
           + "::timestamptz, " + param(2) + "::uuid) "
             "AND NOT EXISTS (SELECT 1 FROM suggestion_exclusions x "
             "WHERE x.user_id = c.user_id AND x.contact_id = c.id) "
             "AND NOT EXISTS (SELECT 1 FROM suggestions s "
             "WHERE s.user_id = c.user_id AND s.contact_id = c.id "
             "AND ((s.status = 'accepted' "
             "AND s.slot_end > to_timestamp($2::bigint)) "
             "OR (s.status = 'snoozed' "
             "AND s.snoozed_until > to_timestamp($2::bigint)))) "
             "ORDER BY c.last_contact_key, c.id LIMIT "
           + param(3) + "::bigint)";
  }
  sql += std::string{"), top AS (SELECT * FROM cand "
                     "ORDER BY overdue DESC, key, id LIMIT $3::bigint) "
                     "SELECT "}
         + minimal_columns
         + ", top.key::text, top.cls, (SELECT string_agg(z.cls || ':' || "
           "z.n, ',') FROM (SELECT cls, count(*) AS n FROM cand "
           "GROUP BY cls) z) "
           "FROM top JOIN contacts c ON c.id = top.id "
           "ORDER BY top.overdue DESC, top.key, top.id";
  return sql;
}

candidate to_candidate(const contact_record& r, std::int64_t now_unix_s) {
  std::optional<unix_seconds> last;
  if (r.has_last_contact)
    last = r.last_contact_unix_s;
  std::optional<frequency> pref;
  if (r.frequency != no_frequency)
    pref = static_cast<frequency>(r.frequency);
  return make_candidate(r.id, r.name, last, pref, now_unix_s);
}

session::session(const std::string& url, std::int64_t statement_timeout_ms) {
  try {
    impl_ = std::make_unique<impl>(url, statement_timeout_ms);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot connect to the database");
  }
}

session::~session() = default;

stream_cursor session::open_ordered(std::string user_id, contact_order order,
                                    bool descending, bool full_projection) {
  stream_cursor c;
  c.user_id = std::move(user_id);
  c.kind = stream_kind::ordered;
  c.order = order;
  c.descending = descending;
  c.full_projection = full_projection;
  return c;
}

stream_cursor session::open_priority(std::string user_id,
                                     std::int64_t now_unix_s) {
  stream_cursor c;
  c.user_id = std::move(user_id);
  c.kind = stream_kind::priority;
  c.now_unix_s = now_unix_s;
  c.class_after_key.assign(class_count, "");
  c.class_after_id.assign(class_count, "");
  c.class_done.assign(class_count, 0);
  return c;
}

stream_cursor session::open_bulk(std::string user_id, contact_order order,
                                 bool descending, bool full_projection) {
  auto c = open_ordered(std::move(user_id), order, descending,
                        full_projection);
  c.kind = stream_kind::bulk;
  return c;
}

std::uint64_t session::open_bulk_id() const noexcept {
  return impl_->bulk_tx ? impl_->bulk_id : 0;
}

void session::close_bulk() noexcept {
  if (!impl_->bulk_tx)
    return;
  try {
    impl_->bulk_tx->abort(); // read-only: nothing to commit
  } catch (...) {
    // The connection is broken; the server drops the cursor with it.
  }
  impl_->bulk_tx.reset();
  impl_->bulk_id = 0;
}

contact_batch session::next_bulk(const stream_cursor& cursor, std::size_t n) {
  n = std::clamp<std::size_t>(n, 1, batch_rows_limit);
  contact_batch batch;
  batch.next = cursor;
  if (cursor.done)
    return batch;
  try {
    if (cursor.bulk_id == 0) {
      close_bulk();
      impl_->bulk_tx = std::make_unique<pqxx::read_transaction>(impl_->conn);
      impl_->bulk_id = ++last_bulk_id;
      impl_->bulk_tx->exec_params("DECLARE catchup_bulk NO SCROLL CURSOR FOR "
                                  + ordered_sql(cursor, false),
                                  cursor.user_id);
      batch.next.bulk_id = impl_->bulk_id;
    } else if (cursor.bulk_id != open_bulk_id()) {
      throw storage_error(ec::not_found,
                          "bulk stream " + std::to_string(cursor.bulk_id)
                            + " of user " + cursor.user_id
                            + " is closed (done, closed or idle too long)");
    }
    auto rows = impl_->bulk_tx->exec("FETCH FORWARD " + std::to_string(n)
                                     + " FROM catchup_bulk");
    batch.rows_read = static_cast<std::int64_t>(rows.size());
    for (auto row : rows)
      batch.rows.push_back(read_record(row, cursor.full_projection));
    batch.next.done = rows.size() < n;
    if (batch.next.done)
      close_bulk();
    return batch;
  } catch (const storage_error&) {
    close_bulk();
    throw;
  } catch (...) {
    close_bulk();
    detail::rethrow_as_storage_error("cannot read contacts of user "
                                     + cursor.user_id);
  }
}

namespace {

// One page of an ordered stream, after the cursor's position.
void read_ordered_page(pqxx::transaction_base& tx, const stream_cursor& cursor,
                       std::size_t n, contact_batch& batch) {
  bool first = cursor.after_id.empty();
  auto sql = ordered_sql(cursor, !first) + " LIMIT $2";
  auto rows = first ? tx.exec_params(sql, cursor.user_id, n)
                    : tx.exec_params(sql, cursor.user_id, n,
                                     cursor.after_key, cursor.after_id);
  batch.rows_read = static_cast<std::int64_t>(rows.size());
  for (auto row : rows)
    batch.rows.push_back(read_record(row, cursor.full_projection));
  if (!rows.empty()) {
    auto last = rows[rows.size() - 1];
    batch.next.after_key = last[last.size() - 1].c_str();
    batch.next.after_id = batch.rows.back().id;
  }
  batch.next.done = rows.size() < n;
}

// The priority statement's parameters: per class its due cutoff, the key
// and id to read after, and how many rows (0 for a class already done).
std::vector<std::string> priority_parameters(const stream_cursor& cursor,
                                             std::size_t n) {
  std::vector<std::string> p;
  p.reserve(class_count * 4);
  for (std::size_t cls = 0; cls < class_count; ++cls) {
    bool first = cursor.class_after_id[cls].empty();
    p.push_back(std::to_string(due_cutoff(all_frequencies[cls],
                                          cursor.now_unix_s)));
    // Before the first row, the position is "before everything": no real
    // contact has the nil uuid, and never-contacted sorts as -infinity.
    p.push_back(first ? "-infinity" : cursor.class_after_key[cls]);
    p.push_back(first ? nil_uuid : cursor.class_after_id[cls]);
    p.push_back(cursor.class_done[cls] ? "0" : std::to_string(n));
  }
  return p;
}

// Rows each class's scan produced, from the last column of the first row
// ("cls:n,..."; absent: none); adds them up in `rows_read`.
std::vector<std::size_t> fetched_per_class(const pqxx::result& rows,
                                           std::int64_t& rows_read) {
  std::vector<std::size_t> fetched(class_count, 0);
  if (rows.empty())
    return fetched;
  std::stringstream in{rows[0][rows[0].size() - 1].c_str()};
  std::string item;
  while (std::getline(in, item, ',')) {
    auto colon = item.find(':');
    auto cls = std::stoul(item.substr(0, colon));
    auto count = std::stoul(item.substr(colon + 1));
    fetched.at(cls) = count;
    rows_read += static_cast<std::int64_t>(count);
  }
  return fetched;
}

// One page of a priority stream: one ordered scan per frequency class,
// merged by rank in PostgreSQL (see priority_statement_sql): one round
// trip, planned once per connection.
void read_priority_page(pqxx::transaction_base& tx,
                        const stream_cursor& cursor, std::size_t n,
                        contact_batch& batch) {
  const std::vector<std::string> p = priority_parameters(cursor, n);
  auto rows = tx.exec_prepared(
    priority_statement, cursor.user_id, cursor.now_unix_s, n, p[0], p[1],
    p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[12],
    p[13], p[14], p[15], p[16], p[17], p[18], p[19], p[20], p[21], p[22],
    p[23], p[24], p[25], p[26], p[27], p[28], p[29], p[30], p[31]);
  const auto fetched = fetched_per_class(rows, batch.rows_read);
  std::vector<std::size_t> consumed(class_count, 0);
  for (auto row : rows) {
    auto cls = row[row.size() - 2].as<std::size_t>();
    batch.next.class_after_key[cls] = row[row.size() - 3].c_str();
    batch.rows.push_back(read_record(row, false));
    batch.next.class_after_id[cls] = batch.rows.back().id;
    ++consumed[cls];
  }
  bool all_done = true;
  for (std::size_t cls = 0; cls < class_count; ++cls) {
    if (cursor.class_done[cls])
      continue;
    // A class is exhausted when its scan came back short and we used all
    // of what it returned.
    if (fetched[cls] < n && consumed[cls] == fetched[cls])
      batch.next.class_done[cls] = 1;
    else
      all_done = false;
  }
  batch.next.done = all_done;
}

} // namespace

contact_batch session::next_batch(const stream_cursor& cursor, std::size_t n) {
  n = std::clamp<std::size_t>(n, 1, batch_rows_limit);
  contact_batch batch;
  batch.next = cursor;
  if (cursor.done)
    return batch;
  try {
    pqxx::read_transaction tx{impl_->conn};
    if (cursor.kind == stream_kind::bulk)
      throw storage_error(ec::invalid_input,
                          "a bulk stream is read with next_bulk");
    if (cursor.kind == stream_kind::ordered)
      read_ordered_page(tx, cursor, n, batch);
    else
      read_priority_page(tx, cursor, n, batch);
    return batch;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read contacts of user "
                                     + cursor.user_id);
  }
}

namespace {

std::vector<busy_record> busy_in(pqxx::transaction_base& tx,
                                 const std::string& user_id,
                                 std::int64_t from_unix_s,
                                 std::int64_t to_unix_s) {
  std::vector<busy_record> busy;
  for (auto row : tx.exec_params(
         "SELECT floor(extract(epoch from start_time))::bigint, "
         "ceil(extract(epoch from end_time))::bigint "
         "FROM calendar_events WHERE user_id = $1::uuid AND is_busy "
         "AND start_time < to_timestamp($3) AND end_time > to_timestamp($2) "
         "ORDER BY start_time LIMIT $4",
         user_id, from_unix_s, to_unix_s, busy_events_max))
    busy.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>()});
  // Past the limit we cannot see the calendar: treat the rest as busy
  // rather than suggest a slot that may clash.
  if (busy.size() == busy_events_max)
    busy.push_back({busy.back().start_unix_s, to_unix_s});
  return busy;
}

} // namespace

std::vector<busy_record> session::load_busy(const std::string& user_id,
                                            std::int64_t from_unix_s,
                                            std::int64_t to_unix_s) {
  try {
    pqxx::read_transaction tx{impl_->conn};
    return busy_in(tx, user_id, from_unix_s, to_unix_s);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the calendar of user "
                                     + user_id);
  }
}

contact_record session::read_contact(const std::string& user_id,
                                     const std::string& contact_id) {
  pqxx::result rows;
  try {
    pqxx::read_transaction tx{impl_->conn};
    rows = tx.exec_params(std::string{"SELECT "} + minimal_columns
                            + full_columns
                            + " FROM contacts c WHERE c.user_id = $1::uuid "
                              "AND c.id = $2::uuid",
                          user_id, contact_id);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read contact " + contact_id
                                     + " of user " + user_id);
  }
  if (rows.empty())
    throw storage_error(ec::not_found, "user " + user_id
                                         + " has no contact " + contact_id);
  return read_record(rows[0], true);
}

user_context session::load_user_context(const std::string& user_id,
                                        std::int64_t now_unix_s,
                                        std::int64_t window_days,
                                        bool with_busy) {
  user_context ctx;
  ctx.user_id = user_id;
  try {
    pqxx::read_transaction tx{impl_->conn};
    auto user = tx.exec_params(
      "SELECT timezone, EXISTS (SELECT 1 FROM suggestion_pauses p "
      "  WHERE p.user_id = u.id AND p.pause_start <= to_timestamp($2) "
      "  AND p.pause_end > to_timestamp($2)) "
      "FROM users u WHERE u.id = $1::uuid",
      user_id, now_unix_s);
    if (user.empty())
      return ctx;
    ctx.exists = true;
    ctx.timezone = user[0][0].c_str();
    ctx.paused = user[0][1].as<bool>();
    for (auto row : tx.exec_params(
           "SELECT weekday, start_minute, end_minute FROM availability_windows "
           "WHERE user_id = $1::uuid ORDER BY weekday, start_minute",
           user_id))
      ctx.availability.push_back({row[0].as<std::int32_t>(),
                                  row[1].as<std::int32_t>(),
                                  row[2].as<std::int32_t>()});
    if (with_busy)
      ctx.busy = busy_in(tx, user_id, now_unix_s,
                         now_unix_s + window_days * seconds_per_day);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the context of user "
                                     + user_id);
  }
  return ctx;
}

std::vector<std::string> session::list_users(bool active_only) {
  std::vector<std::string> ids;
  try {
    pqxx::read_transaction tx{impl_->conn};
    auto sql = std::string{"SELECT id::text FROM users"}
               + (active_only ? " WHERE active" : "") + " ORDER BY id";
    for (auto row : tx.exec(sql))
      ids.emplace_back(row[0].c_str());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot list users");
  }
  return ids;
}

} // namespace catchup::storage
