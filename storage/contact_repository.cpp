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

// Columns of both projections, in contact_record order. The sort key of the
// stream's order follows as the last two columns (key text, id).
constexpr const char* minimal_columns
  = "c.id::text, c.name, extract(epoch from c.last_contact_date)::bigint, "
    "c.frequency_preference::text, "
    "array_to_string(ARRAY(SELECT cg.group_id::text FROM contact_groups cg "
    "WHERE cg.contact_id = c.id ORDER BY 1), ','), "
    "c.archived_at IS NOT NULL, coalesce(c.cadence_days, 0), "
    "coalesce(c.group_cadence_days, 0), c.effective_cadence_days, "
    "c.importance_weight, extract(epoch from c.due_key)::bigint, "
    "coalesce(extract(epoch from c.paused_until)::bigint, 0)";
constexpr const char* full_columns
  = ", coalesce(c.email, ''), coalesce(c.phone, ''), "
    "coalesce(c.location, ''), coalesce(c.organization, ''), "
    "extract(epoch from c.created_at)::bigint, "
    "coalesce(c.dunbar_circle::text, ''), "
    // Uncorrelated: PostgreSQL evaluates it once per statement.
    "(SELECT u.default_cadence_days FROM users u WHERE u.id = $1::uuid)";

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
  rec.cadence_days = row[6].as<std::int32_t>();
  rec.group_cadence_days = row[7].as<std::int32_t>();
  rec.effective_cadence_days = row[8].as<std::int32_t>();
  rec.importance_weight = row[9].as<std::int32_t>();
  rec.due_from_unix_s = row[10].as<std::int64_t>();
  rec.paused_until_unix_s = row[11].as<std::int64_t>();
  if (full) {
    rec.email = row[12].c_str();
    rec.phone = row[13].c_str();
    rec.location = row[14].c_str();
    rec.organization = row[15].c_str();
    rec.created_at_unix_s = row[16].as<std::int64_t>();
    rec.importance = row[17].c_str();
    rec.default_cadence_days = row[18].as<std::int32_t>();
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
  // $1 user, $2 now, $3 rows wanted, $4 the user's default cadence, $5 the
  // dismissal cool-down in days (0: one cadence period); per class i (the
  // arrays' i-th items): $6 cadence (0: the default), $7 weight, $8 and $9
  // the position to read after, $10 the rows to read (0 once exhausted).
  //
  // Each class is a range scan of contacts_by_due over due, eligible rows
  // in ascending due reference, which within one class is descending
  // score. The merge orders by the score, whole days overdue times the
  // weight, then the due reference, then the id: exactly the engine's
  // total order (core/priority.hpp), without comparing floating-point
  // values in SQL. Only the rows that win the merge get their groups
  // looked up and sent.
  return "WITH k AS (SELECT k.cad, k.w, k.after_key, k.after_id, k.lim, "
         "k.ord - 1 AS cls, CASE WHEN k.cad = 0 THEN $4::int ELSE k.cad END "
         "AS days FROM unnest($6::int[], $7::int[], $8::timestamptz[], "
         "$9::uuid[], $10::bigint[]) WITH ORDINALITY "
         "AS k(cad, w, after_key, after_id, lim, ord)), "
         "cand AS MATERIALIZED (SELECT s.id, s.due_key AS key, k.cls, "
         "(($2::bigint - extract(epoch from s.due_key)::bigint) / 86400 "
         "- k.days) * k.w AS score FROM k CROSS JOIN LATERAL ("
         "SELECT c.id, c.due_key FROM contacts c WHERE c.user_id = $1::uuid "
         "AND c.archived_at IS NULL AND c.effective_cadence_days = k.cad "
         "AND c.importance_weight = k.w "
         "AND c.due_key <= to_timestamp($2::bigint - k.days::bigint * 86400) "
         "AND (c.due_key, c.id) > (k.after_key, k.after_id) "
         "AND (c.paused_until IS NULL "
         "OR c.paused_until <= to_timestamp($2::bigint)) "
         "AND NOT EXISTS (SELECT 1 FROM suggestion_exclusions x "
         "WHERE x.user_id = c.user_id AND x.contact_id = c.id) "
         "AND NOT EXISTS (SELECT 1 FROM suggestions s "
         "WHERE s.user_id = c.user_id AND s.contact_id = c.id "
         "AND ((s.status = 'accepted' "
         "AND s.slot_end > to_timestamp($2::bigint)) "
         "OR (s.status = 'snoozed' "
         "AND s.snoozed_until > to_timestamp($2::bigint)) "
         "OR (s.status = 'dismissed' AND s.responded_at > to_timestamp("
         "$2::bigint - (CASE WHEN $5::int = 0 THEN k.days ELSE $5::int END)"
         "::bigint * 86400)))) "
         "ORDER BY c.due_key, c.id LIMIT k.lim) s), "
         "top AS (SELECT * FROM cand ORDER BY score DESC, key, id "
         "LIMIT $3::bigint) "
         "SELECT " + std::string{minimal_columns}
         + ", top.key::text, top.cls, (SELECT string_agg(z.cls || ':' || "
           "z.n, ',') FROM (SELECT cls, count(*) AS n FROM cand "
           "GROUP BY cls) z) "
           "FROM top JOIN contacts c ON c.id = top.id "
           "ORDER BY top.score DESC, top.key, top.id";
}

const char* const priority_classes_statement = "catchup_priority_classes";

std::string priority_classes_sql() {
  // The distinct (cadence, weight) classes of a user's contacts, in index
  // order, by skipping through contacts_by_due: one index probe per class
  // however many contacts share it.
  return "WITH RECURSIVE cls AS ((SELECT c.effective_cadence_days AS cad, "
         "c.importance_weight AS w FROM contacts c WHERE c.user_id = $1::uuid "
         "AND c.archived_at IS NULL ORDER BY 1, 2 LIMIT 1) UNION ALL "
         "SELECT n.cad, n.w FROM cls CROSS JOIN LATERAL (SELECT "
         "c.effective_cadence_days AS cad, c.importance_weight AS w "
         "FROM contacts c WHERE c.user_id = $1::uuid AND c.archived_at IS NULL "
         "AND (c.effective_cadence_days, c.importance_weight) > (cls.cad, "
         "cls.w) ORDER BY 1, 2 LIMIT 1) n) SELECT cad, w FROM cls LIMIT $2";
}

contact_cadence cadence_of(const contact_record& r,
                           std::int32_t default_cadence_days) {
  contact_cadence cadence;
  if (r.frequency != no_frequency)
    cadence.preference = static_cast<frequency>(r.frequency);
  cadence.weight_quarters = r.importance_weight;
  if (r.effective_cadence_days == 0) {
    cadence.days = default_cadence_days;
    cadence.source = cadence_source::user_default;
  } else {
    cadence.days = r.effective_cadence_days;
    cadence.source = (cadence.preference || r.cadence_days != 0)
                       ? cadence_source::contact
                       : cadence_source::group;
  }
  return cadence;
}

candidate to_candidate(const contact_record& r, std::int64_t now_unix_s,
                       std::int32_t default_cadence_days) {
  std::optional<unix_seconds> last;
  if (r.has_last_contact)
    last = r.last_contact_unix_s;
  return make_candidate(r.id, r.name, last, r.due_from_unix_s,
                        cadence_of(r, default_cadence_days), now_unix_s);
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
                                     std::int64_t now_unix_s,
                                     std::int32_t default_cadence_days,
                                     std::int32_t dismiss_cooldown_days) {
  stream_cursor c;
  c.user_id = std::move(user_id);
  c.kind = stream_kind::priority;
  c.now_unix_s = now_unix_s;
  c.default_cadence_days = default_cadence_days;
  c.dismiss_cooldown_days = dismiss_cooldown_days;
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

std::string int_array(const std::vector<std::int32_t>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? "," : "") + std::to_string(items[i]);
  return out + "}";
}

// Reads the user's (cadence, importance) classes into the cursor, on the
// stream's first batch.
void load_classes(pqxx::transaction_base& tx, stream_cursor& cursor) {
  auto rows = tx.exec_prepared(priority_classes_statement, cursor.user_id,
                               priority_classes_max + 1);
  if (rows.size() > priority_classes_max)
    throw storage_error(
      ec::invalid_input,
      "user " + cursor.user_id + " has more than "
        + std::to_string(priority_classes_max)
        + " distinct (cadence, importance) combinations among their "
          "contacts");
  for (auto row : rows) {
    cursor.class_cadence_days.push_back(row[0].as<std::int32_t>());
    cursor.class_weight.push_back(row[1].as<std::int32_t>());
  }
  const auto count = cursor.class_cadence_days.size();
  // Before the first row, the position is "before everything": no real
  // contact has the nil uuid.
  cursor.class_after_key.assign(count, "-infinity");
  cursor.class_after_id.assign(count, nil_uuid);
  cursor.class_done.assign(count, 0);
  cursor.classes_loaded = true;
}

// Rows each class's scan produced, from the last column of the first row
// ("cls:n,..."; absent: none); adds them up in `rows_read`.
std::vector<std::size_t> fetched_per_class(const pqxx::result& rows,
                                           std::size_t class_count,
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

// One page of a priority stream: one ordered scan per class, merged by
// rank in PostgreSQL (see priority_statement_sql): one round trip, planned
// once per connection.
void read_priority_page(pqxx::transaction_base& tx,
                        const stream_cursor& cursor, std::size_t n,
                        contact_batch& batch) {
  if (!cursor.classes_loaded)
    load_classes(tx, batch.next);
  const auto& at = batch.next;
  const auto class_count = at.class_cadence_days.size();
  std::vector<std::string> limits;
  for (std::size_t cls = 0; cls < class_count; ++cls)
    limits.push_back(at.class_done[cls] ? "0" : std::to_string(n));
  auto rows = tx.exec_prepared(
    priority_statement, at.user_id, at.now_unix_s, n,
    at.default_cadence_days, at.dismiss_cooldown_days,
    int_array(at.class_cadence_days), int_array(at.class_weight),
    detail::array_literal(at.class_after_key),
    detail::array_literal(at.class_after_id), detail::array_literal(limits));
  const auto fetched = fetched_per_class(rows, class_count, batch.rows_read);
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
    if (batch.next.class_done[cls])
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
      "  AND p.pause_end > to_timestamp($2)), default_cadence_days, "
      "coalesce(dismiss_cooldown_days, 0), coalesce(slot_horizon_days, 0), "
      "coalesce(slot_minutes, 0), coalesce(slots_per_day, 0), "
      "coalesce(suggestions_per_run, 0) "
      "FROM users u WHERE u.id = $1::uuid",
      user_id, now_unix_s);
    if (user.empty())
      return ctx;
    ctx.exists = true;
    ctx.timezone = user[0][0].c_str();
    ctx.paused = user[0][1].as<bool>();
    ctx.default_cadence_days = user[0][2].as<std::int32_t>();
    ctx.dismiss_cooldown_days = user[0][3].as<std::int32_t>();
    ctx.slot_horizon_days = user[0][4].as<std::int32_t>();
    ctx.slot_minutes = user[0][5].as<std::int32_t>();
    ctx.slots_per_day = user[0][6].as<std::int32_t>();
    ctx.suggestions_per_run = user[0][7].as<std::int32_t>();
    // The user's own slot horizon, when set, is the window searched.
    if (ctx.slot_horizon_days > 0)
      window_days = ctx.slot_horizon_days;
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
