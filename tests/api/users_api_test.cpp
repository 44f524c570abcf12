// SPDX-License-Identifier: Apache-2.0
// The engine's users through the facade: listed and read with their counts,
// deleted with all their data and cached entries, and a malformed or
// unknown user reported the same way by every call about one user. Each
// case runs on a fresh database with the engine's clock fixed.

#include <boost/test/unit_test.hpp>

#include <functional>
#include <map>
#include <string>

#include <catchup/catchup.hpp>

#include "api_fixture.hpp"

using namespace catchup;
using namespace catchup::api_test;

namespace {

struct fixture {
  test::test_database db;
  engine eng;

  fixture() {
    auto opened = engine::open(config_for(db));
    BOOST_TEST_REQUIRE(opened.ok(),
                       (opened.ok() ? "" : opened.error().message));
    eng = std::move(*opened);
  }

  /// Rows of `table` that belong to `user_id`.
  std::string rows_of(const std::string& table, const std::string& user_id) {
    return db.query("SELECT count(*) FROM " + table + " WHERE user_id = '"
                    + user_id + "'")[0];
  }
};

const std::string unknown_user = "00000000-0000-4000-8000-0000000000aa";
const std::string some_id = "00000000-0000-4000-8000-0000000000bb";

/// Every facade call about one user, as "what it returned".
std::map<std::string, std::function<error(engine&, const std::string&)>>
calls_about_one_user() {
  auto error_of = [](const auto& r) { return r.ok() ? error{} : r.error(); };
  return {
    {"user", [=](engine& e, const std::string& u) { return error_of(e.user(u)); }},
    {"delete_user",
     [=](engine& e, const std::string& u) { return error_of(e.delete_user(u)); }},
    {"generate",
     [=](engine& e, const std::string& u) {
       return error_of(e.generate(u, now_unix_s));
     }},
    {"suggestions",
     [=](engine& e, const std::string& u) { return error_of(e.suggestions(u)); }},
    {"accept",
     [=](engine& e, const std::string& u) {
       return error_of(e.accept(u, some_id));
     }},
    {"contact",
     [=](engine& e, const std::string& u) {
       return error_of(e.contact(u, some_id));
     }},
    {"for_each_contact",
     [=](engine& e, const std::string& u) {
       return error_of(
         e.for_each_contact(u, [](const contact_info&) { return true; }));
     }},
  };
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(api_users, fixture)

BOOST_AUTO_TEST_CASE(users_are_listed_and_read_with_their_counts) {
  auto ada = user_with_contacts(eng, "ada", 4);
  auto summary = eng.generate(ada, now_unix_s);
  BOOST_TEST_REQUIRE(summary.ok());
  BOOST_TEST_REQUIRE(summary->suggestions == 4);
  user_profile quiet;
  quiet.email = "quiet@example.org";
  quiet.active = false;
  auto bob = eng.put_user(quiet);
  BOOST_TEST_REQUIRE(bob.ok());

  auto all = eng.users();
  BOOST_TEST_REQUIRE(all.ok(), (all.ok() ? "" : all.error().message));
  BOOST_TEST_REQUIRE(all->size() == 2u);
  std::map<std::string, user_info> by_id;
  for (const auto& u : *all)
    by_id[u.id] = u;
  BOOST_TEST(by_id[ada].email == "ada@example.org");
  BOOST_TEST(by_id[ada].name == "ada");
  BOOST_TEST(by_id[ada].timezone == "Europe/Berlin");
  BOOST_TEST(by_id[ada].active);
  BOOST_TEST(by_id[ada].contacts == 4);
  BOOST_TEST(by_id[ada].pending_suggestions == 4);
  BOOST_TEST(by_id[ada].created_at_unix_s > 0);
  BOOST_TEST(by_id[*bob].timezone == "UTC");
  BOOST_TEST(!by_id[*bob].active);
  BOOST_TEST(by_id[*bob].contacts == 0);

  auto one = eng.user(ada);
  BOOST_TEST_REQUIRE(one.ok());
  BOOST_TEST(one->id == ada);
  BOOST_TEST(one->contacts == 4);
  auto answered = eng.dismiss(ada, summary->items[0].id);
  BOOST_TEST_REQUIRE(answered.ok());
  BOOST_TEST(eng.user(ada)->pending_suggestions == 3);
}

BOOST_AUTO_TEST_CASE(deleting_a_user_removes_their_data_and_cached_entries) {
  auto ada = user_with_contacts(eng, "gone", 3);
  auto keep = user_with_contacts(eng, "kept", 2);
  BOOST_TEST_REQUIRE(eng.generate(ada, now_unix_s).ok());
  BOOST_TEST_REQUIRE(eng.generate(keep, now_unix_s).ok());
  // Read once, so the suggestion cache holds the list.
  BOOST_TEST_REQUIRE(eng.suggestions(ada)->size() == 3u);

  auto deleted = eng.delete_user(ada);
  BOOST_TEST_REQUIRE(deleted.ok(),
                     (deleted.ok() ? "" : deleted.error().message));
  for (auto table : {"contacts", "suggestions", "generations"})
    BOOST_TEST(rows_of(table, ada) == "0", table);
  BOOST_TEST(rows_of("contacts", keep) == "2");

  auto cached = eng.suggestions(ada);
  BOOST_TEST_REQUIRE(!cached.ok());
  BOOST_TEST(cached.error().code == error_code::not_found);
  auto again = eng.delete_user(ada);
  BOOST_TEST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().message == "user " + ada + " not found");
  BOOST_TEST_REQUIRE(eng.users()->size() == 1u);
  BOOST_TEST(eng.users()->front().id == keep);
}

BOOST_AUTO_TEST_CASE(every_call_about_a_user_names_a_malformed_id) {
  for (auto& [name, call] : calls_about_one_user()) {
    auto err = call(eng, "not-a-uuid");
    BOOST_TEST(err.code == error_code::invalid_argument, name);
    BOOST_TEST(err.message.find("user id 'not-a-uuid' is not a UUID")
                 != std::string::npos,
               name << ": " << err.message);
    BOOST_TEST(err.message.find("invalid input syntax") == std::string::npos,
               name);
  }
}

BOOST_AUTO_TEST_CASE(every_call_about_a_user_says_an_unknown_one_is_not_found) {
  for (auto& [name, call] : calls_about_one_user()) {
    auto err = call(eng, unknown_user);
    BOOST_TEST(err.code == error_code::not_found, name);
    BOOST_TEST(err.message == "user " + unknown_user + " not found",
               name << ": " << err.message);
  }
}

BOOST_AUTO_TEST_CASE(a_known_user_without_data_is_no_error) {
  auto ada = user_with_contacts(eng, "fresh", 1);
  auto none = eng.suggestions(ada);
  BOOST_TEST_REQUIRE(none.ok(), (none.ok() ? "" : none.error().message));
  BOOST_TEST(none->empty());
  auto contact = eng.contact(ada, some_id);
  BOOST_TEST_REQUIRE(!contact.ok());
  BOOST_TEST(contact.error().code == error_code::not_found);
  BOOST_TEST(contact.error().message.find("has no contact")
             != std::string::npos);
  auto answer = eng.accept(ada, some_id);
  BOOST_TEST_REQUIRE(!answer.ok());
  BOOST_TEST(answer.error().code == error_code::not_found);
  BOOST_TEST(answer.error().message.find("has no suggestion")
             != std::string::npos);
  auto bad_contact = eng.contact(ada, "nope");
  BOOST_TEST_REQUIRE(!bad_contact.ok());
  BOOST_TEST(bad_contact.error().code == error_code::invalid_argument);
  BOOST_TEST(bad_contact.error().message == "contact id 'nope' is not a UUID");
}

BOOST_AUTO_TEST_SUITE_END()
