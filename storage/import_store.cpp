// SPDX-License-Identifier: Apache-2.0
// Page merges of contact and calendar imports (see import_store.hpp).
//
// Each page goes through a session-local staging table (COPY, no row-by-row
// round trips), then one INSERT ... ON CONFLICT per table. Rows get ids
// derived from their keys (md5 of user, source and key), so a page merged
// twice - a run killed after its commit and resumed from an older cursor
// cannot happen, but a rerun of a whole file can - writes the same ids.

#include "storage/import_store.hpp"

#include <cctype>
#include <optional>
#include <tuple>

#include <nlohmann/json.hpp>
#include <pqxx/pqxx>

#include "storage/detail/pg_errors.hpp"
#include "core/uuid.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

// ON COMMIT DELETE ROWS: a page's rows never outlive its transaction, and
// a failed page leaves nothing behind for the next one.
constexpr const char* create_staging_sql = R"(
CREATE TEMP TABLE IF NOT EXISTS import_contacts (
  ord int NOT NULL, key text NOT NULL, deleted boolean NOT NULL,
  name text, email text, phone text, linked_in text, instagram text,
  x_handle text, other_social jsonb, location text, organization text,
  notes text, revision text, groups text[], birthday_month smallint,
  birthday_day smallint, birthday_year smallint, anniversary_month smallint,
  anniversary_day smallint, anniversary_year smallint) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS import_events (
  ord int NOT NULL, external_id text NOT NULL, series_id text NOT NULL,
  summary text, location text, timezone text, start_s bigint NOT NULL,
  end_s bigint NOT NULL, all_day boolean NOT NULL, busy boolean NOT NULL,
  cancelled boolean NOT NULL, attendees text[]) ON COMMIT DELETE ROWS;
)";

constexpr const char* save_cursor_sql
  = "INSERT INTO sync_state (user_id, source, resource, resume_cursor, "
    "status, items_synced) VALUES ($1::uuid, $2, $3, $4::jsonb, 'running', "
    "$5) ON CONFLICT (user_id, source, resource) DO UPDATE SET "
    "resume_cursor = EXCLUDED.resume_cursor, status = 'running', "
    "items_synced = EXCLUDED.items_synced, last_error = NULL";

const char* null_if_empty(const std::string& s) {
  return s.empty() ? nullptr : s.c_str();
}

std::string social_json(const imported_contact& c) {
  auto obj = nlohmann::json::object();
  for (auto& [site, url] : c.other_profiles)
    if (!obj.contains(site))
      obj[site] = url;
  return obj.dump();
}

// True when the server refused the statement for its data (class 22: a
// value it cannot take; 23: a constraint; 54: a limit such as the btree
// row size), which one item can cause; not for a lost connection, a
// shutdown, a conflict or a timeout.
bool caused_by_data(const pqxx::sql_error& e) {
  const auto& state = e.sqlstate();
  return state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0
         || state.rfind("54", 0) == 0;
}

// The server's message on one line, for an item's problem.
std::string refusal(const pqxx::sql_error& e) {
  std::string what = e.what();
  auto end = what.find('\n');
  if (end != std::string::npos)
    what.resize(end);
  return "the database refused it: " + what + " [SQLSTATE " + e.sqlstate()
         + "]";
}

void add(page_outcome& to, const page_outcome& from) {
  to.inserted += from.inserted;
  to.updated += from.updated;
  to.deleted += from.deleted;
  to.last_contact_moved += from.last_contact_moved;
}

void save_cursor(pqxx::transaction_base& tx, const import_target& target,
                 const page_cursor& cursor) {
  tx.exec_params(save_cursor_sql, target.user_id, target.state_source,
                 target.resource,
                 cursor.resume_cursor.empty() ? std::string{"null"}
                                              : cursor.resume_cursor,
                 cursor.items_done);
}

} // namespace

struct import_store::impl {
  impl(const std::string& url, std::int64_t statement_timeout_ms)
    : conn(url) {
    detail::configure_connection(conn, statement_timeout_ms);
    pqxx::nontransaction tx{conn};
    // A page commits its rows and its cursor together, so losing the last
    // commits in a server crash loses their cursor too and the rerun
    // imports those pages again: waiting for each page's WAL flush buys
    // nothing here, and costs most of an import's time.
    tx.exec0("SET synchronous_commit = off");
    // Page statements are small; JIT compiling one costs far more (100+ ms)
    // than running it, and a bulk import's stale statistics can push a
    // statement's cost estimate over the JIT threshold.
    tx.exec0("SET jit = off");
    tx.exec0(create_staging_sql);
  }
  pqxx::connection conn;
};

import_store::import_store(const std::string& url,
                           std::int64_t statement_timeout_ms) {
  try {
    impl_ = std::make_unique<impl>(url, statement_timeout_ms);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot connect to the database");
  }
}

import_store::~import_store() = default;

void import_store::check_user(const std::string& user_id) {
  if (!is_uuid_text(user_id))
    throw storage_error(ec::invalid_input,
                        "user id '" + user_id + "' is not a UUID");
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid",
                               user_id);
    if (rows.empty())
      throw storage_error(ec::not_found, "no user " + user_id);
  } catch (...) {
    detail::rethrow_as_storage_error("cannot look up user " + user_id);
  }
}

import_progress import_store::read_progress(const import_target& target) {
  import_progress p;
  try {
    pqxx::nontransaction tx{impl_->conn};
    auto rows = tx.exec_params(
      "SELECT status, coalesce(resume_cursor::text, ''), "
      "coalesce(sync_token, ''), items_synced, coalesce(last_error, '') "
      "FROM sync_state WHERE user_id = $1::uuid AND source = $2 AND "
      "resource = $3",
      target.user_id, target.state_source, target.resource);
    if (rows.empty())
      return p;
    p.exists = true;
    p.status = rows[0][0].c_str();
    p.resume_cursor = rows[0][1].c_str();
    if (p.resume_cursor == "null")
      p.resume_cursor.clear();
    p.sync_token = rows[0][2].c_str();
    p.items_synced = rows[0][3].as<std::int64_t>();
    p.last_error = rows[0][4].c_str();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the progress of "
                                     + target.state_source + " "
                                     + target.resource);
  }
  return p;
}

void import_store::begin(const import_target& target,
                         const page_cursor& cursor) {
  try {
    pqxx::work tx{impl_->conn, "import_begin"};
    save_cursor(tx, target, cursor);
    tx.commit();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot start the import of "
                                     + target.resource);
  }
}

namespace {

// The last occurrence of a key in a contacts page wins, as if the items
// had been merged one by one.
constexpr const char* last_contacts_sql
  = "WITH last AS (SELECT DISTINCT ON (key) * FROM import_contacts "
    "ORDER BY key, ord DESC) ";

// A contact's date of one kind as staging columns (month, day, year), all
// NULL when it has none.
using staged_date_columns
  = std::tuple<std::optional<int>, std::optional<int>, std::optional<int>>;

staged_date_columns staged_date(const imported_contact& c,
                                contact_date_kind kind) {
  for (auto& d : c.dates)
    if (d.kind == kind)
      return {d.month, d.day, d.year};
  return {};
}

// Copies a contacts page into the staging table: the contacts, then the
// deleted keys.
void stage_contacts(pqxx::transaction_base& tx,
                    const std::vector<imported_contact>& contacts,
                    const std::vector<std::string>& deleted_keys) {
  pqxx::stream_to stage{tx, "import_contacts",
                        std::vector<std::string>{
                          "ord", "key", "deleted", "name", "email",
                          "phone", "linked_in", "instagram", "x_handle",
                          "other_social", "location", "organization",
                          "notes", "revision", "groups", "birthday_month",
                          "birthday_day", "birthday_year",
                          "anniversary_month", "anniversary_day",
                          "anniversary_year"}};
  int ord = 0;
  for (auto& c : contacts) {
    const auto birthday = staged_date(c, contact_date_kind::birthday);
    const auto anniversary = staged_date(c, contact_date_kind::anniversary);
    stage << std::tuple_cat(
      std::make_tuple(
        ord++, c.key, false, c.name, null_if_empty(c.email),
        null_if_empty(c.phone), null_if_empty(c.linked_in),
        null_if_empty(c.instagram), null_if_empty(c.x_handle),
        social_json(c), null_if_empty(c.location),
        null_if_empty(c.organization), null_if_empty(c.notes),
        null_if_empty(c.revision), detail::array_literal(c.groups)),
      birthday, anniversary);
  }
  const staged_date_columns no_date;
  for (auto& key : deleted_keys)
    stage << std::tuple_cat(
      std::make_tuple(ord++, key, true, nullptr, nullptr, nullptr, nullptr,
                      nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                      nullptr, nullptr),
      no_date, no_date);
  stage.complete();
}

// Groups by name, with ids derived like the contacts'; a group the user
// already has (by name) is kept with its id.
void add_staged_groups(pqxx::transaction_base& tx,
                       const import_target& target,
                       const std::vector<imported_contact>& contacts) {
  bool any_groups = false;
  for (auto& c : contacts)
    any_groups = any_groups || !c.groups.empty();
  if (any_groups)
    tx.exec_params(
      "INSERT INTO groups (id, user_id, name) "
      "SELECT DISTINCT md5($1 || '/group/' || g)::uuid, $1::uuid, g "
      "FROM import_contacts, unnest(groups) g WHERE NOT deleted "
      "AND g <> '' ON CONFLICT DO NOTHING",
      target.user_id);
}

// One statement upserts the staged contacts and adds their memberships
// from the ids the upsert returns, so no statement looks contacts up by
// key (a join the planner, with a bulk import's stale statistics, would
// run as a scan of all the user's contacts). Memberships are only added,
// so groups the user arranged by hand stay.
void upsert_staged_contacts(pqxx::transaction_base& tx,
                            const import_target& target,
                            const std::string& key_column,
                            page_outcome& out) {
  auto merged = tx.exec_params(
    last_contacts_sql
      + std::string{
        ", merged AS (INSERT INTO contacts AS c (id, user_id, name, email, "
        "phone, linked_in, instagram, x_handle, other_social_media, "
        "location, organization, custom_notes, source, sources, "}
      + key_column
      + ", external_revision, last_synced_at, created_at) "
        "SELECT md5($1 || '/' || $2 || '/' || key)::uuid, $1::uuid, name, "
        "email, phone, linked_in, instagram, x_handle, other_social, "
        "location, organization, notes, $2, ARRAY[$2], key, revision, "
        "now(), coalesce(to_timestamp(nullif($3::bigint, 0)), now()) "
        "FROM last WHERE NOT deleted "
        "ON CONFLICT (user_id, " + key_column + ") WHERE " + key_column
      + " IS NOT NULL DO UPDATE SET name = EXCLUDED.name, "
        "email = EXCLUDED.email, phone = EXCLUDED.phone, "
        "linked_in = EXCLUDED.linked_in, instagram = EXCLUDED.instagram, "
        "x_handle = EXCLUDED.x_handle, "
        "other_social_media = EXCLUDED.other_social_media, "
        "location = EXCLUDED.location, "
        "organization = EXCLUDED.organization, "
        "custom_notes = EXCLUDED.custom_notes, "
        "external_revision = EXCLUDED.external_revision, "
        "sources = CASE WHEN $2 = ANY (c.sources) THEN c.sources "
        "ELSE c.sources || $2 END, "
        "last_synced_at = EXCLUDED.last_synced_at, "
        // A contact counts as added at its earliest import.
        "created_at = least(c.created_at, EXCLUDED.created_at) "
        "RETURNING c.id, c." + key_column + " AS key, (xmax = 0) AS fresh), "
        "joined AS (INSERT INTO contact_groups (user_id, contact_id, "
        "group_id) SELECT DISTINCT $1::uuid, m.id, g.id FROM merged m "
        "JOIN last s ON s.key = m.key CROSS JOIN unnest(s.groups) gn "
        "JOIN groups g ON g.user_id = $1::uuid AND g.name = gn "
        "ON CONFLICT DO NOTHING), "
        // A date given replaces the stored one of its kind; a kind not
        // given leaves the stored one alone.
        "dated AS (INSERT INTO contact_dates AS d (user_id, contact_id, "
        "kind, month, day, year) SELECT $1::uuid, m.id, v.kind, v.month, "
        "v.day, v.year FROM merged m JOIN last s ON s.key = m.key "
        "CROSS JOIN LATERAL (VALUES ('birthday', s.birthday_month, "
        "s.birthday_day, s.birthday_year), ('anniversary', "
        "s.anniversary_month, s.anniversary_day, s.anniversary_year)) "
        "v (kind, month, day, year) WHERE v.month IS NOT NULL "
        "ON CONFLICT (contact_id, kind) DO UPDATE SET month = "
        "EXCLUDED.month, day = EXCLUDED.day, year = EXCLUDED.year) "
        "SELECT fresh FROM merged",
    target.user_id, target.source, target.now_unix_s);
  for (auto row : merged)
    (row[0].as<bool>() ? out.inserted : out.updated) += 1;
}

// The statements of one contacts page (or one item of it) in `tx`. With
// `clear_staging`, staged rows of earlier items of the transaction go first.
page_outcome merge_contacts_in(pqxx::transaction_base& tx,
                               const import_target& target,
                               const std::vector<imported_contact>& contacts,
                               const std::vector<std::string>& deleted_keys,
                               bool clear_staging) {
  page_outcome out;
  const bool google = target.source == "google";
  const std::string key_column = google ? "google_resource_name"
                                        : "external_uid";
  if (clear_staging)
    tx.exec0("DELETE FROM import_contacts");
  stage_contacts(tx, contacts, deleted_keys);
  // "key IS NOT NULL" lets the planner use the partial unique index on
  // the key (it does not infer it from the join condition).
  if (!deleted_keys.empty()) {
    auto deleted = tx.exec_params(
      last_contacts_sql
        + std::string{"DELETE FROM contacts c USING last WHERE last.deleted "
                      "AND c.user_id = $1::uuid AND c."}
        + key_column + " IS NOT NULL AND c." + key_column + " = last.key",
      target.user_id);
    out.deleted = static_cast<std::int64_t>(deleted.affected_rows());
  }
  add_staged_groups(tx, target, contacts);
  upsert_staged_contacts(tx, target, key_column, out);
  return out;
}

} // namespace

page_outcome
import_store::merge_contacts(const import_target& target,
                             const std::vector<imported_contact>& contacts,
                             const std::vector<std::string>& deleted_keys,
                             const page_cursor& cursor,
                             bool isolate_failing_items) {
  const auto context = "cannot merge a page of contacts into user "
                       + target.user_id;
  try {
    pqxx::work tx{impl_->conn, "import_contacts"};
    auto out = merge_contacts_in(tx, target, contacts, deleted_keys, false);
    save_cursor(tx, target, cursor);
    tx.commit();
    return out;
  } catch (const pqxx::sql_error& e) {
    if (!isolate_failing_items || !caused_by_data(e))
      detail::rethrow_as_storage_error(context);
  } catch (...) {
    detail::rethrow_as_storage_error(context);
  }
  // One item's data broke the page: merge item by item, each under a
  // savepoint, so only the items the database refuses are left out.
  try {
    pqxx::work tx{impl_->conn, "import_contacts_by_item"};
    page_outcome out;
    for (std::size_t i = 0; i < contacts.size(); ++i) {
      try {
        pqxx::subtransaction item{tx, "import_contact"};
        add(out, merge_contacts_in(item, target, {contacts[i]}, {}, true));
        item.commit();
      } catch (const pqxx::sql_error& e) {
        if (!caused_by_data(e))
          throw;
        out.failed.push_back({i, refusal(e)});
      }
    }
    if (!deleted_keys.empty())
      add(out, merge_contacts_in(tx, target, {}, deleted_keys, true));
    save_cursor(tx, target, cursor);
    tx.commit();
    return out;
  } catch (...) {
    detail::rethrow_as_storage_error(context);
  }
}

namespace {

// The last occurrence of an event in a page wins, as if the items had been
// merged one by one.
constexpr const char* last_events_sql
  = "WITH last AS (SELECT DISTINCT ON (external_id) * FROM import_events "
    "ORDER BY external_id, ord DESC) ";

void stage_events(pqxx::transaction_base& tx,
                  const std::vector<calendar_event_item>& events) {
  pqxx::stream_to stage{tx, "import_events",
                        std::vector<std::string>{
                          "ord", "external_id", "series_id", "summary",
                          "location", "timezone", "start_s", "end_s",
                          "all_day", "busy", "cancelled", "attendees"}};
  int ord = 0;
  for (auto& e : events)
    stage << std::make_tuple(
      ord++, e.external_id, e.series_id.empty() ? e.external_id
                                                : e.series_id,
      null_if_empty(e.summary), null_if_empty(e.location),
      null_if_empty(e.timezone), e.start_unix_s,
      std::max(e.end_unix_s, e.start_unix_s), e.all_day, e.busy,
      e.cancelled, detail::array_literal(e.attendee_emails));
  stage.complete();
}

// Deletes the staged cancelled events; a cancelled series (with
// `series`) takes its instances with it. Returns the rows deleted.
std::int64_t delete_cancelled(pqxx::transaction_base& tx,
                              const import_target& target, bool series) {
  // A series is cancelled rarely, so a scan of the calendar's rows is
  // fine; a prefix range would depend on the database's collation.
  auto deleted = tx.exec_params(
    last_events_sql
      + std::string{
        series ? "DELETE FROM calendar_events e USING last WHERE "
                 "last.cancelled AND last.external_id = last.series_id AND "
                 "e.user_id = $1::uuid AND e.calendar_id = $2 AND "
                 "starts_with(e.external_id, last.series_id || '/')"
               : "DELETE FROM calendar_events e USING last WHERE "
                 "last.cancelled AND e.user_id = $1::uuid AND "
                 "e.calendar_id = $2 AND e.external_id = last.external_id"},
    target.user_id, target.calendar_id);
  return static_cast<std::int64_t>(deleted.affected_rows());
}

void upsert_staged_events(pqxx::transaction_base& tx,
                          const import_target& target, page_outcome& out) {
  auto merged = tx.exec_params(
    last_events_sql
      + std::string{
        "INSERT INTO calendar_events AS e (id, user_id, calendar_id, "
        "external_id, source, summary, location, start_time, end_time, "
        "timezone, is_all_day, is_busy, synced_at) "
        "SELECT md5($1 || '/' || $2 || '/' || external_id)::uuid, "
        "$1::uuid, $2, external_id, $3, summary, location, "
        "to_timestamp(start_s), to_timestamp(end_s), timezone, all_day, "
        "busy, now() FROM last WHERE NOT cancelled "
        "ON CONFLICT (user_id, calendar_id, external_id) DO UPDATE SET "
        "source = EXCLUDED.source, summary = EXCLUDED.summary, "
        "location = EXCLUDED.location, start_time = EXCLUDED.start_time, "
        "end_time = EXCLUDED.end_time, timezone = EXCLUDED.timezone, "
        "is_all_day = EXCLUDED.is_all_day, is_busy = EXCLUDED.is_busy, "
        "synced_at = EXCLUDED.synced_at RETURNING (xmax = 0)"},
    target.user_id, target.calendar_id, target.source);
  for (auto row : merged)
    (row[0].as<bool>() ? out.inserted : out.updated) += 1;
}

// Meeting someone is catching up with them: the latest past event of each
// staged attendee moves that contact's clock forward, never back. The
// user's own address is not a contact to catch up with. Returns the
// contacts moved.
std::int64_t move_last_contact(pqxx::transaction_base& tx,
                               const import_target& target,
                               std::int64_t now_unix_s) {
  // One index probe per attendee (the LATERAL subquery, kept apart by
  // OFFSET 0), whatever the statistics say: right after a bulk import
  // they describe a far smaller contacts table, and the plain join was
  // planned as a scan of all the user's contacts for every page.
  auto moved = tx.exec_params(
    "UPDATE contacts c SET last_contact_date = to_timestamp(h.start_s) "
    "FROM (SELECT t.id, m.start_s "
    "      FROM (SELECT lower(a) AS email, max(s.start_s) AS start_s "
    "            FROM import_events s CROSS JOIN unnest(s.attendees) a "
    "            WHERE NOT s.cancelled AND s.end_s <= $2 "
    "            AND s.start_s >= 0 GROUP BY 1) m "
    "      CROSS JOIN LATERAL ("
    "        SELECT k.id FROM contacts k WHERE k.user_id = $1::uuid "
    "        AND lower(k.email) = m.email "
    "        AND (k.last_contact_date IS NULL "
    "             OR k.last_contact_date < to_timestamp(m.start_s)) "
    "        OFFSET 0) t "
    "      WHERE m.email <> (SELECT lower(u.email) FROM users u "
    "                        WHERE u.id = $1::uuid)) h "
    "WHERE c.id = h.id",
    target.user_id, now_unix_s);
  return static_cast<std::int64_t>(moved.affected_rows());
}

// The statements of one events page (or one item of it) in `tx`.
page_outcome merge_events_in(pqxx::transaction_base& tx,
                             const import_target& target,
                             const std::vector<calendar_event_item>& events,
                             std::int64_t now_unix_s, bool clear_staging) {
  page_outcome out;
  if (clear_staging)
    tx.exec0("DELETE FROM import_events");
  stage_events(tx, events);
  bool any_cancelled = false;
  bool any_cancelled_series = false;
  bool any_past_attendees = false;
  for (auto& e : events) {
    any_cancelled = any_cancelled || e.cancelled;
    any_cancelled_series = any_cancelled_series
                           || (e.cancelled && e.external_id == e.series_id);
    any_past_attendees = any_past_attendees
                         || (!e.cancelled && e.end_unix_s <= now_unix_s
                             && !e.attendee_emails.empty());
  }
  if (any_cancelled)
    out.deleted = delete_cancelled(tx, target, false);
  if (any_cancelled_series)
    out.deleted += delete_cancelled(tx, target, true);
  upsert_staged_events(tx, target, out);
  if (any_past_attendees)
    out.last_contact_moved = move_last_contact(tx, target, now_unix_s);
  return out;
}

} // namespace

page_outcome
import_store::merge_events(const import_target& target,
                           const std::vector<calendar_event_item>& events,
                           const page_cursor& cursor,
                           std::int64_t now_unix_s,
                           bool isolate_failing_items) {
  const auto context = "cannot merge a page of events into user "
                       + target.user_id;
  try {
    pqxx::work tx{impl_->conn, "import_events"};
    auto out = merge_events_in(tx, target, events, now_unix_s, false);
    save_cursor(tx, target, cursor);
    tx.commit();
    return out;
  } catch (const pqxx::sql_error& e) {
    if (!isolate_failing_items || !caused_by_data(e))
      detail::rethrow_as_storage_error(context);
  } catch (...) {
    detail::rethrow_as_storage_error(context);
  }
  // As for contacts: item by item, each under a savepoint.
  try {
    pqxx::work tx{impl_->conn, "import_events_by_item"};
    page_outcome out;
    for (std::size_t i = 0; i < events.size(); ++i) {
      try {
        pqxx::subtransaction item{tx, "import_event"};
        add(out, merge_events_in(item, target, {events[i]}, now_unix_s, true));
        item.commit();
      } catch (const pqxx::sql_error& e) {
        if (!caused_by_data(e))
          throw;
        out.failed.push_back({i, refusal(e)});
      }
    }
    save_cursor(tx, target, cursor);
    tx.commit();
    return out;
  } catch (...) {
    detail::rethrow_as_storage_error(context);
  }
}

std::int64_t import_store::sweep_unseen(const import_target& target,
                                        std::int64_t started_unix_us,
                                        std::int64_t window_from_unix_s,
                                        std::int64_t window_to_unix_s) {
  try {
    pqxx::work tx{impl_->conn, "import_sweep"};
    pqxx::result r;
    auto since = std::to_string(started_unix_us);
    if (target.state_source == "google_contacts")
      r = tx.exec_params(
        "DELETE FROM contacts WHERE user_id = $1::uuid AND "
        "google_resource_name IS NOT NULL AND "
        "last_synced_at < to_timestamp($2::bigint / 1e6)",
        target.user_id, since);
    else
      r = tx.exec_params(
        "DELETE FROM calendar_events WHERE user_id = $1::uuid AND "
        "calendar_id = $2 AND source = $3 AND "
        "(synced_at IS NULL OR synced_at < to_timestamp($4::bigint / 1e6)) "
        "AND ($5::bigint = $6::bigint OR (end_time > to_timestamp($5) AND "
        "start_time < to_timestamp($6)))",
        target.user_id, target.calendar_id, target.source, since,
        window_from_unix_s, window_to_unix_s);
    tx.commit();
    return static_cast<std::int64_t>(r.affected_rows());
  } catch (...) {
    detail::rethrow_as_storage_error("cannot remove rows a full sync of "
                                     + target.state_source
                                     + " no longer has");
  }
}

void import_store::finish(const import_target& target, bool succeeded,
                          const std::optional<std::string>& sync_token,
                          const std::string& error, bool full_sync) {
  try {
    pqxx::work tx{impl_->conn, "import_finish"};
    if (succeeded)
      tx.exec_params(
        "INSERT INTO sync_state (user_id, source, resource, status) "
        "VALUES ($1::uuid, $2, $3, 'succeeded') "
        "ON CONFLICT (user_id, source, resource) DO UPDATE SET "
        "status = 'succeeded', resume_cursor = NULL, last_error = NULL, "
        "sync_token = CASE WHEN $4 THEN $5 ELSE sync_state.sync_token END, "
        "last_full_sync_at = CASE WHEN $6 THEN now() "
        "  ELSE sync_state.last_full_sync_at END, "
        "last_incremental_sync_at = CASE WHEN $6 "
        "  THEN sync_state.last_incremental_sync_at ELSE now() END",
        target.user_id, target.state_source, target.resource,
        sync_token.has_value(), sync_token.value_or(std::string{}),
        full_sync);
    else
      tx.exec_params(
        "INSERT INTO sync_state (user_id, source, resource, status, "
        "last_error) VALUES ($1::uuid, $2, $3, 'failed', $4) "
        "ON CONFLICT (user_id, source, resource) DO UPDATE SET "
        "status = 'failed', last_error = $4",
        target.user_id, target.state_source, target.resource, error);
    tx.commit();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot record the end of the import of "
                                     + target.resource);
  }
}

void import_store::refresh_statistics(const import_target& target) {
  try {
    pqxx::nontransaction tx{impl_->conn};
    tx.exec0(target.calendar_id.empty()
               ? "ANALYZE contacts, groups, contact_groups"
               : "ANALYZE calendar_events");
  } catch (...) {
    detail::rethrow_as_storage_error("cannot refresh statistics after an "
                                     "import");
  }
}

std::int64_t import_store::now_unix_us() {
  try {
    pqxx::nontransaction tx{impl_->conn};
    return tx
      .exec1("SELECT (extract(epoch from clock_timestamp()) * 1e6)::bigint")[0]
      .as<std::int64_t>();
  } catch (...) {
    detail::rethrow_as_storage_error("cannot read the database clock");
  }
}

} // namespace catchup::storage
