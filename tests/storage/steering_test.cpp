// SPDX-License-Identifier: Apache-2.0
// What a user steers, against real PostgreSQL: with custom cadences,
// inherited group cadences, importance weights, pauses, archives, new
// contacts counted from when they were added and dismissal cool-downs, the
// priority stream is exactly the ranking of a brute-force SQL oracle that
// computes every rule from the base tables (not from the derived columns
// the stream reads). And the steering calls refuse bad input by name.

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "core/frequency.hpp"
#include "core/priority.hpp"
#include "storage/migrations.hpp"
#include "storage/session.hpp"
#include "storage/steering_store.hpp"
#include "storage/storage_error.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

constexpr std::int64_t now = 1795000000; // 2026-11-18T11:06:40Z

std::vector<std::string> stream_ids(session& db, const std::string& user,
                                    std::int32_t default_cadence,
                                    std::int32_t cooldown, std::size_t n) {
  std::vector<std::string> out;
  auto cursor = session::open_priority(user, now, default_cadence, cooldown);
  while (!cursor.done) {
    auto batch = db.next_batch(cursor, n);
    BOOST_TEST(batch.rows.size() <= n);
    for (auto& r : batch.rows)
      out.push_back(r.id);
    cursor = batch.next;
  }
  return out;
}

// Every rule, from the base tables: the cadence is the contact's own
// (custom days or class), else the shortest of its live groups', else the
// user's default; the weight is the circle's; the due reference is the
// last contact, else when the contact was added.
std::vector<std::string> oracle_ids(test::test_database& tdb,
                                    const std::string& user) {
  auto n = std::to_string(now);
  return tdb.query(
    "WITH u AS (SELECT default_cadence_days AS dflt, "
    "  dismiss_cooldown_days AS cool FROM users WHERE id = '" + user + "'), "
    "x AS (SELECT c.id, coalesce(c.last_contact_date, c.created_at) AS ref, "
    "  coalesce(c.cadence_days, CASE c.frequency_preference "
    "    WHEN 'daily' THEN 1 WHEN 'weekly' THEN 7 WHEN 'biweekly' THEN 14 "
    "    WHEN 'monthly' THEN 30 WHEN 'quarterly' THEN 90 "
    "    WHEN 'yearly' THEN 365 WHEN 'flexible' THEN 60 WHEN 'na' THEN 365 "
    "    END, (SELECT min(g.cadence_days) FROM contact_groups cg "
    "    JOIN groups g ON g.id = cg.group_id WHERE cg.contact_id = c.id "
    "    AND g.archived_at IS NULL), u.dflt) AS cad, "
    "  CASE c.dunbar_circle WHEN 'inner' THEN 8 WHEN 'close' THEN 6 "
    "    WHEN 'active' THEN 5 WHEN 'casual' THEN 3 ELSE 4 END AS w, u.cool "
    "  FROM contacts c, u WHERE c.user_id = '" + user + "' "
    "  AND c.archived_at IS NULL "
    "  AND (c.paused_until IS NULL OR c.paused_until <= to_timestamp(" + n
    + ")) AND NOT EXISTS (SELECT 1 FROM suggestion_exclusions e "
    "    WHERE e.contact_id = c.id) "
    "  AND NOT EXISTS (SELECT 1 FROM suggestions s WHERE s.contact_id = c.id "
    "    AND ((s.status = 'accepted' AND s.slot_end > to_timestamp(" + n
    + ")) OR (s.status = 'snoozed' AND s.snoozed_until > to_timestamp(" + n
    + "))))), "
    "d AS (SELECT x.*, floor((" + n + " - extract(epoch from ref)) / 86400) "
    "  AS days FROM x) "
    "SELECT d.id FROM d WHERE d.days >= d.cad "
    "AND NOT EXISTS (SELECT 1 FROM suggestions s WHERE s.contact_id = d.id "
    "  AND s.status = 'dismissed' AND s.responded_at > to_timestamp(" + n
    + " - coalesce(d.cool, d.cad) * 86400)) "
    "ORDER BY (d.days - d.cad) * d.w DESC, d.ref, d.id");
}

// A user with `contacts` random contacts and every setting in play; ties
// are common (whole days, three times of day, shared added times).
std::string random_user(test::test_database& tdb, int dataset, int contacts) {
  auto n = std::to_string(now);
  auto user = tdb.query(
    "INSERT INTO users (email, default_cadence_days, dismiss_cooldown_days) "
    "VALUES ('s" + std::to_string(dataset) + "@example.org', "
    + std::to_string(std::vector<int>{7, 30, 45}[dataset % 3]) + ", "
    + (dataset % 2 ? "NULL" : "10") + ") RETURNING id")[0];
  tdb.query("INSERT INTO groups (user_id, name, cadence_days, archived_at) "
            "VALUES ('" + user + "', 'g10', 10, NULL), ('" + user
            + "', 'g21', 21, NULL), ('" + user + "', 'none', NULL, NULL), ('"
            + user + "', 'gone', 3, to_timestamp(" + n + ")) RETURNING 1");
  tdb.query(
    "SELECT setseed(" + std::to_string(0.013 * dataset) + "); "
    "WITH r AS (SELECT i, random() AS a, random() AS b, random() AS c, "
    "  random() AS d, random() AS e, random() AS f, random() AS g "
    "  FROM generate_series(1, " + std::to_string(contacts) + ") i) "
    "INSERT INTO contacts (user_id, name, email, last_contact_date, "
    "  frequency_preference, cadence_days, dunbar_circle, paused_until, "
    "  archived_at, created_at) "
    "SELECT '" + user + "', 'n' || i, 'n' || i || '@example.org', "
    "  CASE WHEN a < 0.25 THEN NULL ELSE to_timestamp(" + n
    + " - floor(b * 200)::bigint * 86400 - floor(c * 3)::bigint * 3600) END, "
    "  CASE WHEN d < 0.5 THEN (ARRAY['daily', 'weekly', 'biweekly', "
    "    'monthly', 'quarterly', 'yearly', 'flexible', 'na', NULL, NULL])"
    "    [1 + floor(e * 10)::int]::frequency_option END, "
    "  CASE WHEN d >= 0.5 AND d < 0.7 THEN (ARRAY[5, 12, 45])"
    "    [1 + floor(e * 3)::int] END, "
    "  (ARRAY['inner', 'close', 'active', 'casual', NULL])"
    "    [1 + floor(f * 5)::int]::dunbar_circle, "
    "  CASE WHEN g < 0.05 THEN to_timestamp(" + n + " + 86400) "
    "    WHEN g < 0.10 THEN to_timestamp(" + n + " - 86400) END, "
    "  CASE WHEN g > 0.95 THEN to_timestamp(" + n + ") END, "
    "  to_timestamp(" + n + " - floor(c * 90)::bigint * 86400 - 7200) "
    "FROM r RETURNING 1");
  // Memberships: about a third in g10, a third in g21, some in both, some
  // in the group without a cadence and in the archived one.
  tdb.query("INSERT INTO contact_groups (user_id, contact_id, group_id) "
            "SELECT c.user_id, c.id, g.id FROM contacts c JOIN groups g "
            "ON g.user_id = c.user_id WHERE c.user_id = '" + user + "' "
            "AND ((g.name = 'g10' AND hashtext(c.name) % 3 = 0) "
            "OR (g.name = 'g21' AND hashtext(c.name || 'x') % 3 = 0) "
            "OR (g.name = 'none' AND hashtext(c.name || 'y') % 4 = 0) "
            "OR (g.name = 'gone' AND hashtext(c.name || 'z') % 4 = 0)) "
            "RETURNING 1");
  auto suggestion = [&](const std::string& status, const std::string& extra,
                        const std::string& mod) {
    tdb.query("INSERT INTO suggestions (user_id, contact_id, status, "
              "priority, slot_start, slot_end, slot_timezone, reason, "
              "snoozed_until, responded_at) "
              "SELECT user_id, id, '" + status + "', 100, " + extra
              + " FROM contacts WHERE user_id = '" + user
              + "' AND hashtext(name || 's') % 17 = " + mod + " RETURNING 1");
  };
  auto at = [&](std::int64_t offset) {
    return "to_timestamp(" + std::to_string(now + offset) + ")";
  };
  auto slot = at(3600) + ", " + at(7200) + ", 'UTC', 'test', ";
  suggestion("snoozed", at(-7200) + ", " + at(-3600) + ", 'UTC', 'test', "
             + at(86400) + ", " + at(-86400), "1");
  suggestion("accepted", slot + "NULL, " + at(-86400), "2");
  // Dismissed 3, 8 and 40 days ago: inside or outside the cool-down
  // depending on the contact's cadence or the user's setting.
  suggestion("dismissed", slot + "NULL, " + at(-3 * 86400), "3");
  suggestion("dismissed", slot + "NULL, " + at(-8 * 86400), "4");
  suggestion("dismissed", slot + "NULL, " + at(-40 * 86400), "5");
  tdb.query("INSERT INTO suggestion_exclusions (user_id, contact_id) "
            "SELECT user_id, id FROM contacts WHERE user_id = '" + user
            + "' AND name LIKE '%3' RETURNING 1");
  return user;
}

void check_exact(test::test_database& tdb, session& db,
                 const std::string& user, int dataset) {
  auto settings = tdb.query("SELECT default_cadence_days || ',' || "
                            "coalesce(dismiss_cooldown_days, 0) FROM users "
                            "WHERE id = '" + user + "'")[0];
  auto comma = settings.find(',');
  auto dflt = std::stoi(settings.substr(0, comma));
  auto cool = std::stoi(settings.substr(comma + 1));
  auto expected = oracle_ids(tdb, user);
  BOOST_REQUIRE_GT(expected.size(), 10u);
  // Batches far below, near and above K, so that classes run out at
  // different pulls.
  for (std::size_t n : {7u, 50u, 5000u}) {
    auto streamed = stream_ids(db, user, dflt, cool, n);
    BOOST_REQUIRE_EQUAL(streamed.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i)
      BOOST_REQUIRE_MESSAGE(streamed[i] == expected[i],
                            "dataset " << dataset << ", rank " << i
                                       << ", batch " << n);
  }
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_steering)

BOOST_AUTO_TEST_CASE(class_days_agree_between_the_engine_and_the_schema) {
  test::test_database tdb;
  migrate(tdb.url());
  for (auto f : all_frequencies)
    BOOST_TEST(std::stoll(tdb.query("SELECT frequency_days('"
                                    + std::string{to_string(f)} + "')")[0])
               == threshold_days(f));
  for (std::string circle : {"inner", "close", "active", "casual", ""}) {
    auto sql = circle.empty()
                 ? std::string{"NULL"}
                 : "'" + circle + "'::dunbar_circle";
    BOOST_TEST(std::stoll(tdb.query(
                 "SELECT CASE " + sql + " WHEN 'inner' THEN 8 WHEN 'close' "
                 "THEN 6 WHEN 'active' THEN 5 WHEN 'casual' THEN 3 ELSE 4 "
                 "END")[0])
               == importance_weight_quarters(circle));
  }
}

BOOST_AUTO_TEST_CASE(priority_stream_equals_a_brute_force_oracle_of_every_rule) {
  test::test_database tdb;
  migrate(tdb.url());
  session db{tdb.url()};
  for (int dataset = 1; dataset <= 8; ++dataset) {
    auto user = random_user(tdb, dataset, 200 + (dataset * 331) % 1300);
    check_exact(tdb, db, user, dataset);
    // Settings change under the stream's derived columns: the triggers
    // keep them with the base tables, and the ranking follows.
    tdb.query("UPDATE groups SET cadence_days = 4 WHERE user_id = '" + user
              + "' AND name = 'g21' RETURNING 1");
    tdb.query("UPDATE groups SET archived_at = to_timestamp(" + std::to_string(now)
              + ") WHERE user_id = '" + user + "' AND name = 'g10' RETURNING 1");
    tdb.query("DELETE FROM contact_groups WHERE user_id = '" + user
              + "' AND hashtext(contact_id::text) % 5 = 0 RETURNING 1");
    tdb.query("UPDATE users SET default_cadence_days = 14, "
              "dismiss_cooldown_days = 5 WHERE id = '" + user
              + "' RETURNING 1");
    check_exact(tdb, db, user, dataset + 100);
    tdb.query("DELETE FROM groups WHERE user_id = '" + user
              + "' AND name = 'g21' RETURNING 1");
    check_exact(tdb, db, user, dataset + 200);
  }
}

BOOST_AUTO_TEST_CASE(contact_settings_refuse_bad_input_by_field_and_value) {
  test::test_database tdb;
  migrate(tdb.url());
  auto user = tdb.query("INSERT INTO users (email) VALUES ('b@example.org') "
                        "RETURNING id")[0];
  auto other = tdb.query("INSERT INTO users (email) VALUES ('o@example.org') "
                         "RETURNING id")[0];
  auto ana = tdb.query("INSERT INTO contacts (user_id, name, email) VALUES ('"
                       + user + "', 'Ana Lima', 'ana@example.org') "
                       "RETURNING id")[0];
  tdb.query("INSERT INTO contacts (user_id, name) VALUES ('" + user
            + "', 'Bo'), ('" + user + "', 'Bo') RETURNING 1");
  auto refused = [&](const std::string& contact, const contact_update& u,
                     ec code, const std::string& words,
                     const std::string& as = {}) {
    try {
      update_contact(tdb.url(), as.empty() ? user : as, contact, u, now);
      BOOST_ERROR("accepted: " << words);
    } catch (const storage_error& e) {
      BOOST_TEST((e.code() == code), e.what());
      BOOST_TEST(std::string{e.what()}.find(words) != std::string::npos,
                 e.what() << " lacks " << words);
    }
  };
  contact_update u;
  u.cadence = "0";
  refused(ana, u, ec::invalid_input, "cadence '0'");
  u.cadence = "3651";
  refused(ana, u, ec::invalid_input, "cadence '3651'");
  u.cadence = "sometimes";
  refused(ana, u, ec::invalid_input, "cadence 'sometimes'");
  u = {};
  u.importance = "vip";
  refused(ana, u, ec::invalid_input, "importance 'vip'");
  u = {};
  u.paused_until_unix_s = now - 60;
  refused(ana, u, ec::invalid_input, "paused_until");
  u = {};
  u.cadence = "weekly";
  refused("Bo", u, ec::invalid_input, "names 2 contacts");
  refused("Nobody", u, ec::not_found, "no contact named 'Nobody'");
  refused(ana, u, ec::not_found, "not found", other);
  refused(ana, u, ec::invalid_input, "is not a UUID", "not-a-uuid");
  // Nothing was written by any of these.
  BOOST_TEST(tdb.query("SELECT count(*) FROM contacts WHERE cadence_days "
                       "IS NOT NULL OR frequency_preference IS NOT NULL "
                       "OR dunbar_circle IS NOT NULL OR paused_until IS NOT "
                       "NULL")[0] == "0");
  // By e-mail in any case, then by name; custom days replace the class.
  u = {};
  u.cadence = "weekly";
  BOOST_TEST(update_contact(tdb.url(), user, "ANA@example.org", u, now) == ana);
  u.cadence = "every 45 days";
  u.importance = "inner";
  BOOST_TEST(update_contact(tdb.url(), user, "Ana Lima", u, now) == ana);
  BOOST_TEST(tdb.query("SELECT coalesce(frequency_preference::text, '-') || "
                       "cadence_days || dunbar_circle || "
                       "effective_cadence_days || importance_weight FROM "
                       "contacts WHERE id = '" + ana + "'")[0]
             == "-45inner458");
}

BOOST_AUTO_TEST_CASE(groups_are_named_uniquely_and_members_inherit_cadence) {
  test::test_database tdb;
  migrate(tdb.url());
  auto user = tdb.query("INSERT INTO users (email) VALUES ('g@example.org') "
                        "RETURNING id")[0];
  auto ana = tdb.query("INSERT INTO contacts (user_id, name) VALUES ('" + user
                       + "', 'Ana') RETURNING id")[0];
  auto family = create_group(tdb.url(), user, "Family", 7);
  BOOST_TEST(family.cadence_days == 7);
  BOOST_CHECK_THROW(create_group(tdb.url(), user, "Family", 0), storage_error);
  BOOST_CHECK_THROW(create_group(tdb.url(), user, "", 0), storage_error);
  BOOST_CHECK_THROW(create_group(tdb.url(), user, "x", 3651), storage_error);
  auto club = create_group(tdb.url(), user, "Club", 3);
  BOOST_TEST(change_members(tdb.url(), user, "Family", {"Ana"}, false) == 1);
  BOOST_TEST(change_members(tdb.url(), user, "Family", {"Ana"}, false) == 0);
  BOOST_TEST(change_members(tdb.url(), user, club.id, {ana}, false) == 1);
  auto cadence = [&] {
    return tdb.query("SELECT effective_cadence_days FROM contacts WHERE id = '"
                     + ana + "'")[0];
  };
  BOOST_TEST(cadence() == "3"); // the shortest wins
  // All or nothing: one unknown contact and no membership changes.
  BOOST_CHECK_THROW(change_members(tdb.url(), user, "Club", {ana, "Nobody"},
                                   true),
                    storage_error);
  BOOST_TEST(cadence() == "3");
  update_group(tdb.url(), user, "Club", "Chess club", 0);
  BOOST_TEST(cadence() == "7");
  delete_group(tdb.url(), user, "Family");
  BOOST_TEST(cadence() == "0"); // the user's default
  auto listed = list_groups(tdb.url(), user);
  BOOST_REQUIRE_EQUAL(listed.size(), 1u);
  BOOST_TEST(listed[0].name == "Chess club");
  BOOST_TEST(listed[0].members == 1);
}

BOOST_AUTO_TEST_SUITE_END()
