// SPDX-License-Identifier: Apache-2.0
// The Google client against a local fake server: the real sample responses
// map to the expected records, paging and sync tokens go back and forth,
// expired sync tokens, retries, token refresh, bad items and bad bodies.

#include <boost/test/unit_test.hpp>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/google_client.hpp"
#include "adapters/http_header_check.hpp"
#include "tests/support/fake_google_server.hpp"
#include "tests/support/import_reading.hpp"

using namespace catchup;
using catchup::test::fake_google_server;
using catchup::test::fake_response;

namespace {

const std::string people_path = "/v1/people/me/connections";

std::string read_sample(const std::string& name) {
  auto path = test::real_data_dir("google-api") / name;
  std::ifstream in{path, std::ios::binary};
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string events_path(const std::string& calendar_id) {
  return "/calendar/v3/calendars/" + calendar_id + "/events";
}

const char* const expired_people_sync_token_body = R"({
  "error": {
    "code": 400,
    "message": "Sync token is expired. Clear local cache and retry call without the sync token.",
    "status": "FAILED_PRECONDITION",
    "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                 "reason": "EXPIRED_SYNC_TOKEN",
                 "domain": "people.googleapis.com"}]
  }
})";

const char* const calendar_gone_body = R"({
  "error": {
    "errors": [{"domain": "global", "reason": "fullSyncRequired",
                "message": "Sync token is no longer valid, a full sync is required."}],
    "code": 410,
    "message": "Sync token is no longer valid, a full sync is required."
  }
})";

const char* const server_error_body
  = R"({"error": {"code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}})";

const char* const fresh_token_body
  = R"({"access_token": "fresh-token", "expires_in": 3599, "scope": "https://www.googleapis.com/auth/contacts.readonly", "token_type": "Bearer"})";

// The exception `f` throws, or none (then the test fails).
template <class Exception, class F>
std::optional<Exception> caught(F&& f) {
  try {
    f();
  } catch (const Exception& e) {
    return e;
  }
  BOOST_ERROR("no exception thrown");
  return std::nullopt;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A fake server, a client pointed at it, and the waits the client asked for
// (recorded, never slept).
struct google_fixture {
  fake_google_server server;
  std::vector<int> waits;

  google_credentials credentials() const {
    google_credentials c;
    c.client_id = "client-1";
    c.client_secret = "secret-1";
    c.refresh_token = "refresh-1";
    c.access_token = "initial-token";
    return c;
  }

  google_client_options options() {
    google_client_options o;
    o.endpoints.people_base_url = server.base_url();
    o.endpoints.calendar_base_url = server.base_url();
    o.endpoints.token_url = server.base_url() + "/token";
    o.request_timeout_ms = 5000;
    o.sleep = [this](int ms) { waits.push_back(ms); };
    return o;
  }

  google_client client() {
    return google_client{credentials(), options()};
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(adapters_google_client)

// -- the real samples -----------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(the_real_people_sample_maps_to_vcards,
                        google_fixture) {
  server.script("GET", people_path,
                {{200, read_sample("libkgapi_connections_full_fetch_response.json")}});
  auto google = client();
  auto page = google.list_connections("", "", 500);

  BOOST_TEST(page.errors.empty());
  BOOST_TEST(page.deleted_resource_names.empty());
  BOOST_TEST(page.next_page_token.empty());
  BOOST_TEST(page.next_sync_token
             == "MisAxdodmQAAABIIkYHQsZyx_QIQkYHQsZyx_QIfDwC4GasLxarPS3V_o4pYOiQ2M2Y5NDEzMy0wMDAwLTI1MDYtOGI1My0xNGMxNGVmNzdlZDA=");
  BOOST_REQUIRE_EQUAL(page.people.size(), 2u);

  const auto& john = page.people[0];
  BOOST_TEST(john.uid == "people/c5170723913980391624");
  BOOST_TEST(john.revision
             == "%EigBAgMEBQYHCAkKCwwNDg8QERITFBUWFxkfISIjJCUmJy40NTc9Pj9AGgQBAgUHIgxabTRZZlRpekE3TT0=");
  BOOST_TEST(john.formatted_name == "Dr. John Jay Doe III");
  BOOST_TEST(john.given_name == "John");
  BOOST_TEST(john.family_name == "Doe");
  BOOST_TEST(john.emails
               == (std::vector<std::string>{"john@kde.example", "john@home.test",
                                            "john@private.stuff"}),
             boost::test_tools::per_element());
  BOOST_TEST(john.phones
               == (std::vector<std::string>{"666 12 34 90", "952 66 61 23",
                                            "910 12 30 00"}),
             boost::test_tools::per_element());
  BOOST_TEST(john.locality == "Internet land");
  BOOST_TEST(john.note == "John is awesome!");
  BOOST_TEST(john.organization == "KDE");
  BOOST_TEST(john.urls == (std::vector<std::string>{"kde.org", "johndoe.test"}),
             boost::test_tools::per_element());
  // Only myContacts: the implicit group is no category.
  BOOST_TEST(john.categories.empty());
  BOOST_REQUIRE_EQUAL(john.dates.size(), 1u);
  BOOST_TEST((john.dates[0].kind == contact_date_kind::birthday));
  BOOST_TEST(john.dates[0].month == 11);
  BOOST_TEST(john.dates[0].day == 3);
  BOOST_TEST((john.dates[0].year == 1999));

  const auto& konqui = page.people[1];
  BOOST_TEST(konqui.uid == "people/c2945739795208677217");
  BOOST_TEST(konqui.formatted_name == "Konqui");
  BOOST_TEST(konqui.given_name == "Konqui");
  BOOST_TEST(konqui.family_name.empty());
  BOOST_TEST(konqui.emails == (std::vector<std::string>{"konqui@kde.test"}),
             boost::test_tools::per_element());
  BOOST_TEST(konqui.organization == "KDE");
  BOOST_TEST(konqui.phones.empty());
  BOOST_TEST(konqui.locality.empty());

  auto got = server.requests_to("GET", people_path);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].param("personFields")
             == "names,emailAddresses,phoneNumbers,addresses,biographies,"
                "organizations,urls,memberships,birthdays,events,metadata");
  BOOST_TEST(got[0].param("pageSize") == "500");
  BOOST_TEST(got[0].param("requestSyncToken") == "true");
  BOOST_TEST(!got[0].has("syncToken"));
  BOOST_TEST(!got[0].has("pageToken"));
  BOOST_TEST(got[0].authorization == "Bearer initial-token");
  BOOST_TEST(google.requests_made() == 1);
  BOOST_TEST(google.retries_made() == 0);
  BOOST_TEST(google.token_refreshes() == 0);
}

BOOST_FIXTURE_TEST_CASE(people_pages_pass_the_page_token_back_and_end_with_a_sync_token,
                        google_fixture) {
  const std::string page_token
    = "Gm8KRQDF2h2ZAAAALAgBSIXsm5qdsf0CYh9NOWdudlRwUWdtc2QwREJnYzRneFVBRVh0ZTZhYUJnjPzCvvTGZ_iKnPW-N9IaMRACGiQ2M2Y5NDFiOS0wMDAwLTI5ZDUtOGZjOS1mNDAzMDQzOTQ4MmM";
  server.script(
    "GET", people_path,
    {{200, read_sample("libkgapi_connections_partial_fetch_response_1.json")},
     {200, read_sample("libkgapi_connections_partial_fetch_response_2.json")}});
  auto google = client();

  auto first = google.list_connections("", "", 1);
  BOOST_TEST(first.next_page_token == page_token);
  BOOST_TEST(first.next_sync_token.empty());
  BOOST_REQUIRE_EQUAL(first.people.size(), 1u);
  BOOST_TEST(first.people[0].formatted_name == "Dr. John Jay Doe III");

  auto second = google.list_connections(first.next_page_token, "", 1);
  BOOST_TEST(second.next_page_token.empty());
  BOOST_TEST(second.next_sync_token
             == "MisAxdodmQAAABIIkYHQsZyx_QIQkYHQsZyx_QIfDwC4GasLxarPS3V_o4pYOiQ2M2Y5NDEzMy0wMDAwLTI1MDYtOGI1My0xNGMxNGVmNzdlZDA=");
  BOOST_REQUIRE_EQUAL(second.people.size(), 1u);
  BOOST_TEST(second.people[0].formatted_name == "Konqui");

  auto got = server.requests_to("GET", people_path);
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  BOOST_TEST(!got[0].has("pageToken"));
  BOOST_TEST(got[1].param("pageToken") == page_token);
  for (const auto& r : got) {
    BOOST_TEST(r.param("requestSyncToken") == "true");
    BOOST_TEST(r.param("pageSize") == "1");
  }
}

BOOST_FIXTURE_TEST_CASE(the_real_calendar_sample_maps_to_events,
                        google_fixture) {
  server.script("GET", events_path("primary"),
                {{200, read_sample("libgdata_query-events.json")}});
  auto google = client();
  // 2014-12-01 .. 2015-01-01 UTC.
  auto page = google.list_events("primary", "", "", 250, 1417392000, 1420070400);

  BOOST_TEST(page.errors.empty());
  BOOST_TEST(page.next_page_token.empty());
  BOOST_TEST(page.next_sync_token == "CMCjqpeJrsUCEMCjqpeJrsUCGAU=");
  BOOST_REQUIRE_EQUAL(page.events.size(), 3u);

  const auto& first = page.events[0];
  BOOST_TEST(first.external_id == "dsk9v6avumdakmikagf6bso60c");
  BOOST_TEST(first.series_id == "dsk9v6avumdakmikagf6bso60c");
  BOOST_TEST(first.summary == "Test Event 1");
  BOOST_TEST(first.start_unix_s == 1419113727); // 2014-12-20T22:15:27Z
  BOOST_TEST(first.end_unix_s == 1419113728);
  BOOST_TEST(first.timezone.empty()); // "UTC"
  BOOST_TEST(!first.all_day);
  BOOST_TEST(first.busy);
  BOOST_TEST(!first.cancelled);
  BOOST_TEST(first.position == 0u);
  BOOST_TEST(first.attendee_emails
               == (std::vector<std::string>{
                 "ndihjbq6agrl249fjqgd535qmk@group.calendar.google.com"}),
             boost::test_tools::per_element());

  const auto& all_day = page.events[2];
  BOOST_TEST(all_day.external_id == "e6kep3e08m15gsbbilvp0a35fg");
  BOOST_TEST(all_day.summary == "Test Event 3");
  BOOST_TEST(all_day.all_day);
  BOOST_TEST(all_day.start_unix_s == 1419033600); // 2014-12-20 00:00 UTC
  BOOST_TEST(all_day.end_unix_s == 1419120000);   // 2014-12-21, exclusive
  BOOST_TEST(all_day.position == 2u);

  auto got = server.requests_to("GET", events_path("primary"));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].param("singleEvents") == "true");
  BOOST_TEST(got[0].param("maxResults") == "250");
  BOOST_TEST(got[0].param("timeMin") == "2014-12-01T00:00:00Z");
  BOOST_TEST(got[0].param("timeMax") == "2015-01-01T00:00:00Z");
  BOOST_TEST(!got[0].has("syncToken"));
  BOOST_TEST(!got[0].has("pageToken"));
  BOOST_TEST(got[0].authorization == "Bearer initial-token");
}

BOOST_FIXTURE_TEST_CASE(calendar_pages_pass_the_page_token_back,
                        google_fixture) {
  const std::string page_token
    = "ClEKQ182a3MzaWRoazZvcWpnYzlsNnNyM2NjcGc2OHBqMmUyMGRsbm00cWJjY2xwbmlyajM1cGptdXJyN2RoaWlzb3JmZGsYASCAgIDqg5PLwhIaDQgAEgAY-KP05dmb2gI=";
  server.script("GET", events_path("primary"),
                {{200, read_sample("libkgapi_events_fetch_page1_response.json")},
                 {200, read_sample("libkgapi_events_fetch_page2_response.json")}});
  auto google = client();
  // 2018-01-01 .. 2018-07-01 UTC.
  auto first = google.list_events("primary", "", "", 1, 1514764800, 1530403200);
  BOOST_TEST(first.errors.empty());
  BOOST_TEST(first.next_page_token == page_token);
  BOOST_REQUIRE_EQUAL(first.events.size(), 1u);
  const auto& meeting = first.events[0];
  BOOST_TEST(meeting.external_id == "3if6lf59tove1e037baa75l54t");
  BOOST_TEST(meeting.summary == "Cool Meeting about stuff");
  BOOST_TEST(meeting.location == "Meeting Room");
  BOOST_TEST(meeting.timezone == "Europe/Prague");
  BOOST_TEST(meeting.start_unix_s == 1522571400); // 10:30+02:00
  BOOST_TEST(meeting.end_unix_s == 1522575000);
  BOOST_TEST(meeting.attendee_emails
               == (std::vector<std::string>{"attendee1@kde.test",
                                            "attendee2@kde.test",
                                            "konqui@kde.test"}),
             boost::test_tools::per_element());

  auto second = google.list_events("primary", first.next_page_token, "", 1,
                                   1514764800, 1530403200);
  BOOST_TEST(second.errors.empty());
  BOOST_TEST(second.next_page_token.empty());
  BOOST_REQUIRE_EQUAL(second.events.size(), 1u);
  const auto& sprint = second.events[0];
  BOOST_TEST(sprint.external_id
             == "_60o3iopicdhjib9g6ss32b9k70p68b9ocdhm8b9ocphjioj6clh36c9j70");
  BOOST_TEST(sprint.summary == "KDE PIM Sprint");
  BOOST_TEST(sprint.location == "Toulouse, France");
  BOOST_TEST(sprint.all_day);
  BOOST_TEST(sprint.start_unix_s == 1524182400); // 2018-04-20
  BOOST_TEST(sprint.end_unix_s == 1524441600);   // 2018-04-23, exclusive
  BOOST_TEST(sprint.timezone.empty());
  // The organiser "MockAccount" has no '@': not an address.
  BOOST_TEST(sprint.attendee_emails
               == (std::vector<std::string>{"hacker1@kde.test"}),
             boost::test_tools::per_element());

  auto got = server.requests_to("GET", events_path("primary"));
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  BOOST_TEST(!got[0].has("pageToken"));
  BOOST_TEST(got[1].param("pageToken") == page_token);
  BOOST_TEST(got[1].param("timeMin") == "2018-01-01T00:00:00Z");
  BOOST_TEST(got[1].param("timeMax") == "2018-07-01T00:00:00Z");
}

// -- birthdays and anniversaries ---------------------------------------------------

BOOST_FIXTURE_TEST_CASE(people_birthdays_and_anniversaries_map_to_dates,
                        google_fixture) {
  server.script("GET", people_path, {{200, R"({
    "connections": [
      {"resourceName": "people/c1", "names": [{"displayName": "Ana Lima"}],
       "birthdays": [{"date": {"month": 4, "day": 12}, "text": "April 12"},
                     {"metadata": {"primary": true},
                      "date": {"year": 1985, "month": 4, "day": 12}}],
       "events": [{"type": "other", "date": {"month": 1, "day": 1}},
                  {"type": "anniversary",
                   "date": {"year": 2009, "month": 10, "day": 10}}]},
      {"resourceName": "people/c2", "names": [{"displayName": "Bo"}],
       "birthdays": [{"date": {"year": 0, "month": 2, "day": 29}}]},
      {"resourceName": "people/c3", "names": [{"displayName": "Cy"}],
       "birthdays": [{"date": {"year": 1990, "month": 13, "day": 1}}],
       "events": [{"type": "anniversary", "date": {"month": 2, "day": 30}}]},
      {"resourceName": "people/c4", "names": [{"displayName": "Di"}],
       "birthdays": [{"date": {"month": "April", "day": 1}}]},
      {"resourceName": "people/c5", "names": [{"displayName": "Ed"}],
       "birthdays": [{"text": "sometime in spring"}]}
    ]
  })"}});
  auto google = client();
  auto page = google.list_connections("", "", 500);
  BOOST_TEST(page.errors.empty());
  BOOST_REQUIRE_EQUAL(page.people.size(), 5u);

  const auto& ana = page.people[0];
  BOOST_REQUIRE_EQUAL(ana.dates.size(), 2u);
  BOOST_TEST((ana.dates[0].kind == contact_date_kind::birthday));
  BOOST_TEST(ana.dates[0].month == 4);
  BOOST_TEST(ana.dates[0].day == 12);
  BOOST_TEST((ana.dates[0].year == 1985)); // the primary one
  BOOST_TEST((ana.dates[1].kind == contact_date_kind::anniversary));
  BOOST_TEST(ana.dates[1].month == 10);
  BOOST_TEST((ana.dates[1].year == 2009));
  BOOST_TEST(ana.warnings.empty());

  const auto& bo = page.people[1];
  BOOST_REQUIRE_EQUAL(bo.dates.size(), 1u);
  BOOST_TEST(bo.dates[0].month == 2);
  BOOST_TEST(bo.dates[0].day == 29);
  BOOST_TEST(!bo.dates[0].year.has_value()); // year 0: not known

  // Month 13 and Feb 30: warnings naming the field; the person stays.
  const auto& cy = page.people[2];
  BOOST_TEST(cy.formatted_name == "Cy");
  BOOST_TEST(cy.dates.empty());
  BOOST_REQUIRE_EQUAL(cy.warnings.size(), 2u);
  BOOST_TEST(contains(cy.warnings[0].reason, "birthdays[0].date left out"),
             cy.warnings[0].reason);
  BOOST_TEST(contains(cy.warnings[0].reason, "month 13"));
  BOOST_TEST(contains(cy.warnings[1].reason, "events[0].date left out"),
             cy.warnings[1].reason);

  const auto& di = page.people[3];
  BOOST_TEST(di.dates.empty());
  BOOST_TEST(di.warnings.size() == 1u);

  const auto& ed = page.people[4];
  BOOST_TEST(ed.dates.empty());
  BOOST_TEST(ed.warnings.empty());
}

// -- incremental sync -------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(people_incremental_sync_sends_the_token_and_reports_deletions,
                        google_fixture) {
  server.script("GET", people_path, {{200, R"({
    "connections": [
      {"resourceName": "people/c9", "etag": "%E1",
       "metadata": {"deleted": true, "sources": [{"type": "CONTACT", "id": "9"}]}},
      {"resourceName": "people/c10", "etag": "%E2",
       "names": [{"givenName": "Ada", "familyName": "Lovelace"}],
       "phoneNumbers": [{"canonicalForm": "+441234"}],
       "organizations": [{"name": "Old Co"},
                         {"metadata": {"primary": true}, "name": "Analytical Engines"}],
       "memberships": [
         {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/myContacts"}},
         {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/starred"}},
         {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/1a2b3c"}},
         {"contactGroupMembership": {"contactGroupResourceName": "contactGroups/family"}},
         {"domainMembership": {"inViewerDomain": true}}]}
    ],
    "nextSyncToken": "people-sync-2"
  })"}});
  auto google = client();
  // Base64 tokens hold '+', '/' and '=': they must arrive unchanged.
  auto page = google.list_connections("", "a+b/c=", 500);

  BOOST_TEST(page.errors.empty());
  BOOST_TEST(page.deleted_resource_names
               == (std::vector<std::string>{"people/c9"}),
             boost::test_tools::per_element());
  BOOST_TEST(page.next_sync_token == "people-sync-2");
  BOOST_REQUIRE_EQUAL(page.people.size(), 1u);
  const auto& ada = page.people[0];
  BOOST_TEST(ada.uid == "people/c10");
  BOOST_TEST(ada.revision == "%E2");
  BOOST_TEST(ada.formatted_name == "Ada Lovelace");
  BOOST_TEST(ada.phones == (std::vector<std::string>{"+441234"}),
             boost::test_tools::per_element());
  BOOST_TEST(ada.organization == "Analytical Engines");
  BOOST_TEST(ada.categories == (std::vector<std::string>{"1a2b3c", "family"}),
             boost::test_tools::per_element());

  auto got = server.requests_to("GET", people_path);
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(got[0].param("syncToken") == "a+b/c=");
  BOOST_TEST(got[0].param("requestSyncToken") == "true");
}

BOOST_FIXTURE_TEST_CASE(calendar_incremental_sync_omits_the_window_and_reports_cancellations,
                        google_fixture) {
  const std::string calendar = "user@example.com";
  server.script("GET", events_path(calendar), {{200, R"({
    "kind": "calendar#events",
    "nextSyncToken": "calendar-sync-2",
    "items": [
      {"kind": "calendar#event", "etag": "\"1\"", "id": "gone1", "status": "cancelled"},
      {"id": "series9_20240101T100000Z", "status": "cancelled",
       "recurringEventId": "series9",
       "originalStartTime": {"dateTime": "2024-01-01T10:00:00Z"}},
      {"id": "free1", "status": "confirmed", "summary": " Focus time ",
       "transparency": "transparent",
       "start": {"dateTime": "2024-03-10T09:00:00-05:00", "timeZone": "America/New_York"},
       "end": {"dateTime": "2024-03-10T10:00:00-05:00", "timeZone": "America/New_York"},
       "attendees": [{"email": "Ann@Example.COM"}, {"email": "ann@example.com"},
                     {"email": "bob@example.com"}],
       "organizer": {"email": "BOB@example.com"}}
    ]
  })"}});
  auto google = client();
  auto page = google.list_events(calendar, "", "sync+1/abc=", 2500, 0, 0);

  BOOST_TEST(page.errors.empty());
  BOOST_TEST(page.next_sync_token == "calendar-sync-2");
  BOOST_REQUIRE_EQUAL(page.events.size(), 3u);

  const auto& gone = page.events[0];
  BOOST_TEST(gone.external_id == "gone1");
  BOOST_TEST(gone.series_id == "gone1");
  BOOST_TEST(gone.cancelled);
  BOOST_TEST(gone.start_unix_s == 0);

  const auto& instance = page.events[1];
  BOOST_TEST(instance.external_id == "series9_20240101T100000Z");
  BOOST_TEST(instance.series_id == "series9");
  BOOST_TEST(instance.cancelled);
  BOOST_TEST(instance.start_unix_s == 1704103200); // originalStartTime
  BOOST_TEST(instance.position == 1u);

  const auto& focus = page.events[2];
  BOOST_TEST(focus.summary == "Focus time");
  BOOST_TEST(!focus.busy);
  BOOST_TEST(!focus.cancelled);
  BOOST_TEST(focus.timezone == "America/New_York");
  BOOST_TEST(focus.start_unix_s == 1710079200); // 09:00-05:00
  BOOST_TEST(focus.end_unix_s == 1710082800);
  BOOST_TEST(focus.attendee_emails
               == (std::vector<std::string>{"ann@example.com", "bob@example.com"}),
             boost::test_tools::per_element());

  auto got = server.requests_to("GET", events_path(calendar));
  BOOST_REQUIRE_EQUAL(got.size(), 1u);
  BOOST_TEST(contains(got[0].target, "/calendars/user%40example.com/events"));
  BOOST_TEST(got[0].param("syncToken") == "sync+1/abc=");
  BOOST_TEST(got[0].param("singleEvents") == "true");
  BOOST_TEST(!got[0].has("timeMin"));
  BOOST_TEST(!got[0].has("timeMax"));
}

BOOST_FIXTURE_TEST_CASE(an_expired_people_sync_token_asks_for_a_full_sync,
                        google_fixture) {
  server.script("GET", people_path, {{400, expired_people_sync_token_body}});
  auto google = client();
  auto e = caught<google_sync_token_expired>(
    [&] { google.list_connections("", "old-token", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(e->path() == people_path);
  BOOST_TEST(contains(e->what(), "EXPIRED_SYNC_TOKEN"));
  BOOST_TEST(server.requests_to("GET", people_path).size() == 1u);
  BOOST_TEST(waits.empty());
}

BOOST_FIXTURE_TEST_CASE(calendar_410_asks_for_a_full_sync, google_fixture) {
  server.script("GET", events_path("primary"), {{410, calendar_gone_body}});
  auto google = client();
  auto e = caught<google_sync_token_expired>(
    [&] { google.list_events("primary", "", "old-token", 250, 0, 0); });
  BOOST_REQUIRE(e);
  BOOST_TEST(contains(e->what(), "fullSyncRequired"));
  BOOST_TEST(server.requests_to("GET", events_path("primary")).size() == 1u);
}

// -- retries --------------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_429_waits_as_retry_after_says, google_fixture) {
  server.script(
    "GET", people_path,
    {{429, R"({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}})",
      {{"Retry-After", "2"}}},
     {200, read_sample("libkgapi_connections_full_fetch_response.json")}});
  auto google = client();
  auto page = google.list_connections("", "", 500);
  BOOST_TEST(page.people.size() == 2u);
  BOOST_TEST(waits == (std::vector<int>{2000}), boost::test_tools::per_element());
  BOOST_TEST(google.retries_made() == 1);
  BOOST_TEST(google.requests_made() == 2);
}

BOOST_FIXTURE_TEST_CASE(retry_after_is_capped_by_retry_after_max_ms,
                        google_fixture) {
  server.script("GET", people_path,
                {{503, server_error_body, {{"Retry-After", "3600"}}},
                 {200, R"({"connections": []})"}});
  auto o = options();
  o.retry_after_max_ms = 1500;
  google_client google{credentials(), o};
  google.list_connections("", "", 500);
  BOOST_TEST(waits == (std::vector<int>{1500}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(server_errors_are_retried_with_growing_backoff,
                        google_fixture) {
  server.script("GET", people_path,
                {{500, server_error_body},
                 {500, server_error_body},
                 {200, read_sample("libkgapi_connections_full_fetch_response.json")}});
  auto o = options();
  o.backoff_initial_ms = 500;
  google_client google{credentials(), o};
  auto page = google.list_connections("", "", 500);
  BOOST_TEST(page.people.size() == 2u);
  BOOST_TEST(google.retries_made() == 2);
  BOOST_TEST(google.requests_made() == 3);
  BOOST_REQUIRE_EQUAL(waits.size(), 2u);
  // Jittered within [half, all] of 500 ms, then of 1000 ms.
  BOOST_TEST(waits[0] >= 250);
  BOOST_TEST(waits[0] <= 500);
  BOOST_TEST(waits[1] >= 500);
  BOOST_TEST(waits[1] <= 1000);
}

BOOST_FIXTURE_TEST_CASE(an_endless_503_gives_up_after_attempts_max,
                        google_fixture) {
  server.script("GET", events_path("primary"),
                {{503, R"({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}})"}});
  auto o = options();
  o.attempts_max = 3;
  o.backoff_initial_ms = 100;
  o.backoff_max_ms = 150;
  google_client google{credentials(), o};
  auto e = caught<google_error>(
    [&] { google.list_events("primary", "", "", 250, 0, 86400); });
  BOOST_REQUIRE(e);
  BOOST_TEST(e->status() == 503);
  BOOST_TEST(e->path() == events_path("primary"));
  BOOST_TEST(contains(e->what(), "gave up after 3 attempts"));
  BOOST_TEST(contains(e->what(), "/calendar/v3/calendars/primary/events"));
  BOOST_TEST(contains(e->what(), "The service is currently unavailable."));
  BOOST_TEST(server.requests_to("GET", events_path("primary")).size() == 3u);
  BOOST_REQUIRE_EQUAL(waits.size(), 2u);
  BOOST_TEST(waits[1] <= 150); // backoff_max_ms
}

BOOST_FIXTURE_TEST_CASE(other_client_errors_fail_at_once, google_fixture) {
  server.script("GET", people_path,
                {{403, R"({"error": {"code": 403, "message": "The caller does not have permission", "status": "PERMISSION_DENIED"}})"}});
  auto google = client();
  auto e = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(e->status() == 403);
  BOOST_TEST(e->path() == people_path);
  BOOST_TEST(contains(e->what(), "GET /v1/people/me/connections"));
  BOOST_TEST(contains(e->what(), "HTTP 403"));
  BOOST_TEST(contains(e->what(), "The caller does not have permission (PERMISSION_DENIED)"));
  BOOST_TEST(server.requests_to("GET", people_path).size() == 1u);
  BOOST_TEST(waits.empty());
}

BOOST_FIXTURE_TEST_CASE(a_400_without_expired_sync_token_is_a_google_error,
                        google_fixture) {
  server.script("GET", people_path,
                {{400, R"({"error": {"code": 400, "message": "Invalid personFields mask path.", "status": "INVALID_ARGUMENT"}})"}});
  auto google = client();
  auto e = caught<google_error>([&] { google.list_connections("", "t", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(e->status() == 400);
  BOOST_TEST(contains(e->what(), "INVALID_ARGUMENT"));
}

BOOST_FIXTURE_TEST_CASE(connection_failures_are_retried_then_reported,
                        google_fixture) {
  std::string closed_url;
  {
    fake_google_server gone;
    closed_url = gone.base_url();
  }
  auto o = options();
  o.endpoints.people_base_url = closed_url;
  o.attempts_max = 2;
  google_client google{credentials(), o};
  auto e = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(e->status() == 0);
  BOOST_TEST(contains(e->what(), "gave up after 2 attempts"));
  BOOST_TEST(contains(e->what(), "no response"));
  BOOST_TEST(waits.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_redirect_is_not_followed_and_fails_with_its_status,
                        google_fixture) {
  server.script("GET", people_path,
                {{302, "", {{"Location", server.base_url() + "/elsewhere"}}}});
  auto google = client();
  auto e = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(e->status() == 302);
  BOOST_TEST(contains(e->what(), "GET /v1/people/me/connections"));
  BOOST_TEST(contains(e->what(), "redirects are not followed"));
  BOOST_TEST(server.requests_to("GET", "/elsewhere").empty());
  BOOST_TEST(google.retries_made() == 0);
}

// -- access tokens ----------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_401_refreshes_the_token_and_retries_once,
                        google_fixture) {
  server.script("GET", people_path,
                {{401, R"({"error": {"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})"},
                 {200, read_sample("libkgapi_connections_full_fetch_response.json")}});
  server.script("POST", "/token", {{200, fresh_token_body}});
  auto google = client();
  auto page = google.list_connections("", "", 500);
  BOOST_TEST(page.people.size() == 2u);
  BOOST_TEST(google.access_token() == "fresh-token");
  BOOST_TEST(google.token_refreshes() == 1);
  BOOST_TEST(google.requests_made() == 3);
  BOOST_TEST(google.retries_made() == 0);

  auto gets = server.requests_to("GET", people_path);
  BOOST_REQUIRE_EQUAL(gets.size(), 2u);
  BOOST_TEST(gets[0].authorization == "Bearer initial-token");
  BOOST_TEST(gets[1].authorization == "Bearer fresh-token");
  auto posts = server.requests_to("POST", "/token");
  BOOST_REQUIRE_EQUAL(posts.size(), 1u);
  BOOST_TEST(posts[0].param("grant_type") == "refresh_token");
  BOOST_TEST(posts[0].param("client_id") == "client-1");
  BOOST_TEST(posts[0].param("client_secret") == "secret-1");
  BOOST_TEST(posts[0].param("refresh_token") == "refresh-1");
  BOOST_TEST(posts[0].authorization.empty());
}

BOOST_FIXTURE_TEST_CASE(an_empty_access_token_is_refreshed_first,
                        google_fixture) {
  server.script("GET", events_path("primary"),
                {{200, read_sample("libgdata_query-events.json")}});
  server.script("POST", "/token", {{200, fresh_token_body}});
  auto c = credentials();
  c.access_token.clear();
  google_client google{c, options()};
  auto page = google.list_events("primary", "", "", 250, 0, 86400);
  BOOST_TEST(page.events.size() == 3u);
  auto all = server.requests();
  BOOST_REQUIRE_EQUAL(all.size(), 2u);
  BOOST_TEST(all[0].method == "POST");
  BOOST_TEST(all[1].authorization == "Bearer fresh-token");
  BOOST_TEST(google.token_refreshes() == 1);
}

BOOST_FIXTURE_TEST_CASE(a_failed_refresh_names_the_token_endpoint,
                        google_fixture) {
  server.script("GET", people_path, {{401, "{}"}});
  server.script("POST", "/token",
                {{400, R"({"error": "invalid_grant", "error_description": "Token has been expired or revoked."})"}});
  auto google = client();
  auto e = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(e);
  const std::string token_url = server.base_url() + "/token";
  BOOST_TEST(e->status() == 400);
  BOOST_TEST(e->path() == token_url);
  BOOST_TEST(contains(e->what(), token_url));
  BOOST_TEST(contains(e->what(), "invalid_grant: Token has been expired or revoked."));
  BOOST_TEST(google.access_token() == "initial-token");
}

BOOST_FIXTURE_TEST_CASE(a_second_401_after_a_refresh_is_a_google_error,
                        google_fixture) {
  server.script("GET", people_path,
                {{401, R"({"error": {"code": 401, "status": "UNAUTHENTICATED"}})"}});
  server.script("POST", "/token", {{200, fresh_token_body}});
  auto google = client();
  auto e = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(e->status() == 401);
  BOOST_TEST(server.requests_to("GET", people_path).size() == 2u);
  BOOST_TEST(google.token_refreshes() == 1);
}

// -- hostile token endpoints -----------------------------------------------------

bool any_request_has_header(const std::vector<catchup::test::recorded_request>& all,
                            const std::string& name) {
  for (const auto& r : all)
    for (const auto& h : r.header_names)
      if (h == name)
        return true;
  return false;
}

BOOST_FIXTURE_TEST_CASE(an_access_token_with_a_line_break_is_refused_not_sent,
                        google_fixture) {
  server.script("GET", people_path,
                {{200, read_sample("libkgapi_connections_full_fetch_response.json")}});
  server.script("POST", "/token",
                {{200, R"({"access_token": "AT\r\nX-Injected: yes", "expires_in": 3599})"}});
  auto c = credentials();
  c.access_token.clear();
  google_client google{c, options()};
  auto e = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(contains(e->what(), "not a bearer token"));
  // The token is not quoted: a real one would be a secret.
  BOOST_TEST(!contains(e->what(), "X-Injected"));
  BOOST_TEST(server.requests_to("GET", people_path).empty());
  BOOST_TEST(!any_request_has_header(server.requests(), "X-Injected"));
}

BOOST_FIXTURE_TEST_CASE(a_stored_token_that_is_not_a_bearer_token_is_replaced,
                        google_fixture) {
  server.script("GET", people_path,
                {{200, read_sample("libkgapi_connections_full_fetch_response.json")}});
  server.script("POST", "/token", {{200, fresh_token_body}});
  auto c = credentials();
  c.access_token = "AT\r\nX-Injected: yes";
  google_client google{c, options()};
  auto page = google.list_connections("", "", 500);
  BOOST_TEST(page.people.size() == 2u);
  auto gets = server.requests_to("GET", people_path);
  BOOST_REQUIRE_EQUAL(gets.size(), 1u);
  BOOST_TEST(gets[0].authorization == "Bearer fresh-token");
  BOOST_TEST(!any_request_has_header(server.requests(), "X-Injected"));
}

BOOST_AUTO_TEST_CASE(header_values_with_control_characters_are_named) {
  using catchup::header_value_problem;
  using catchup::is_bearer_token;
  BOOST_TEST(!header_value_problem("Bearer ya29.a0-_~+/=="));
  BOOST_TEST(!header_value_problem("a\tb"));
  BOOST_TEST(*header_value_problem("a\r\nb") == "the value holds a carriage return at byte 1");
  BOOST_TEST(*header_value_problem("ab\n") == "the value holds a line feed at byte 2");
  BOOST_TEST(*header_value_problem(std::string{"a\0", 2}) == "the value holds a NUL byte at byte 1");
  BOOST_TEST(*header_value_problem("\x7f") == "the value holds a control character at byte 0");
  BOOST_TEST(is_bearer_token("ya29.a0AfH6SM-_~+/abc=="));
  BOOST_TEST(!is_bearer_token(""));
  BOOST_TEST(!is_bearer_token("=="));
  BOOST_TEST(!is_bearer_token("a b"));
  BOOST_TEST(!is_bearer_token("ab=c"));
  BOOST_TEST(!is_bearer_token("AT\r\nX-Injected: yes"));
  BOOST_TEST(is_bearer_token(std::string(4096, 'a')));
  BOOST_TEST(!is_bearer_token(std::string(4097, 'a')));
}

// -- bad bodies and bad items ---------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(a_body_that_is_not_json_is_a_google_error,
                        google_fixture) {
  server.script("GET", people_path, {{200, R"({"connections": [)"}});
  auto google = client();
  auto e = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(e->path() == people_path);
  BOOST_TEST(contains(e->what(), "GET /v1/people/me/connections"));
  BOOST_TEST(contains(e->what(), "not JSON"));
}

BOOST_FIXTURE_TEST_CASE(a_body_of_the_wrong_shape_is_a_google_error,
                        google_fixture) {
  server.script("GET", people_path,
                {{200, "[1, 2]"}, {200, R"({"connections": {"a": 1}})"}});
  server.script("GET", events_path("primary"),
                {{200, R"({"items": [], "nextPageToken": 7})"}});
  auto google = client();
  auto not_object
    = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(not_object);
  BOOST_TEST(contains(not_object->what(), "not a JSON object"));
  auto not_array
    = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(not_array);
  BOOST_TEST(contains(not_array->what(), "connections is not an array"));
  auto bad_token = caught<google_error>(
    [&] { google.list_events("primary", "", "", 250, 0, 86400); });
  BOOST_REQUIRE(bad_token);
  BOOST_TEST(contains(bad_token->what(), "nextPageToken is not a string"));
}

BOOST_FIXTURE_TEST_CASE(a_response_over_response_bytes_max_is_a_google_error,
                        google_fixture) {
  server.script("GET", people_path,
                {{200, R"({"connections": [], "padding": ")" + std::string(8000, 'x')
                         + R"("})"}});
  auto o = options();
  o.response_bytes_max = 1024;
  google_client google{credentials(), o};
  auto e = caught<google_error>([&] { google.list_connections("", "", 500); });
  BOOST_REQUIRE(e);
  BOOST_TEST(contains(e->what(), "response_bytes_max (1024 bytes)"));
  // Not retried: the next answer would be as large.
  BOOST_TEST(server.requests_to("GET", people_path).size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(people_that_cannot_be_mapped_are_reported_by_index,
                        google_fixture) {
  server.script("GET", people_path, {{200, R"({
    "connections": [
      {"etag": "%E0", "names": [{"displayName": "Nobody Without A Resource Name At All, Which Is Long"}]},
      {"resourceName": "people/c1", "names": [{"displayName": "Fine"}]},
      42,
      {"resourceName": "people/c2", "emailAddresses": "not-a-list"}
    ]
  })"}});
  auto google = client();
  auto page = google.list_connections("", "", 500);
  BOOST_REQUIRE_EQUAL(page.people.size(), 1u);
  BOOST_TEST(page.people[0].formatted_name == "Fine");
  BOOST_REQUIRE_EQUAL(page.errors.size(), 3u);
  BOOST_TEST(page.errors[0].item == 0u);
  BOOST_TEST(page.errors[0].reason == "person has no resourceName");
  BOOST_TEST(page.errors[0].excerpt.size() <= 60u);
  BOOST_TEST(contains(page.errors[0].excerpt, "Nobody"));
  BOOST_TEST(page.errors[1].item == 2u);
  BOOST_TEST(page.errors[1].excerpt == "42");
  BOOST_TEST(page.errors[2].item == 3u);
  BOOST_TEST(page.errors[2].reason == "emailAddresses is not an array");
}

BOOST_FIXTURE_TEST_CASE(events_that_cannot_be_mapped_are_reported_by_index,
                        google_fixture) {
  server.script("GET", events_path("primary"), {{200, R"({
    "items": [
      {"id": "nostart", "status": "confirmed", "summary": "No start"},
      {"id": "good", "start": {"dateTime": "2024-03-10T09:00:00-05:00"}},
      {"id": "badtime", "start": {"dateTime": "2024-13-10T09:00:00Z"}},
      {"start": {"date": "2024-01-01"}}
    ]
  })"}});
  auto google = client();
  auto page = google.list_events("primary", "", "", 250, 0, 86400);
  BOOST_REQUIRE_EQUAL(page.events.size(), 1u);
  BOOST_TEST(page.events[0].external_id == "good");
  BOOST_TEST(page.events[0].position == 1u);
  // A missing end is the start.
  BOOST_TEST(page.events[0].end_unix_s == page.events[0].start_unix_s);
  BOOST_REQUIRE_EQUAL(page.errors.size(), 3u);
  BOOST_TEST(page.errors[0].item == 0u);
  BOOST_TEST(contains(page.errors[0].reason, "no start"));
  BOOST_TEST(contains(page.errors[0].excerpt, "nostart"));
  BOOST_TEST(page.errors[1].item == 2u);
  BOOST_TEST(contains(page.errors[1].reason, "start.dateTime"));
  BOOST_TEST(page.errors[2].item == 3u);
  BOOST_TEST(page.errors[2].reason == "event has no id");
}

BOOST_FIXTURE_TEST_CASE(attendees_are_capped_at_attendees_max,
                        google_fixture) {
  std::string attendees;
  for (int i = 0; i < 250; ++i)
    attendees += (i ? "," : "") + std::string{R"({"email": "p)"}
                 + std::to_string(i) + R"(@example.com"})";
  server.script("GET", events_path("primary"),
                {{200, R"({"items": [{"id": "big", "start": {"date": "2024-01-01"},
                   "end": {"date": "2024-01-02"}, "attendees": [)"
                         + attendees + "]}]}"}});
  auto google = client();
  auto page = google.list_events("primary", "", "", 250, 0, 86400);
  BOOST_REQUIRE_EQUAL(page.events.size(), 1u);
  BOOST_TEST(page.events[0].attendee_emails.size() == attendees_max);
}

// -- arguments and options ------------------------------------------------------------

BOOST_FIXTURE_TEST_CASE(page_sizes_are_clamped_to_what_google_accepts,
                        google_fixture) {
  server.script("GET", people_path, {{200, R"({"connections": []})"}});
  server.script("GET", events_path("primary"), {{200, R"({"items": []})"}});
  auto google = client();
  google.list_connections("", "", 5000);
  google.list_connections("", "", 0);
  google.list_events("primary", "", "", 10000, 0, 86400);
  auto people = server.requests_to("GET", people_path);
  BOOST_REQUIRE_EQUAL(people.size(), 2u);
  BOOST_TEST(people[0].param("pageSize") == "1000");
  BOOST_TEST(people[1].param("pageSize") == "1");
  auto events = server.requests_to("GET", events_path("primary"));
  BOOST_REQUIRE_EQUAL(events.size(), 1u);
  BOOST_TEST(events[0].param("maxResults") == "2500");
}

BOOST_FIXTURE_TEST_CASE(bad_options_and_arguments_are_refused,
                        google_fixture) {
  auto o = options();
  o.attempts_max = 0;
  BOOST_CHECK_THROW((google_client{credentials(), o}), std::invalid_argument);
  o = options();
  o.endpoints.people_base_url = "ftp://people.example";
  BOOST_CHECK_THROW((google_client{credentials(), o}), std::invalid_argument);
  o = options();
  o.endpoints.calendar_base_url = "https://host:notaport";
  BOOST_CHECK_THROW((google_client{credentials(), o}), std::invalid_argument);

  auto google = client();
  BOOST_CHECK_THROW(google.list_events("primary", "", "", 250, 100, 100),
                    std::invalid_argument);
  BOOST_CHECK_THROW(google.list_events("", "", "", 250, 0, 100),
                    std::invalid_argument);
  BOOST_TEST(server.requests().empty());
}

BOOST_AUTO_TEST_SUITE_END()
