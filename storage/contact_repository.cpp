// SPDX-License-Identifier: Apache-2.0
// Contact streams and the per-user context of a generation.

#include <algorithm>
#include <sstream>

#include "core/frequency.hpp"
#include "core/priority.hpp"
#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/error.hpp"

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

} // namespace

candidate to_candidate(const contact_record& r, std::int64_t now_unix_s) {
  std::optional<unix_seconds> last;
  if (r.has_last_contact)
    last = r.last_contact_unix_s;
  std::optional<frequency> pref;
  if (r.frequency != no_frequency)
    pref = static_cast<frequency>(r.frequency);
  return make_candidate(r.id, r.name, last, pref, now_unix_s);
}

session::session(const std::string& url) {
  try {
    impl_ = std::make_unique<impl>(url);
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

contact_batch session::next_batch(const stream_cursor& cursor, std::size_t n) {
  n = std::clamp<std::size_t>(n, 1, batch_rows_limit);
  contact_batch batch;
  batch.next = cursor;
  if (cursor.done)
    return batch;
  try {
    pqxx::read_transaction tx{impl_->conn};
    if (cursor.kind == stream_kind::ordered) {
      auto key = key_expression(cursor.order);
      auto type = key_type(cursor.order);
      auto dir = cursor.descending ? "DESC" : "ASC";
      std::string sql = std::string{"SELECT "} + minimal_columns
                        + (cursor.full_projection ? full_columns : "")
                        + ", " + key + "::text FROM contacts c "
                          "WHERE c.user_id = $1 AND c.archived_at IS NULL";
      bool first = cursor.after_id.empty();
      if (!first)
        sql += std::string{" AND ("} + key + ", c.id) "
               + (cursor.descending ? "<" : ">") + " ($3::" + type
               + ", $4::uuid)";
      sql += std::string{" ORDER BY "} + key + " " + dir + ", c.id " + dir
             + " LIMIT $2";
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
      return batch;
    }
    // Priority stream: one ordered scan per frequency class, each reading
    // only due rows (last_contact_key <= now - T), merged by rank. Within a
    // class, ascending last contact is descending priority, so each scan is
    // already in rank order and the merge is exact.
    struct fetched {
      contact_record rec;
      candidate cand;
      std::size_t cls;
      std::string key; // the row's sort key as text, for the cursor
    };
    std::vector<fetched> all;
    std::vector<std::size_t> fetched_per_class(class_count, 0);
    for (std::size_t cls = 0; cls < class_count; ++cls) {
      if (cursor.class_done[cls])
        continue;
      auto f = all_frequencies[cls];
      bool first = cursor.class_after_id[cls].empty();
      std::string sql
        = std::string{"SELECT "} + minimal_columns
          + ", c.last_contact_key::text FROM contacts c "
            "WHERE c.user_id = $1 AND c.archived_at IS NULL "
            "AND c.effective_frequency = $2::frequency_option "
            "AND c.last_contact_key <= to_timestamp($3) "
            "AND NOT EXISTS (SELECT 1 FROM suggestion_exclusions x "
            "  WHERE x.user_id = c.user_id AND x.contact_id = c.id) "
            "AND NOT EXISTS (SELECT 1 FROM suggestions s "
            "  WHERE s.user_id = c.user_id AND s.contact_id = c.id "
            "  AND ((s.status = 'accepted' AND s.slot_end > to_timestamp($5)) "
            "    OR (s.status = 'snoozed' "
            "        AND s.snoozed_until > to_timestamp($5))))";
      if (!first)
        sql += " AND (c.last_contact_key, c.id) > ($6::timestamptz, $7::uuid)";
      sql += " ORDER BY c.last_contact_key, c.id LIMIT $4";
      auto cutoff = due_cutoff(f, cursor.now_unix_s);
      auto rows = first
                    ? tx.exec_params(sql, cursor.user_id,
                                     std::string{to_string(f)}, cutoff, n,
                                     cursor.now_unix_s)
                    : tx.exec_params(sql, cursor.user_id,
                                     std::string{to_string(f)}, cutoff, n,
                                     cursor.now_unix_s,
                                     cursor.class_after_key[cls],
                                     cursor.class_after_id[cls]);
      batch.rows_read += static_cast<std::int64_t>(rows.size());
      fetched_per_class[cls] = rows.size();
      for (auto row : rows) {
        auto rec = read_record(row, false);
        auto cand = to_candidate(rec, cursor.now_unix_s);
        all.push_back(fetched{std::move(rec), std::move(cand), cls,
                              row[row.size() - 1].c_str()});
      }
    }
    std::stable_sort(all.begin(), all.end(),
                     [](const fetched& a, const fetched& b) {
                       return ranks_before(a.cand, b.cand);
                     });
    auto take = std::min(n, all.size());
    std::vector<std::size_t> consumed(class_count, 0);
    for (std::size_t i = 0; i < take; ++i) {
      auto& item = all[i];
      batch.next.class_after_key[item.cls] = item.key;
      batch.next.class_after_id[item.cls] = item.rec.id;
      ++consumed[item.cls];
      batch.rows.push_back(std::move(item.rec));
    }
    bool all_done = true;
    for (std::size_t cls = 0; cls < class_count; ++cls) {
      if (cursor.class_done[cls])
        continue;
      // A class is exhausted when its scan came back short and we used all
      // of what it returned.
      if (fetched_per_class[cls] < n && consumed[cls] == fetched_per_class[cls])
        batch.next.class_done[cls] = 1;
      else
        all_done = false;
    }
    batch.next.done = all_done;
    return batch;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read contacts of user "
                                     + cursor.user_id);
  }
}

user_context session::load_user_context(const std::string& user_id,
                                        std::int64_t now_unix_s,
                                        std::int64_t window_days) {
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
    auto window_end = now_unix_s + window_days * seconds_per_day;
    for (auto row : tx.exec_params(
           "SELECT floor(extract(epoch from start_time))::bigint, "
           "ceil(extract(epoch from end_time))::bigint "
           "FROM calendar_events WHERE user_id = $1::uuid AND is_busy "
           "AND start_time < to_timestamp($3) AND end_time > to_timestamp($2) "
           "ORDER BY start_time LIMIT $4",
           user_id, now_unix_s, window_end, busy_events_max))
      ctx.busy.push_back({row[0].as<std::int64_t>(),
                          row[1].as<std::int64_t>()});
    // Past the limit we cannot see the calendar: treat the rest as busy
    // rather than suggest a slot that may clash.
    if (ctx.busy.size() == busy_events_max)
      ctx.busy.push_back({ctx.busy.back().start_unix_s, window_end});
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
