// SPDX-License-Identifier: Apache-2.0
// The seeder must produce realistic data that is identical for identical
// options, so generation results on it are reproducible. Each case seeds a
// fresh migrated database and checks counts, fingerprints and distributions
// with SQL against what the options promise.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <functional>
#include <string>

#include "storage/storage_error.hpp"
#include "storage/migrations.hpp"
#include "storage/seed.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using namespace catchup::storage;

namespace {

// 2025-01-01T00:00:00Z.
constexpr std::int64_t now_s = 1735689600;

std::int64_t number(const test::test_database& db, const std::string& sql) {
  return std::stoll(db.query(sql).at(0));
}

std::string now_sql() {
  return "to_timestamp(" + std::to_string(now_s) + ")";
}

// The users of one seed, as an SQL condition on a user_id column.
std::string of_seed(std::uint64_t seed) {
  return "user_id IN (SELECT id FROM users WHERE email LIKE '%@seed"
         + std::to_string(seed) + ".example')";
}

// One md5 per table over every seeded column, rows in id order, so two data
// sets are equal exactly when their fingerprints are.
std::vector<std::string> fingerprint(const test::test_database& db,
                                     std::uint64_t seed) {
  auto where = " WHERE " + of_seed(seed);
  return {
    db.query("SELECT md5(string_agg(id::text || email || name || timezone "
             "|| created_at::text, ',' ORDER BY id)) FROM users WHERE email "
             "LIKE '%@seed"
             + std::to_string(seed) + ".example'")[0],
    db.query("SELECT md5(string_agg(id::text || user_id::text || name "
             "|| coalesce(email, '') || coalesce(last_contact_date::text, '') "
             "|| coalesce(frequency_preference::text, '') "
             "|| coalesce(archived_at::text, '') || created_at::text, ',' "
             "ORDER BY id)) FROM contacts"
             + where)[0],
    db.query("SELECT md5(string_agg(id::text || name || created_at::text, ',' "
             "ORDER BY id)) FROM groups"
             + where)[0],
    db.query("SELECT md5(string_agg(contact_id::text || group_id::text "
             "|| created_at::text, ',' ORDER BY contact_id, group_id)) "
             "FROM contact_groups"
             + where)[0],
    db.query("SELECT md5(string_agg(user_id::text || weekday || '/' "
             "|| start_minute || '/' || end_minute, ',' "
             "ORDER BY user_id, weekday, start_minute)) FROM "
             "availability_windows"
             + where)[0],
    db.query("SELECT md5(string_agg(id::text || external_id || "
             "coalesce(summary, '') || start_time::text || end_time::text "
             "|| is_busy::text, ',' ORDER BY id)) FROM calendar_events"
             + where)[0],
  };
}

ec code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const storage_error& e) {
    return e.code();
  }
  return ec::none;
}

seed_options small(std::uint64_t seed) {
  seed_options o;
  o.users = 3;
  o.contacts_per_user = 300;
  o.seed = seed;
  o.now_unix_s = now_s;
  o.busy_events_per_user_max = 20;
  return o;
}

} // namespace

BOOST_AUTO_TEST_SUITE(storage_seed)

BOOST_AUTO_TEST_CASE(the_rows_written_match_the_options_and_the_report) {
  test::test_database db;
  migrate(db.url());
  auto report = seed(db.url(), small(7));
  BOOST_TEST(report.user_ids.size() == 3u);
  BOOST_TEST(report.contacts == 900);
  BOOST_TEST(report.wall_ms > 0);
  // Ids come back in creation order, user1 first.
  for (std::size_t i = 0; i < report.user_ids.size(); ++i)
    BOOST_TEST(db.query("SELECT id FROM users WHERE email = '"
                        + seed_user_email(static_cast<std::int64_t>(i + 1), 7)
                        + "'")[0]
               == report.user_ids[i]);
  BOOST_TEST(number(db, "SELECT count(*) FROM users") == 3);
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts") == report.contacts);
  BOOST_TEST(number(db, "SELECT count(*) FROM groups") == report.groups);
  BOOST_TEST(number(db, "SELECT count(*) FROM calendar_events")
             == report.events);
  BOOST_TEST(number(db, "SELECT count(*) FROM (SELECT user_id FROM groups "
                        "GROUP BY user_id HAVING count(*) NOT BETWEEN 5 AND "
                        "8) t")
             == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM (SELECT user_id FROM "
                        "calendar_events GROUP BY user_id HAVING count(*) > "
                        "20) t")
             == 0);
  // Each contact in 0-2 groups, some in each case; memberships carry the
  // contact's user (the foreign keys prove contact and group agree).
  BOOST_TEST(number(db, "SELECT max(n) FROM (SELECT count(*) AS n FROM "
                        "contact_groups GROUP BY contact_id) t")
             == 2);
  auto grouped = number(db, "SELECT count(DISTINCT contact_id) FROM "
                            "contact_groups");
  BOOST_TEST(grouped > 900 * 35 / 100);
  BOOST_TEST(grouped < 900 * 65 / 100);
  // Ids are version-4 UUIDs.
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts WHERE id::text !~ "
                        "'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab]"
                        "[0-9a-f]{3}-[0-9a-f]{12}$'")
             == 0);
}

BOOST_AUTO_TEST_CASE(seeding_twice_with_one_seed_gives_identical_rows) {
  test::test_database db;
  migrate(db.url());
  auto first = seed(db.url(), small(1));
  auto before = fingerprint(db, 1);
  auto second = seed(db.url(), small(1));
  BOOST_TEST(first.user_ids == second.user_ids);
  BOOST_TEST((fingerprint(db, 1) == before));
  // Replaced, not added to.
  BOOST_TEST(number(db, "SELECT count(*) FROM users") == 3);
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts") == 900);
  BOOST_TEST(number(db, "SELECT count(*) FROM groups") == first.groups);
  BOOST_TEST(number(db, "SELECT count(*) FROM calendar_events")
             == first.events);
  // Another database gets the same bytes too: nothing depends on its state.
  test::test_database other;
  migrate(other.url());
  seed(other.url(), small(1));
  BOOST_TEST((fingerprint(other, 1) == before));
}

BOOST_AUTO_TEST_CASE(a_different_seed_gives_different_data_alongside) {
  test::test_database db;
  migrate(db.url());
  auto one = seed(db.url(), small(1));
  auto two = seed(db.url(), small(2));
  BOOST_TEST(number(db, "SELECT count(*) FROM users") == 6);
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts") == 1800);
  for (auto& id : one.user_ids)
    BOOST_TEST((std::find(two.user_ids.begin(), two.user_ids.end(), id)
                == two.user_ids.end()));
  auto a = fingerprint(db, 1);
  auto b = fingerprint(db, 2);
  // A table both seeds left empty (availability is drawn per user) has no
  // fingerprint to compare.
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!a[i].empty() || !b[i].empty())
      BOOST_TEST(a[i] != b[i], "table " << i);
}

BOOST_AUTO_TEST_CASE(the_mix_of_generated_data_is_roughly_realistic) {
  test::test_database db;
  migrate(db.url());
  seed_options o;
  o.users = 5;
  o.contacts_per_user = 1000;
  o.seed = 3;
  o.now_unix_s = now_s;
  seed(db.url(), o);
  auto share = [&](const std::string& condition) {
    return number(db, "SELECT count(*) FROM contacts WHERE " + condition);
  };
  auto never = share("last_contact_date IS NULL");
  BOOST_TEST(never >= 350);
  BOOST_TEST(never <= 650);
  auto archived = share("archived_at IS NOT NULL");
  BOOST_TEST(archived >= 150);
  BOOST_TEST(archived <= 350);
  auto with_email = share("email IS NOT NULL");
  BOOST_TEST(with_email >= 3250);
  BOOST_TEST(with_email <= 3750);
  BOOST_TEST(share("email IS NOT NULL AND email !~ '^[a-z0-9._]+@[a-z.]+$'")
             == 0);
  auto no_preference = share("frequency_preference IS NULL");
  BOOST_TEST(no_preference >= 900);
  BOOST_TEST(no_preference <= 1300);
  for (auto* f : {"daily", "weekly", "biweekly", "monthly", "quarterly",
                  "yearly", "flexible", "na"})
    BOOST_TEST(share(std::string{"frequency_preference = '"} + f + "'") > 0,
               "frequency " << f);
  // Names beyond ASCII (UTF-8 needs more bytes than characters), in several
  // scripts.
  BOOST_TEST(share("octet_length(name) > char_length(name)") > 0);
  for (auto* pattern : {"[À-ž]", "[А-я]", "[一-龥]", "[ء-ي]"})
    BOOST_TEST(share(std::string{"name ~ '"} + pattern + "'") > 0,
               "script " << pattern);
  BOOST_TEST(number(db, "SELECT count(*) FROM users WHERE timezone = "
                        "'Asia/Kolkata'")
             == 1);
  BOOST_TEST(number(db, "SELECT count(DISTINCT timezone) FROM users") == 5);
}

BOOST_AUTO_TEST_CASE(about_a_third_of_users_get_their_own_availability) {
  test::test_database db;
  migrate(db.url());
  seed_options o;
  o.users = 60;
  o.contacts_per_user = 0;
  o.now_unix_s = now_s;
  o.busy_events_per_user_max = 0;
  auto report = seed(db.url(), o);
  BOOST_TEST(report.contacts == 0);
  BOOST_TEST(report.events == 0);
  auto with_windows = number(db, "SELECT count(DISTINCT user_id) FROM "
                                 "availability_windows");
  BOOST_TEST(with_windows >= 10);
  BOOST_TEST(with_windows <= 30);
  BOOST_TEST(number(db, "SELECT count(DISTINCT timezone) FROM users") == 10);
}

BOOST_AUTO_TEST_CASE(last_contact_dates_lie_in_the_three_years_before_now) {
  test::test_database db;
  migrate(db.url());
  seed(db.url(), small(4));
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts WHERE "
                        "last_contact_date > "
                        + now_sql() + " OR last_contact_date < " + now_sql()
                        + " - interval '3 years'")
             == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts WHERE archived_at > "
                        + now_sql() + " OR archived_at < created_at")
             == 0);
  // Spread over the whole range, not bunched at one end.
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts WHERE "
                        "last_contact_date < "
                        + now_sql() + " - interval '2 years'")
             > 100);
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts WHERE "
                        "last_contact_date > "
                        + now_sql() + " - interval '1 year'")
             > 100);
}

BOOST_AUTO_TEST_CASE(a_now_near_the_epoch_never_yields_dates_before_1970) {
  test::test_database db;
  migrate(db.url());
  auto o = small(5);
  o.now_unix_s = 100 * 86400;
  seed(db.url(), o);
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts WHERE "
                        "last_contact_date < '1970-01-01T00:00:00Z' OR "
                        "last_contact_date > to_timestamp(8640000)")
             == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts WHERE "
                        "last_contact_date IS NOT NULL")
             > 0);
}

BOOST_AUTO_TEST_CASE(busy_events_lie_in_the_fourteen_days_after_now) {
  test::test_database db;
  migrate(db.url());
  auto o = small(6);
  o.contacts_per_user = 0;
  o.busy_events_per_user_max = 300;
  auto report = seed(db.url(), o);
  BOOST_TEST(report.events > 100);
  BOOST_TEST(number(db, "SELECT count(*) FROM calendar_events WHERE "
                        "start_time < "
                        + now_sql() + " OR end_time > " + now_sql()
                        + " + interval '14 days'")
             == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM calendar_events WHERE "
                        "end_time - start_time NOT BETWEEN interval '30 "
                        "minutes' AND interval '180 minutes'")
             == 0);
  BOOST_TEST(number(db, "SELECT count(*) FROM calendar_events WHERE source "
                        "<> 'seed' OR timezone IS NULL")
             == 0);
  auto transparent = number(db, "SELECT count(*) FROM calendar_events WHERE "
                                "NOT is_busy");
  BOOST_TEST(transparent * 100 >= report.events * 4);
  BOOST_TEST(transparent * 100 <= report.events * 18);
  BOOST_TEST(number(db, "SELECT count(DISTINCT (user_id, external_id)) FROM "
                        "calendar_events")
             == report.events);
}

BOOST_AUTO_TEST_CASE(a_failing_user_leaves_no_half_seeded_rows) {
  test::test_database db;
  migrate(db.url());
  // Fails the second user's transaction after its contacts were copied.
  db.query("CREATE FUNCTION fail_user2() RETURNS trigger LANGUAGE plpgsql AS "
           "$$ BEGIN IF (SELECT email FROM users WHERE id = NEW.user_id) = '"
           + seed_user_email(2, 8)
           + "' THEN RAISE EXCEPTION 'injected failure'; END IF; "
             "RETURN NEW; END $$; "
             "CREATE TRIGGER fail_user2 BEFORE INSERT ON contact_groups FOR "
             "EACH ROW EXECUTE FUNCTION fail_user2(); SELECT 1");
  try {
    seed(db.url(), small(8));
    BOOST_FAIL("seeding went on past a failing user");
  } catch (const storage_error& e) {
    BOOST_TEST((e.code() == ec::db_query_failed));
    std::string what = e.what();
    BOOST_TEST(what.find(seed_user_email(2, 8)) != std::string::npos);
    BOOST_TEST(what.find("injected failure") != std::string::npos);
  }
  // User 1 is complete, user 2 absent, user 3 never started.
  BOOST_TEST(number(db, "SELECT count(*) FROM users") == 1);
  BOOST_TEST(number(db, "SELECT count(*) FROM contacts") == 300);
  BOOST_TEST(number(db, "SELECT count(DISTINCT user_id) FROM groups") == 1);
}

BOOST_AUTO_TEST_CASE(out_of_range_options_are_refused_as_invalid_input) {
  test::test_database db;
  migrate(db.url());
  auto refused = [&](const std::function<void(seed_options&)>& change) {
    auto o = small(9);
    change(o);
    return code_of([&] { seed(db.url(), o); }) == ec::invalid_input;
  };
  BOOST_TEST(refused([](seed_options& o) { o.users = 0; }));
  BOOST_TEST(refused([](seed_options& o) { o.users = 100001; }));
  BOOST_TEST(refused([](seed_options& o) { o.contacts_per_user = -1; }));
  BOOST_TEST(
    refused([](seed_options& o) { o.contacts_per_user = 10000001; }));
  BOOST_TEST(refused([](seed_options& o) { o.now_unix_s = -1; }));
  BOOST_TEST(refused([](seed_options& o) { o.busy_events_per_user_max = -1; }));
  BOOST_TEST(number(db, "SELECT count(*) FROM users") == 0);
  // The message names the option and the value.
  try {
    auto o = small(9);
    o.users = 0;
    seed(db.url(), o);
  } catch (const storage_error& e) {
    BOOST_TEST(std::string{e.what()}.find("users must be in 1..100000, got 0")
               != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
