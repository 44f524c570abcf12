// SPDX-License-Identifier: Apache-2.0
// The contact streams against real PostgreSQL: the priority stream returns
// exactly the brute-force top contacts, and every ordered stream returns
// each non-archived contact once in batches never above N. Data comes from
// the deterministic seeder; the reference ranks every contact in memory.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

#include "core/priority.hpp"
#include "storage/migrations.hpp"
#include "storage/seed.hpp"
#include "storage/session.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

constexpr std::int64_t now = 1795000000; // 2026-11-18T09:46:40Z

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

} // namespace

BOOST_AUTO_TEST_SUITE(storage_contact_repository)

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
        auto c = to_candidate(r, now);
        if (is_due(c.days, c.preference.value_or(default_frequency)))
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
