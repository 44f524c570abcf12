// SPDX-License-Identifier: Apache-2.0
// Persisting generations and reading suggestions back.

#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/error.hpp"

namespace catchup::storage {

namespace detail {

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0)
      out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

} // namespace detail

std::string session::save_generation(const generation_output& out) {
  auto& r = out.result;
  std::vector<std::string> contacts, ranks, priorities, starts, ends, reasons;
  for (auto& s : r.items) {
    contacts.push_back(s.contact_id);
    ranks.push_back(std::to_string(s.rank));
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", s.priority);
    priorities.push_back(buf);
    starts.push_back(std::to_string(s.slot_start_unix_s));
    ends.push_back(std::to_string(s.slot_end_unix_s));
    reasons.push_back(s.reason);
  }
  auto timezone = r.items.empty() ? std::string{"UTC"}
                                  : r.items.front().slot_timezone;
  try {
    pqxx::work tx{impl_->conn};
    // Suggestions are derived data: a generation lost in a crash is made
    // again, identically, by the next run for the same "now". Not waiting
    // for the WAL flush takes the commit off the generation's critical path;
    // the transaction stays atomic either way.
    tx.exec0("SET LOCAL synchronous_commit = off");
    auto gen = tx.exec_params1(
      "INSERT INTO generations (user_id, as_of, finished_at, contacts_read, "
      "batches, suggestions, partial, warnings, wall_ms) "
      "VALUES ($1::uuid, to_timestamp($2), now(), $3, $4, $5, $6, "
      "$7::text[], $8) RETURNING id::text",
      r.user_id, out.now_unix_s, r.contacts_read, r.batches,
      static_cast<std::int64_t>(r.items.size()), r.partial,
      detail::array_literal(r.warnings), r.wall_ms);
    std::string generation_id = gen[0].c_str();
    // A generation replaces the previous generated, still pending
    // suggestions; what the user acted on stays.
    tx.exec_params("DELETE FROM suggestions WHERE user_id = $1::uuid "
                   "AND status = 'pending' AND trigger_type = 'timebound'",
                   r.user_id);
    if (!r.items.empty())
      tx.exec_params(
        "INSERT INTO suggestions (user_id, contact_id, generation_id, rank, "
        "priority, slot_start, slot_end, slot_timezone, reason) "
        "SELECT $1::uuid, t.contact_id, $2::uuid, t.rank, t.priority, "
        "to_timestamp(t.slot_start), to_timestamp(t.slot_end), $3, t.reason "
        "FROM unnest($4::uuid[], $5::int[], $6::float8[], $7::bigint[], "
        "$8::bigint[], $9::text[]) "
        "AS t(contact_id, rank, priority, slot_start, slot_end, reason)",
        r.user_id, generation_id, timezone, detail::array_literal(contacts),
        detail::array_literal(ranks), detail::array_literal(priorities),
        detail::array_literal(starts), detail::array_literal(ends),
        detail::array_literal(reasons));
    tx.commit();
    return generation_id;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot save the generation of user "
                                     + r.user_id);
  }
}

std::vector<suggestion_record>
session::read_suggestions(const std::string& user_id,
                          const std::string& status) {
  std::vector<suggestion_record> out;
  try {
    pqxx::read_transaction tx{impl_->conn};
    for (auto row : tx.exec_params(
           "SELECT s.id::text, s.contact_id::text, c.name, "
           "coalesce(s.rank, 0), s.priority, "
           "extract(epoch from s.slot_start)::bigint, "
           "extract(epoch from s.slot_end)::bigint, s.slot_timezone, "
           "s.reason, s.status::text "
           "FROM suggestions s JOIN contacts c ON c.id = s.contact_id "
           "WHERE s.user_id = $1::uuid AND s.status = $2::suggestion_status "
           "ORDER BY s.slot_start, s.rank, s.id",
           user_id, status)) {
      suggestion_record rec;
      rec.id = row[0].c_str();
      rec.contact_id = row[1].c_str();
      rec.contact_name = row[2].c_str();
      rec.rank = row[3].as<std::int32_t>();
      rec.priority = row[4].as<double>();
      rec.slot_start_unix_s = row[5].as<std::int64_t>();
      rec.slot_end_unix_s = row[6].as<std::int64_t>();
      rec.slot_timezone = row[7].c_str();
      rec.reason = row[8].c_str();
      rec.status = row[9].c_str();
      out.push_back(std::move(rec));
    }
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read suggestions of user "
                                     + user_id);
  }
  return out;
}

} // namespace catchup::storage
