// SPDX-License-Identifier: Apache-2.0
// Persisting generations, reading suggestions back and recording a user's
// answers to them.

#include "core/utf8.hpp"
#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "core/uuid.hpp"
#include "storage/storage_error.hpp"

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

namespace {

/// The columns read_suggestion maps, of `suggestions s JOIN contacts c`,
/// without the status.
const char* const suggestion_columns
  = "s.id::text, s.contact_id::text, c.name, coalesce(s.rank, 0), "
    "s.priority, extract(epoch from s.slot_start)::bigint, "
    "extract(epoch from s.slot_end)::bigint, s.slot_timezone, s.reason";

/// The status a reader sees: a snooze that has passed by "now" ($3, Unix
/// seconds) is pending again.
const char* const effective_status
  = "(CASE WHEN s.status = 'snoozed' AND s.snoozed_until <= to_timestamp($3) "
    "THEN 'pending'::suggestion_status ELSE s.status END)";

suggestion_record read_suggestion(const pqxx::row& row) {
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
  return rec;
}

// Locks the user's row for the rest of `tx`, so that saves of generations
// and responses to suggestions of one user run one at a time. NO KEY
// UPDATE still lets inserts that reference the user (generations, imports,
// enqueues) through. @throws storage_error not_found without such a user.
void lock_user(pqxx::transaction_base& tx, const std::string& user_id) {
  if (tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid "
                     "FOR NO KEY UPDATE",
                     user_id)
        .empty())
    throw storage_error(ec::not_found, "no user " + user_id);
}

/// A generation's items as the array parameters of one INSERT.
struct item_arrays {
  std::vector<std::string> ids, contacts, ranks, priorities, starts, ends,
    reasons;
};

item_arrays columns_of(const std::vector<suggestion_record>& items) {
  item_arrays c;
  for (auto& s : items) {
    c.ids.push_back(s.id);
    c.contacts.push_back(s.contact_id);
    c.ranks.push_back(std::to_string(s.rank));
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g", s.priority);
    c.priorities.push_back(buf);
    c.starts.push_back(std::to_string(s.slot_start_unix_s));
    c.ends.push_back(std::to_string(s.slot_end_unix_s));
    c.reasons.push_back(s.reason);
  }
  return c;
}

void insert_suggestions(pqxx::transaction_base& tx, const generation_result& r,
                        const std::string& generation_id) {
  auto timezone = r.items.empty() ? std::string{"UTC"}
                                  : r.items.front().slot_timezone;
  auto c = columns_of(r.items);
  tx.exec_params(
    // Ids come with the items (the generation made them, and returns
    // them); an item without one gets a new id here.
    "INSERT INTO suggestions (id, user_id, contact_id, generation_id, "
    "rank, priority, slot_start, slot_end, slot_timezone, reason) "
    "SELECT coalesce(nullif(t.id, '')::uuid, gen_random_uuid()), "
    "$1::uuid, t.contact_id, $2::uuid, t.rank, t.priority, "
    "to_timestamp(t.slot_start), to_timestamp(t.slot_end), $3, t.reason "
    "FROM unnest($4::uuid[], $5::int[], $6::float8[], $7::bigint[], "
    "$8::bigint[], $9::text[], $10::text[]) "
    "AS t(contact_id, rank, priority, slot_start, slot_end, reason, id)",
    r.user_id, generation_id, timezone, detail::array_literal(c.contacts),
    detail::array_literal(c.ranks), detail::array_literal(c.priorities),
    detail::array_literal(c.starts), detail::array_literal(c.ends),
    detail::array_literal(c.reasons), detail::array_literal(c.ids));
}

} // namespace

std::string to_string(suggestion_action action) {
  switch (action) {
    case suggestion_action::accept: return "accept";
    case suggestion_action::dismiss: return "dismiss";
    case suggestion_action::snooze: return "snooze";
  }
  return "action(" + std::to_string(static_cast<int>(action)) + ")";
}

std::string session::save_generation(const generation_output& out) {
  auto& r = out.result;
  try {
    pqxx::work tx{impl_->conn};
    // Suggestions are derived data: a generation lost in a crash is made
    // again, identically, by the next run for the same "now". Not waiting
    // for the WAL flush takes the commit off the generation's critical path;
    // the transaction stays atomic either way.
    tx.exec0("SET LOCAL synchronous_commit = off");
    // One save per user at a time. Two saves for the same user at once (a
    // job rescued from a hung node runs while that node still finishes it)
    // would otherwise both delete the old pending rows and both insert:
    // under READ COMMITTED the second DELETE waits for the first's rows,
    // finds them gone and, its snapshot taken before the first committed,
    // never sees the first's new rows - two pending suggestions per
    // contact. Locked, the second save starts after the first committed
    // and replaces its rows. The same lock as respond_to_suggestion takes,
    // taken first as there, so a response and a save serialise too without
    // deadlocking; NO KEY UPDATE still lets inserts referencing the user
    // (imports, enqueues, this save's own rows) through.
    lock_user(tx, r.user_id);
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
    // suggestions; what the user acted on stays. A snooze that has passed
    // at this generation's "now" is pending again (the priority stream no
    // longer holds its contact back), so it is replaced too.
    tx.exec_params("DELETE FROM suggestions WHERE user_id = $1::uuid "
                   "AND trigger_type = 'timebound' AND (status = 'pending' "
                   "OR (status = 'snoozed' "
                   "AND snoozed_until <= to_timestamp($2::bigint)))",
                   r.user_id, out.now_unix_s);
    if (!r.items.empty())
      insert_suggestions(tx, r, generation_id);
    tx.commit();
    return generation_id;
  } catch (...) {
    detail::rethrow_as_storage_error("cannot save the generation of user "
                                     + r.user_id);
  }
}

std::vector<suggestion_record>
session::read_suggestions(const std::string& user_id,
                          const std::string& status,
                          std::int64_t now_unix_s) {
  std::vector<suggestion_record> out;
  try {
    pqxx::read_transaction tx{impl_->conn};
    // The first condition keeps the (user_id, status, slot_start) index
    // usable: a pending read also scans the snoozed rows, and the second
    // keeps the ones whose snooze has passed (and drops those from a
    // snoozed read). The stored status stays "snoozed": a response or the
    // next generation settles it.
    for (auto row : tx.exec_params(
           std::string{"SELECT "} + suggestion_columns
             + ", " + effective_status
             + " FROM suggestions s JOIN contacts c ON c.id = s.contact_id "
               "WHERE s.user_id = $1::uuid "
               "AND s.status IN ($2::suggestion_status, "
               "CASE WHEN $2::suggestion_status = 'pending' "
               "THEN 'snoozed'::suggestion_status END) "
               "AND " + effective_status + " = $2::suggestion_status "
               "ORDER BY s.slot_start, s.rank, s.id",
           user_id, status, now_unix_s))
      out.push_back(read_suggestion(row));
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read suggestions of user "
                                     + user_id);
  }
  return out;
}

namespace {

// Checks what needs no database: ids, "now", the snooze bounds, the reason.
void validate(const suggestion_response& r) {
  auto invalid = [&](const std::string& why) {
    throw storage_error(ec::invalid_input,
                        "cannot " + to_string(r.action) + " suggestion '"
                          + printable_excerpt(r.suggestion_id) + "': " + why);
  };
  if (!is_uuid_text(r.user_id))
    invalid("the user id '" + printable_excerpt(r.user_id)
            + "' is not a UUID");
  if (!is_uuid_text(r.suggestion_id))
    invalid("the suggestion id is not a UUID");
  if (r.now_unix_s <= 0)
    invalid("\"now\" is not set");
  switch (r.action) {
    case suggestion_action::accept:
      break;
    case suggestion_action::dismiss:
      if (r.reason.size() > dismissal_reason_bytes_max)
        invalid("the reason has " + std::to_string(r.reason.size())
                + " bytes, more than "
                + std::to_string(dismissal_reason_bytes_max));
      // The server would refuse it with a query error, not saying which.
      if (!valid_utf8(r.reason) || r.reason.find('\0') != std::string::npos)
        invalid("the reason is not UTF-8 text");
      break;
    case suggestion_action::snooze:
      if (r.snooze_until_unix_s <= r.now_unix_s)
        invalid("the snooze ends at " + std::to_string(r.snooze_until_unix_s)
                + ", not after now (" + std::to_string(r.now_unix_s) + ")");
      // Subtracting cannot overflow: both are positive here.
      if (r.snooze_until_unix_s - r.now_unix_s > snooze_seconds_max)
        invalid("the snooze ends more than "
                + std::to_string(snooze_seconds_max / 86400)
                + " days after now");
      break;
    default:
      invalid("unknown action");
  }
}

// The slot of a suggestion that can still be answered, as the server
// prints timestamps.
struct answerable {
  std::string slot_start;
  std::string slot_end;
};

// Locks the suggestion (so a generation replacing pending suggestions
// either deleted it before - not found - or waits and then keeps the
// answered row) and checks that it is pending, or snoozed until no later
// than "now".
answerable lock_answerable(pqxx::transaction_base& tx,
                           const suggestion_response& r) {
  auto found = tx.exec_params(
    "SELECT s.status::text, s.snoozed_until::text, "
    "coalesce(s.snoozed_until <= to_timestamp($3::bigint), false), "
    "s.slot_start, s.slot_end "
    "FROM suggestions s WHERE s.id = $2::uuid AND s.user_id = $1::uuid "
    "FOR UPDATE",
    r.user_id, r.suggestion_id, r.now_unix_s);
  if (found.empty())
    throw storage_error(ec::not_found, "user " + r.user_id
                                         + " has no suggestion "
                                         + r.suggestion_id);
  std::string status = found[0][0].c_str();
  bool snooze_passed = found[0][2].as<bool>();
  if (status != "pending" && !(status == "snoozed" && snooze_passed))
    throw storage_error(
      ec::conflict, "cannot " + to_string(r.action) + " suggestion "
                      + r.suggestion_id + ": it is " + status
                      + (status == "snoozed"
                           ? std::string{" until "} + found[0][1].c_str()
                           : std::string{})
                      + ", not pending");
  return answerable{found[0][3].c_str(), found[0][4].c_str()};
}

// Refuses to accept a suggestion whose slot overlaps one already accepted.
void check_no_overlap(pqxx::transaction_base& tx, const suggestion_response& r,
                      const answerable& slot) {
  // Slots overlap when each starts before the other ends.
  auto overlap = tx.exec_params(
    "SELECT o.id::text, o.slot_start::text, o.slot_end::text "
    "FROM suggestions o WHERE o.user_id = $1::uuid "
    "AND o.status = 'accepted' AND o.id <> $2::uuid "
    "AND o.slot_start < $4::timestamptz AND o.slot_end > $3::timestamptz "
    "ORDER BY o.slot_start, o.id LIMIT 1",
    r.user_id, r.suggestion_id, slot.slot_start, slot.slot_end);
  if (!overlap.empty())
    throw storage_error(
      ec::conflict, "cannot accept suggestion " + r.suggestion_id
                      + ": its slot overlaps accepted suggestion "
                      + overlap[0][0].c_str() + " ("
                      + overlap[0][1].c_str() + " to "
                      + overlap[0][2].c_str() + ")");
}

// Records the answer on the suggestion and reads it back.
suggestion_record record_answer(pqxx::transaction_base& tx,
                                const suggestion_response& r) {
  const bool accept = r.action == suggestion_action::accept;
  const bool snooze = r.action == suggestion_action::snooze;
  auto updated = tx.exec_params(
    std::string{"WITH s AS (UPDATE suggestions SET "
                "status = $3::suggestion_status, "
                "responded_at = to_timestamp($4::bigint), "
                "snoozed_until = CASE WHEN $3::suggestion_status = "
                "'snoozed' THEN to_timestamp($5::bigint) "
                "ELSE snoozed_until END, "
                "dismissal_reason = CASE WHEN $3::suggestion_status = "
                "'dismissed' THEN nullif($6, '') "
                "ELSE dismissal_reason END "
                "WHERE id = $2::uuid AND user_id = $1::uuid RETURNING *) "
                "SELECT "}
      + suggestion_columns
      + ", s.status::text FROM s JOIN contacts c ON c.id = s.contact_id",
    r.user_id, r.suggestion_id,
    accept ? "accepted" : snooze ? "snoozed" : "dismissed", r.now_unix_s,
    r.snooze_until_unix_s, r.reason);
  return read_suggestion(updated.at(0));
}

} // namespace

respond_result
session::respond_to_suggestion(const suggestion_response& response) {
  auto& r = response;
  validate(r);
  const bool accept = r.action == suggestion_action::accept;
  const bool snooze = r.action == suggestion_action::snooze;
  const bool moves_last_contact = accept || (!snooze && r.met_recently);
  respond_result out;
  try {
    pqxx::work tx{impl_->conn, "respond_to_suggestion"};
    // One responder per user at a time: the overlap check below and the
    // accept it guards are atomic against a concurrent accept of another
    // suggestion. NO KEY UPDATE does not block inserts that reference the
    // user (generations, imports take KEY SHARE on it).
    lock_user(tx, r.user_id);
    const answerable slot = lock_answerable(tx, r);
    if (accept)
      check_no_overlap(tx, r, slot);
    out.suggestion = record_answer(tx, r);
    if (snooze)
      out.snoozed_until_unix_s = r.snooze_until_unix_s;
    if (moves_last_contact)
      out.last_contact_moved
        = tx.exec_params("UPDATE contacts SET last_contact_date = "
                         "to_timestamp($3::bigint) "
                         "WHERE user_id = $1::uuid AND id = $2::uuid "
                         "AND (last_contact_date IS NULL "
                         "OR last_contact_date < to_timestamp($3::bigint))",
                         r.user_id, out.suggestion.contact_id, r.now_unix_s)
            .affected_rows()
          > 0;
    tx.commit();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot " + to_string(r.action)
                                     + " suggestion " + r.suggestion_id);
  }
  return out;
}

} // namespace catchup::storage
