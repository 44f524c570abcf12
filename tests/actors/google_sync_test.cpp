// SPDX-License-Identifier: Apache-2.0
// Google syncs through the engine against a local server that speaks the
// People and Calendar APIs' JSON: a full sync stores the sync token, the
// next sync sends it and applies changes and deletions, and an expired
// token (People: 400 EXPIRED_SYNC_TOKEN, Calendar: 410) falls back to a
// full sync that removes what the account no longer has.

#include <boost/test/unit_test.hpp>

#include "actors/engine_core.hpp"
#include "storage/migrations.hpp"
#include "tests/support/fake_google_server.hpp"
#include "tests/support/test_clock.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;
using test::fake_response;

namespace {

// 2026-03-02T12:00:00Z.
constexpr std::int64_t now = 1772452800;
const std::string people_path = "/v1/people/me/connections";
const std::string events_path = "/calendar/v3/calendars/primary/events";

std::string person(const std::string& id, const std::string& name,
                   const std::string& email) {
  return R"({"resourceName":"people/)" + id + R"(","etag":"e-)" + id
         + R"(","names":[{"displayName":")" + name
         + R"("}],"emailAddresses":[{"value":")" + email + R"("}]})";
}

std::string deleted_person(const std::string& id) {
  return R"({"resourceName":"people/)" + id
         + R"(","metadata":{"deleted":true}})";
}

std::string people(const std::vector<std::string>& items,
                   const std::string& next_page, const std::string& sync) {
  std::string out = R"({"connections":[)";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? "," : "") + items[i];
  out += "]";
  if (!next_page.empty())
    out += R"(,"nextPageToken":")" + next_page + "\"";
  if (!sync.empty())
    out += R"(,"nextSyncToken":")" + sync + "\"";
  return out + "}";
}

std::string event(const std::string& id, const std::string& start,
                  const std::string& status = "confirmed") {
  return R"({"id":")" + id + R"(","status":")" + status
         + R"(","summary":"Meet )" + id + R"(","start":{"dateTime":")" + start
         + R"(Z"},"end":{"dateTime":")" + start
         + R"(Z"},"attendees":[{"email":"ada@example.org"}]})";
}

std::string events(const std::vector<std::string>& items,
                   const std::string& next_page, const std::string& sync) {
  std::string out = R"({"kind":"calendar#events","items":[)";
  for (std::size_t i = 0; i < items.size(); ++i)
    out += (i ? "," : "") + items[i];
  out += "]";
  if (!next_page.empty())
    out += R"(,"nextPageToken":")" + next_page + "\"";
  if (!sync.empty())
    out += R"(,"nextSyncToken":")" + sync + "\"";
  return out + "}";
}

struct fixture {
  test::test_database db;
  test::fake_google_server google;

  fixture() {
    storage::migrate(db.url());
  }

  std::unique_ptr<engine_core> start(std::int64_t pages_max = 20000,
                                     std::int64_t empty_pages_max = 100) {
    config::settings s;
    s.sync.google_pages_max = pages_max;
    s.sync.google_empty_pages_max = empty_pages_max;
    s.database.url = db.url();
    s.database.connections_max = 2;
    s.memory.monitoring_enabled = false;
    s.sync.google_people_url = google.base_url();
    s.sync.google_calendar_url = google.base_url();
    s.sync.google_token_url = google.base_url() + "/token";
    engine_options o;
    o.clock = test::standing_clock();
    return std::make_unique<engine_core>(s, o);
  }

  std::string make_user() {
    return db.query("INSERT INTO users (email) VALUES ('me@example.org') "
                    "RETURNING id")[0];
  }

  import_report sync(engine_core& e, const std::string& user,
                     google_sync_request::kind what) {
    google_sync_request r;
    r.user_id = user;
    r.what = what;
    r.credentials.access_token = "token-1";
    r.now_unix_s = now;
    return e.sync_google(r);
  }

  std::string names(const std::string& user) {
    return db.query("SELECT coalesce(string_agg(google_resource_name || '=' "
                    "|| name, ',' ORDER BY google_resource_name), '') FROM "
                    "contacts WHERE user_id = '" + user + "'")[0];
  }

  std::string event_ids(const std::string& user) {
    return db.query("SELECT coalesce(string_agg(external_id, ',' ORDER BY "
                    "external_id), '') FROM calendar_events WHERE user_id = '"
                    + user + "'")[0];
  }

  std::string sync_state(const std::string& user, const std::string& source) {
    return db.query("SELECT status || ' ' || coalesce(sync_token, '-') FROM "
                    "sync_state WHERE user_id = '" + user + "' AND source = '"
                    + source + "'")[0];
  }
};

const std::string expired_body
  = R"({"error":{"code":400,"message":"Sync token is expired. Clear local )"
    R"(cache and retry call without the sync token.","status":)"
    R"("FAILED_PRECONDITION","details":[{"@type":"type.googleapis.com/)"
    R"(google.rpc.ErrorInfo","reason":"EXPIRED_SYNC_TOKEN"}]}})";

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_google_sync, fixture)

BOOST_AUTO_TEST_CASE(contacts_sync_full_then_incremental_then_after_expiry) {
  auto e = start();
  auto user = make_user();
  // The server answers in this order: a full listing of two pages, the
  // changes since sync-1 (Ada renamed, Bob deleted), then "token expired"
  // and a full listing without Cy.
  google.script("GET", people_path,
                {{200, people({person("c1", "Ada", "ada@example.org"),
                               person("c2", "Bob", "bob@example.org")},
                              "page-2", "")},
                 {200, people({person("c3", "Cy", "cy@example.org")}, "",
                              "sync-1")},
                 {200, people({person("c1", "Ada L.", "ada@example.org"),
                               deleted_person("c2")},
                              "", "sync-2")},
                 {400, expired_body},
                 {200, people({person("c1", "Ada L.", "ada@example.org")}, "",
                              "sync-3")}});
  auto full = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_REQUIRE_MESSAGE(full.ok(), full.error);
  BOOST_TEST(full.inserted == 3);
  BOOST_TEST(full.pages == 2u);
  BOOST_TEST(names(user) == "people/c1=Ada,people/c2=Bob,people/c3=Cy");
  BOOST_TEST(sync_state(user, "google_contacts") == "succeeded sync-1");
  auto calls = google.requests_to("GET", people_path);
  BOOST_REQUIRE_EQUAL(calls.size(), 2u);
  BOOST_TEST(calls[0].param("requestSyncToken") == "true");
  BOOST_TEST(!calls[0].has("syncToken"));
  BOOST_TEST(calls[1].param("pageToken") == "page-2");

  auto incremental = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_REQUIRE_MESSAGE(incremental.ok(), incremental.error);
  BOOST_TEST(incremental.updated == 1);
  BOOST_TEST(incremental.deleted == 1);
  BOOST_TEST(incremental.swept == 0);
  BOOST_TEST(names(user) == "people/c1=Ada L.,people/c3=Cy");
  BOOST_TEST(google.requests_to("GET", people_path).back().param("syncToken")
             == "sync-1");
  BOOST_TEST(sync_state(user, "google_contacts") == "succeeded sync-2");

  // The token expired: a full listing without Cy, who is then removed.
  auto resync = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_REQUIRE_MESSAGE(resync.ok(), resync.error);
  BOOST_TEST(resync.swept == 1);
  BOOST_TEST(names(user) == "people/c1=Ada L.");
  BOOST_TEST(sync_state(user, "google_contacts") == "succeeded sync-3");
  auto last = google.requests_to("GET", people_path).back();
  BOOST_TEST(!last.has("syncToken"));
}

BOOST_AUTO_TEST_CASE(calendar_sync_applies_cancellations_and_resyncs_after_410) {
  auto e = start();
  auto user = make_user();
  db.query("INSERT INTO contacts (user_id, name, email) VALUES ('" + user
           + "', 'Ada', 'ada@example.org') RETURNING 1");
  google.script("GET", events_path,
                {{200, events({event("a", "2026-02-01T10:00:00"),
                               event("b", "2026-03-10T10:00:00")},
                              "", "cal-1")},
                 {200, events({event("a", "2026-02-01T10:00:00", "cancelled")},
                              "", "cal-2")},
                 {410, R"({"error":{"code":410,"message":"Gone"}})"},
                 {200, events({event("c", "2026-03-20T10:00:00")}, "",
                              "cal-3")}});
  auto full = sync(*e, user, google_sync_request::kind::calendar);
  BOOST_REQUIRE_MESSAGE(full.ok(), full.error);
  BOOST_TEST(full.inserted == 2);
  BOOST_TEST(full.last_contact_moved == 1);
  BOOST_TEST(event_ids(user) == "a,b");
  BOOST_TEST(db.query("SELECT last_contact_date::text FROM contacts WHERE "
                      "user_id = '" + user + "'")[0]
             == "2026-02-01 10:00:00+00");
  auto first = google.requests_to("GET", events_path).front();
  BOOST_TEST(first.param("singleEvents") == "true");
  BOOST_TEST(first.has("timeMin"));

  auto incremental = sync(*e, user, google_sync_request::kind::calendar);
  BOOST_REQUIRE_MESSAGE(incremental.ok(), incremental.error);
  BOOST_TEST(incremental.deleted == 1);
  BOOST_TEST(event_ids(user) == "b");
  auto second = google.requests_to("GET", events_path).back();
  BOOST_TEST(second.param("syncToken") == "cal-1");
  BOOST_TEST(!second.has("timeMin"));

  auto resync = sync(*e, user, google_sync_request::kind::calendar);
  BOOST_REQUIRE_MESSAGE(resync.ok(), resync.error);
  BOOST_TEST(resync.swept == 1);
  BOOST_TEST(event_ids(user) == "c");
  BOOST_TEST(sync_state(user, "google_calendar") == "succeeded cal-3");
}

BOOST_AUTO_TEST_CASE(a_full_sync_with_skipped_items_removes_nothing) {
  auto e = start();
  auto user = make_user();
  // First sync: Ada and Bob. Then the token expired, and the full listing
  // has Ada and an item that cannot be read: it may be Bob, so Bob stays.
  google.script("GET", people_path,
                {{200, people({person("c1", "Ada", "ada@example.org"),
                               person("c2", "Bob", "bob@example.org")},
                              "", "sync-1")},
                 {400, expired_body},
                 {200, people({person("c1", "Ada", "ada@example.org"),
                               R"({"etag":"no-resource-name"})"},
                              "", "sync-2")}});
  BOOST_REQUIRE(sync(*e, user, google_sync_request::kind::contacts).ok());
  auto resync = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_REQUIRE_MESSAGE(resync.ok(), resync.error);
  BOOST_TEST(resync.skipped == 1u);
  BOOST_TEST(resync.swept == 0);
  BOOST_TEST(names(user) == "people/c1=Ada,people/c2=Bob");
}

BOOST_AUTO_TEST_CASE(a_failing_account_leaves_what_was_committed) {
  auto e = start();
  auto user = make_user();
  google.script("GET", people_path,
                {{200, people({person("c1", "Ada", "ada@example.org")},
                              "page-2", "")},
                 {403, R"({"error":{"code":403,"message":"The caller does )"
                       R"(not have permission","status":"PERMISSION_DENIED"}})"},
                 {200, people({person("c2", "Bob", "bob@example.org")}, "",
                              "sync-1")}});
  auto r = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.error.find("permission") != std::string::npos, r.error);
  BOOST_TEST(names(user) == "people/c1=Ada");
  BOOST_TEST(sync_state(user, "google_contacts") == "failed -");
  // The rerun resumes at page 2 with the stored page token.
  auto rerun = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_REQUIRE_MESSAGE(rerun.ok(), rerun.error);
  BOOST_TEST(rerun.resumed_items == 1u);
  BOOST_TEST(google.requests_to("GET", people_path).back().param("pageToken")
             == "page-2");
  BOOST_TEST(names(user) == "people/c1=Ada,people/c2=Bob");
}

BOOST_AUTO_TEST_CASE(a_google_person_with_a_hostile_field_costs_only_itself) {
  auto e = start();
  auto user = make_user();
  std::string noise;
  for (std::uint32_t x = 777; noise.size() < 3000;) {
    x = x * 1103515245u + 12345u;
    noise += static_cast<char>('a' + (x >> 16) % 26);
  }
  google.script("GET", people_path,
                {{200, people({person("c1", "Ada", "ada@example.org"),
                               person("c2", noise, "long@example.org"),
                               person("c3", "Nul\\u0000Name", "nul@example.org"),
                               person("c4", "Bob", "bob@example.org")},
                              "", "sync-1")}});
  auto r = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
  BOOST_TEST(r.inserted == 2);
  BOOST_TEST(r.skipped == 2u);
  BOOST_REQUIRE_EQUAL(r.problems.size(), 2u);
  BOOST_TEST(r.problems[0].where == "page 1 item 2");
  BOOST_TEST(r.problems[0].reason.find("field name is 3000 bytes")
               != std::string::npos,
             r.problems[0].reason);
  BOOST_TEST(r.problems[1].where == "page 1 item 3");
  BOOST_TEST(r.problems[1].reason.find("NUL byte") != std::string::npos,
             r.problems[1].reason);
  BOOST_TEST(names(user) == "people/c1=Ada,people/c4=Bob");
}

// -- servers that never end a listing -------------------------------------------

BOOST_AUTO_TEST_CASE(a_page_token_seen_before_ends_the_sync_with_an_error) {
  auto e = start();
  auto user = make_user();
  // The one scripted page is served for ever: its next page token repeats.
  google.script("GET", people_path,
                {{200, people({person("c1", "Ada", "ada@example.org")},
                              "same-token", "")}});
  auto r = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.error.find("page token seen before") != std::string::npos,
             r.error);
  BOOST_TEST(google.requests_to("GET", people_path).size() == 2u);
  BOOST_TEST(names(user) == "people/c1=Ada");
  BOOST_TEST(sync_state(user, "google_contacts") == "failed -");
}

BOOST_AUTO_TEST_CASE(a_listing_longer_than_the_page_cap_ends_with_an_error) {
  auto e = start(/*pages_max=*/3);
  auto user = make_user();
  std::vector<fake_response> pages;
  for (int i = 1; i <= 6; ++i)
    pages.push_back({200, people({person("c" + std::to_string(i), "P" + std::to_string(i),
                                         "p" + std::to_string(i) + "@example.org")},
                                 "page-" + std::to_string(i + 1), "")});
  google.script("GET", people_path, pages);
  auto r = sync(*e, user, google_sync_request::kind::contacts);
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.error.find("sync.google_pages_max (3)") != std::string::npos,
             r.error);
  BOOST_TEST(google.requests_to("GET", people_path).size() == 3u);
  BOOST_TEST(names(user) == "people/c1=P1,people/c2=P2,people/c3=P3");
}

BOOST_AUTO_TEST_CASE(endless_empty_pages_end_the_sync_with_an_error) {
  auto e = start(20000, /*empty_pages_max=*/2);
  auto user = make_user();
  std::vector<fake_response> pages;
  for (int i = 1; i <= 6; ++i)
    pages.push_back({200, events({}, "empty-" + std::to_string(i), "")});
  google.script("GET", events_path, pages);
  auto r = sync(*e, user, google_sync_request::kind::calendar);
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.error.find("3 empty pages in a row") != std::string::npos,
             r.error);
  BOOST_TEST(google.requests_to("GET", events_path).size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
