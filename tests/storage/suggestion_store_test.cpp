// SPDX-License-Identifier: Apache-2.0
// Saving generations against real PostgreSQL: saves for the same user at
// the same time (a job rescued from a hung node running twice at once)
// leave one pending suggestion per contact, never two.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/storage_error.hpp"
#include "storage/migrations.hpp"
#include "storage/session.hpp"
#include "tests/support/run_together.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

constexpr std::int64_t now_unix_s = 1795000000; // 2026-11-18T11:06:40Z
constexpr std::int64_t hour_s = 3600;

std::int64_t number(const test::test_database& db, const std::string& sql) {
  return std::stoll(db.query(sql).at(0));
}

// A generation suggesting every one of `contacts`, tagged with `label` so
// that the rows of each save can be told apart.
generation_output generation_for(const std::string& user_id,
                                 const std::vector<std::string>& contacts,
                                 const std::string& label) {
  generation_output out;
  out.now_unix_s = now_unix_s;
  out.result.user_id = user_id;
  std::int32_t rank = 0;
  for (auto& contact : contacts) {
    suggestion_record s;
    s.contact_id = contact;
    s.rank = ++rank;
    s.priority = 1.0 / rank;
    s.slot_start_unix_s = now_unix_s + rank * hour_s;
    s.slot_end_unix_s = s.slot_start_unix_s + hour_s / 2;
    s.slot_timezone = "UTC";
    s.reason = label;
    out.result.items.push_back(s);
  }
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_suggestion_store)

BOOST_AUTO_TEST_CASE(saves_for_one_user_at_once_leave_one_pending_per_contact) {
  // Without the user lock, about half the rounds left duplicates here (20
  // to 22 of 40 in three runs), so a pass by luck is out of the question.
  constexpr int rounds = 40;
  constexpr int contacts_total = 5;
  test::test_database db;
  migrate(db.url());
  auto user = db.query("INSERT INTO users (email) VALUES "
                       "('ada@example.org') RETURNING id")[0];
  auto contacts = db.query(
    "INSERT INTO contacts (user_id, name) SELECT '" + user
    + "', 'c' || g FROM generate_series(1, "
    + std::to_string(contacts_total) + ") g RETURNING id");
  std::vector<std::unique_ptr<session>> sessions;
  for (int i = 0; i < 2; ++i)
    sessions.push_back(std::make_unique<session>(db.url()));
  const std::string duplicates_sql
    = "SELECT count(*) FROM (SELECT contact_id FROM suggestions "
      "WHERE user_id = '" + user + "' AND status = 'pending' "
      "GROUP BY contact_id HAVING count(*) > 1) d";
  const std::string pending_sql
    = "SELECT count(*) FROM suggestions WHERE user_id = '" + user
      + "' AND status = 'pending'";
  const std::string pending_generations_sql
    = "SELECT count(DISTINCT generation_id) FROM suggestions "
      "WHERE user_id = '" + user + "' AND status = 'pending'";
  int rounds_with_duplicates = 0;
  int rounds_not_replaced = 0;
  for (int round = 0; round < rounds; ++round) {
    std::vector<std::string> generation_ids(2);
    test::run_together(2, [&](int i) {
      auto label = "round " + std::to_string(round) + " save "
                   + std::to_string(i);
      generation_ids[static_cast<std::size_t>(i)]
        = sessions[static_cast<std::size_t>(i)]->save_generation(
          generation_for(user, contacts, label));
    });
    BOOST_TEST(generation_ids[0] != generation_ids[1]);
    if (number(db, duplicates_sql) > 0)
      ++rounds_with_duplicates;
    // Whichever save committed last replaced the other's rows entirely.
    if (number(db, pending_sql) != contacts_total
        || number(db, pending_generations_sql) != 1)
      ++rounds_not_replaced;
  }
  BOOST_TEST_MESSAGE(rounds << " rounds of two saves at once: "
                            << rounds_with_duplicates
                            << " left duplicate pending suggestions");
  BOOST_TEST(rounds_with_duplicates == 0);
  BOOST_TEST(rounds_not_replaced == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM generations") == 2 * rounds);
}

BOOST_AUTO_TEST_CASE(saving_for_a_missing_user_is_not_found) {
  test::test_database db;
  migrate(db.url());
  session s{db.url()};
  try {
    s.save_generation(
      generation_for("00000000-0000-4000-8000-000000000000", {}, "none"));
    BOOST_FAIL("saved a generation for a missing user");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::not_found));
    BOOST_TEST(std::string{e.what()}.find(
                 "no user 00000000-0000-4000-8000-000000000000")
               != std::string::npos);
  }
  BOOST_TEST(number(db, "SELECT count(*) FROM generations") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
