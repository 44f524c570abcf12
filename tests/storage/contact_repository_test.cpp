// SPDX-License-Identifier: Apache-2.0
// The contact streams against real PostgreSQL: the priority stream returns
// exactly the brute-force top contacts, and every ordered stream returns
// each non-archived contact once in batches never above N. Data comes from
// the deterministic seeder; the reference ranks every contact in memory.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "core/priority.hpp"
#include "storage/storage_error.hpp"
#include "storage/migrations.hpp"
#include "storage/seed.hpp"
#include "storage/session.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

constexpr std::int64_t now = 1795000000; // 2026-11-18T11:06:40Z

std::vector<contact_record> read_all(session& db, stream_cursor cursor,
                                     std::size_t n) {
  std::vector<contact_record> out;
  while (!cursor.done) {
    auto batch = db.next_batch(cursor, n);
    BOOST_TEST(batch.rows.size() <= n);
    for (auto& r : batch.rows)
      out.push_back(r);
    cursor = batch.next;
  }
  return out;
}

// Fills a new user with `contacts` random contacts built for ties: last
// contacts on a few hundred distinct days at three times of day (so equal
// timestamps and equal days overdue across classes are common), ~10% never
// contacted, every class and no preference, ~5% archived; then excludes,
// snoozes and accepts some. Returns the user id.
std::string random_user(test::test_database& tdb, int dataset, int contacts) {
  auto seed = std::to_string(0.01 * dataset);
  auto user = tdb.query("INSERT INTO users (email) VALUES ('r"
                        + std::to_string(dataset)
                        + "@example.org') RETURNING id")[0];
  auto n = std::to_string(now);
  // One round trip: setseed holds for its session only.
  tdb.query(
    "SELECT setseed(" + seed + "); "
    "WITH r AS (SELECT i, random() AS a, random() AS b, random() AS c, "
    "  random() AS d FROM generate_series(1, " + std::to_string(contacts)
    + ") i) "
    "INSERT INTO contacts (user_id, name, last_contact_date, "
    "  frequency_preference, archived_at) "
    "SELECT '" + user + "', 'n' || i, "
    "  CASE WHEN a < 0.1 THEN NULL ELSE to_timestamp(" + n
    + " - floor(b * 420)::bigint * 86400 - floor(c * 3)::bigint * 3600) END, "
    "  (ARRAY[NULL, 'daily', 'weekly', 'biweekly', 'monthly', 'quarterly', "
    "   'yearly', 'flexible', 'na'])[1 + floor(d * 9)::int]::frequency_option, "
    "  CASE WHEN (a * 1000)::int % 20 = 7 THEN to_timestamp(" + n + ") END "
    "FROM r RETURNING 1");
  auto suggestion = [&](const std::string& status, const std::string& extra,
                        double from, double to) {
    tdb.query("INSERT INTO suggestions (user_id, contact_id, status, "
              "priority, slot_start, slot_end, slot_timezone, reason, "
              "snoozed_until) "
              "SELECT user_id, id, '" + status + "', 100, " + extra
              + ", 'UTC', 'test', to_timestamp(" + n + " + 86400) "
              "FROM (SELECT user_id, id, row_number() OVER (ORDER BY id) k, "
              "count(*) OVER () t FROM contacts WHERE user_id = '" + user
              + "') c WHERE k > t * " + std::to_string(from) + " AND k <= t * "
              + std::to_string(to) + " RETURNING 1");
  };
  auto at = [&](std::int64_t offset) {
    return "to_timestamp(" + std::to_string(now + offset) + ")";
  };
  // Skipped: snoozed into the future, accepted for an upcoming slot.
  suggestion("snoozed", at(-7200) + ", " + at(-3600), 0.00, 0.02);
  suggestion("accepted", at(3600) + ", " + at(7200), 0.02, 0.04);
  // Not skipped: an accepted slot that has passed, a dismissed one.
  suggestion("accepted", at(-7200) + ", " + at(-3600), 0.04, 0.06);
  suggestion("dismissed", at(3600) + ", " + at(7200), 0.06, 0.08);
  tdb.query("INSERT INTO suggestion_exclusions (user_id, contact_id) "
            "SELECT user_id, id FROM contacts WHERE user_id = '" + user
            + "' AND name LIKE '%3' RETURNING 1");
  return user;
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_contact_repository)

BOOST_AUTO_TEST_CASE(priority_stream_is_exact_on_random_datasets_full_of_ties) {
  test::test_database tdb;
  migrate(tdb.url());
  session db{tdb.url()};
  std::size_t tied = 0;
  std::size_t due_total = 0;
  for (int dataset = 1; dataset <= 12; ++dataset) {
    auto size = 50 + (dataset * 397) % 1500;
    auto user = random_user(tdb, dataset, size);
    std::set<std::string> skipped;
    for (auto& id : tdb.query(
           "SELECT contact_id FROM suggestion_exclusions WHERE user_id = '"
           + user + "' UNION SELECT contact_id FROM suggestions WHERE "
           "user_id = '" + user + "' AND ((status = 'snoozed' AND "
           "snoozed_until > to_timestamp(" + std::to_string(now)
           + ")) OR (status = 'accepted' AND slot_end > to_timestamp("
           + std::to_string(now) + ")))"))
      skipped.insert(id);
    BOOST_REQUIRE(!skipped.empty());
    auto all = read_all(db, session::open_ordered(user, contact_order::name,
                                                  false, false),
                        1000);
    std::vector<candidate> due;
    for (auto& r : all) {
      auto c = to_candidate(r, now, 30);
      if (skipped.count(r.id) == 0 && c.days >= c.cadence.days)
        due.push_back(c);
    }
    std::sort(due.begin(), due.end(), ranks_before);
    for (std::size_t i = 1; i < due.size(); ++i)
      tied += due[i].priority == due[i - 1].priority ? 1 : 0;
    due_total += due.size();
    // Batch sizes below, near and above the due set (K smaller and larger).
    for (std::size_t n : {1u, 3u, 28u, 50u, 4000u}) {
      if (n == 1 && dataset > 3)
        continue; // one row per pull is slow; three datasets suffice
      auto streamed = read_all(db, session::open_priority(user, now), n);
      BOOST_REQUIRE_EQUAL(streamed.size(), due.size());
      for (std::size_t i = 0; i < due.size(); ++i)
        BOOST_REQUIRE_MESSAGE(streamed[i].id == due[i].contact_id,
                              "dataset " << dataset << ", rank " << i
                                         << ", batch " << n);
    }
  }
  // Ties must really occur, or this test proves less than it claims.
  BOOST_TEST(tied > due_total / 10, tied << " ties among " << due_total);
}

BOOST_AUTO_TEST_CASE(streams_stay_exact_while_rows_are_inserted) {
  test::test_database tdb;
  migrate(tdb.url());
  seed_options opts;
  opts.users = 1;
  opts.contacts_per_user = 600;
  opts.now_unix_s = now;
  auto user = seed(tdb.url(), opts).user_ids.front();
  auto before = tdb.query("SELECT id FROM contacts WHERE archived_at IS NULL "
                          "AND user_id = '" + user + "'");
  session db{tdb.url()};
  session writer{tdb.url()};
  for (auto order : {contact_order::last_contact, contact_order::name,
                     contact_order::created_at})
    for (bool desc : {false, true}) {
      // Between every two pulls another connection inserts contacts that
      // sort anywhere: before, at and after the stream's position.
      std::map<std::string, int> seen;
      auto cursor = session::open_ordered(user, order, desc, false);
      int pulls = 0;
      while (!cursor.done) {
        auto batch = db.next_batch(cursor, 25);
        BOOST_TEST(batch.rows.size() <= 25u);
        for (auto& r : batch.rows)
          ++seen[r.id];
        cursor = batch.next;
        tdb.query("INSERT INTO contacts (user_id, name, last_contact_date, "
                  "created_at) SELECT '" + user + "', chr(65 + (i * 7 + "
                  + std::to_string(pulls) + ") % 58) || 'new', "
                  "to_timestamp(" + std::to_string(now) + " - i * 86400 * 37), "
                  "to_timestamp(" + std::to_string(now) + " - i * 86400 * 41) "
                  "FROM generate_series(1, 3) i RETURNING 1");
        ++pulls;
      }
      for (auto& [id, times] : seen)
        BOOST_TEST(times == 1, id << " returned " << times << " times");
      for (auto& id : before)
        BOOST_TEST(seen.count(id) == 1u, id << " missing");
    }
}

BOOST_AUTO_TEST_CASE(bulk_streams_read_one_snapshot_in_keyset_order) {
  test::test_database tdb;
  migrate(tdb.url());
  seed_options opts;
  opts.users = 1;
  opts.contacts_per_user = 500;
  opts.now_unix_s = now;
  auto user = seed(tdb.url(), opts).user_ids.front();
  session db{tdb.url()};
  for (auto order : {contact_order::last_contact, contact_order::name,
                     contact_order::created_at})
    for (bool desc : {false, true}) {
      auto keyset = read_all(db, session::open_ordered(user, order, desc,
                                                       true),
                             1000);
      std::vector<contact_record> bulk;
      auto cursor = session::open_bulk(user, order, desc, true);
      bool inserted = false;
      while (!cursor.done) {
        auto batch = db.next_bulk(cursor, 40);
        BOOST_TEST(batch.rows.size() <= 40u);
        BOOST_TEST(batch.next.bulk_id != 0u);
        bulk.insert(bulk.end(), batch.rows.begin(), batch.rows.end());
        cursor = batch.next;
        if (!inserted) {
          // Not part of the stream's snapshot: never returned.
          tdb.query("INSERT INTO contacts (user_id, name) VALUES ('" + user
                    + "', 'Late') RETURNING 1");
          inserted = true;
        }
      }
      BOOST_REQUIRE_EQUAL(bulk.size(), keyset.size());
      for (std::size_t i = 0; i < bulk.size(); ++i) {
        BOOST_REQUIRE(bulk[i].id == keyset[i].id);
        BOOST_TEST(bulk[i].email == keyset[i].email);
      }
      BOOST_TEST(db.open_bulk_id() == 0u); // closed when done
    }
  // A finished stream cannot be pulled again.
  auto cursor = session::open_bulk(user, contact_order::name, false, false);
  auto first = db.next_bulk(cursor, 10);
  db.close_bulk();
  try {
    db.next_bulk(first.next, 10);
    BOOST_FAIL("pulled a closed bulk stream");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::not_found));
  }
  // The session serves other reads again.
  BOOST_TEST(!db.list_users(false).empty());
}

BOOST_AUTO_TEST_CASE(a_calendar_beyond_the_event_cap_counts_as_busy_after_it) {
  test::test_database tdb;
  migrate(tdb.url());
  auto user = tdb.query("INSERT INTO users (email) VALUES ('busy@example.org') "
                        "RETURNING id")[0];
  // One-minute events every two minutes from now on, more than the cap.
  auto count = busy_events_max + 300;
  tdb.query("INSERT INTO calendar_events (user_id, external_id, start_time, "
            "end_time) SELECT '" + user + "', 'e' || i, to_timestamp("
            + std::to_string(now) + " + i * 120), to_timestamp("
            + std::to_string(now) + " + i * 120 + 60) FROM generate_series(0, "
            + std::to_string(count - 1) + ") i RETURNING 1");
  session db{tdb.url()};
  auto ctx = db.load_user_context(user, now, 14);
  BOOST_REQUIRE_EQUAL(ctx.busy.size(), busy_events_max + 1);
  auto& last_read = ctx.busy[busy_events_max - 1];
  BOOST_TEST(last_read.start_unix_s
             == now + static_cast<std::int64_t>(busy_events_max - 1) * 120);
  // Everything from the last event read to the window's end is busy.
  BOOST_TEST(ctx.busy.back().start_unix_s == last_read.start_unix_s);
  BOOST_TEST(ctx.busy.back().end_unix_s == now + 14 * 86400);
}

BOOST_AUTO_TEST_CASE(priority_stream_equals_the_brute_force_ranking) {
  test::test_database tdb;
  migrate(tdb.url());
  for (std::uint64_t s : {3u, 11u}) {
    seed_options opts;
    opts.users = 2;
    opts.contacts_per_user = 1500;
    opts.seed = s;
    opts.now_unix_s = now;
    auto seeded = seed(tdb.url(), opts);
    session db{tdb.url()};
    for (auto& user : seeded.user_ids) {
      // Reference: every non-archived contact, due ones ranked.
      auto all = read_all(db, session::open_ordered(user,
                                                    contact_order::name,
                                                    false, false),
                          97);
      std::vector<candidate> due;
      for (auto& r : all) {
        auto c = to_candidate(r, now, 30);
        if (c.days >= c.cadence.days)
          due.push_back(c);
      }
      std::sort(due.begin(), due.end(), ranks_before);
      for (std::size_t n : {1u, 7u, 50u, 100u}) {
        auto streamed = read_all(db, session::open_priority(user, now), n);
        BOOST_REQUIRE_EQUAL(streamed.size(), due.size());
        for (std::size_t i = 0; i < due.size(); ++i)
          BOOST_REQUIRE_MESSAGE(streamed[i].id == due[i].contact_id,
                                "rank " << i << " with batch " << n);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(ordered_streams_return_each_contact_once) {
  test::test_database tdb;
  migrate(tdb.url());
  seed_options opts;
  opts.users = 1;
  opts.contacts_per_user = 700;
  opts.now_unix_s = now;
  auto seeded = seed(tdb.url(), opts);
  auto& user = seeded.user_ids.front();
  auto expected = std::stoul(tdb.query(
    "SELECT count(*) FROM contacts WHERE archived_at IS NULL AND user_id = '"
    + user + "'")[0]);
  session db{tdb.url()};
  for (auto order : {contact_order::last_contact, contact_order::name,
                     contact_order::created_at})
    for (bool desc : {false, true}) {
      auto rows = read_all(db, session::open_ordered(user, order, desc, true),
                           64);
      BOOST_TEST(rows.size() == expected);
      std::set<std::string> ids;
      for (auto& r : rows) {
        ids.insert(r.id);
        BOOST_TEST(!r.archived);
      }
      BOOST_TEST(ids.size() == expected);
    }
}

BOOST_AUTO_TEST_SUITE_END()
