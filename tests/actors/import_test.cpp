// SPDX-License-Identifier: Apache-2.0
// Contact and calendar imports through the engine on a real database: the
// fields a user sees, re-imports that update in place, bad items reported
// with file:line and skipped, --strict stopping with earlier pages kept and
// a rerun resuming after them, pages sized by memory pressure, the
// calendar moving last contact dates forward, and the caches dropping what
// an import changed. Streams import like files, report "name:line", and
// never resume.

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "actors/engine_core.hpp"
#include "storage/migrations.hpp"
#include "tests/support/fake_memory_probe.hpp"
#include "tests/support/import_reading.hpp"
#include "tests/support/endless_stream.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_clock.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

// 2026-03-02T12:00:00Z.
constexpr std::int64_t now = 1772452800;
constexpr std::int64_t budget = 1'000'000;
constexpr std::int64_t high_bytes = 750'000; // 75%

struct fixture {
  test::test_database db;
  test::temp_dir dir;
  std::shared_ptr<test::fake_memory_probe> probe
    = std::make_shared<test::fake_memory_probe>();

  fixture() {
    storage::migrate(db.url());
  }

  std::string make_user(const std::string& email = "me@example.org") {
    return db.query("INSERT INTO users (email, timezone) VALUES ('" + email
                    + "', 'Europe/Berlin') RETURNING id")[0];
  }

  std::unique_ptr<engine_core> start(std::int64_t contacts_page_items = 500,
                                std::int64_t events_page_items = 100,
                                std::int64_t batch_rows_max = 100) {
    config::settings s;
    s.generation.batch_rows_max = batch_rows_max;
    s.database.url = db.url();
    s.database.connections_max = 2;
    s.memory.budget_bytes = budget;
    s.memory.sample_interval_ms = 600000;
    s.sync.contacts_page_items = contacts_page_items;
    s.sync.events_page_items = events_page_items;
    engine_options o;
    o.probe = probe;
    o.clock = test::standing_clock();
    return std::make_unique<engine_core>(s, o);
  }

  std::string write(const std::string& name, const std::string& text) {
    auto path = dir / name;
    std::ofstream out{path, std::ios::binary};
    out << text;
    return path;
  }

  std::string one(const std::string& sql) {
    auto rows = db.query(sql);
    BOOST_REQUIRE_EQUAL(rows.size(), 1u);
    return rows[0];
  }

  std::int64_t count(const std::string& sql) {
    return std::stoll(one(sql));
  }
};

import_report import_contacts(engine_core& e, const std::string& user,
                              const std::string& path, bool strict = false) {
  import_request r;
  r.user_id = user;
  r.path = path;
  r.strict = strict;
  r.now_unix_s = now;
  return e.import_file(r);
}

import_report import_calendar(engine_core& e, const std::string& user,
                              const std::string& path) {
  import_request r;
  r.user_id = user;
  r.what = import_request::kind::calendar;
  r.path = path;
  r.now_unix_s = now;
  return e.import_file(r);
}

import_report import_text(engine_core& e, const std::string& user,
                          const std::string& name, const std::string& text,
                          std::optional<contact_format> format
                          = contact_format::vcard,
                          bool strict = false) {
  import_request r;
  r.user_id = user;
  r.path = name;
  r.format = format;
  r.strict = strict;
  r.now_unix_s = now;
  return e.import_stream(r, std::make_unique<std::istringstream>(text));
}

std::string card(const std::string& uid, const std::string& name,
                 const std::string& email,
                 const std::string& extra = {}) {
  return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" + uid + "\r\nFN:" + name
         + "\r\nEMAIL:" + email + "\r\n" + extra + "END:VCARD\r\n";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_import, fixture)

BOOST_AUTO_TEST_CASE(a_real_gmail_card_imports_with_its_fields) {
  auto e = start();
  auto user = make_user();
  auto path = test::real_data_dir("vcard") / "ezvcard_John_Doe_GMAIL.vcf";
  auto r = import_contacts(*e, user, path);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
  BOOST_TEST(r.items == 1u);
  BOOST_TEST(r.inserted == 1);
  auto where = " FROM contacts WHERE user_id = '" + user + "'";
  BOOST_TEST(one("SELECT name" + where) == "Mr. John Richter, James Doe Sr.");
  BOOST_TEST(one("SELECT email" + where) == "john.doe@ibm.com");
  BOOST_TEST(one("SELECT phone" + where) == "905-555-1234");
  BOOST_TEST(one("SELECT organization" + where) == "IBM");
  BOOST_TEST(one("SELECT other_social_media->>'ibm.com'" + where)
             == "http://www.ibm.com");
  BOOST_TEST(one("SELECT left(custom_notes, 31)" + where)
             == "THIS SOFTWARE IS PROVIDED BY TH");
  BOOST_TEST(one("SELECT source || ' ' || sources::text" + where)
             == "vcard {vcard}");
  // No UID in the file: a derived key, so a re-import finds it again.
  BOOST_TEST(one("SELECT left(external_uid, 8)" + where) == "derived:");
  auto again = import_contacts(*e, user, path);
  BOOST_TEST(again.inserted == 0);
  BOOST_TEST(again.updated == 1);
  BOOST_TEST(count("SELECT count(*)" + where) == 1);
}

BOOST_AUTO_TEST_CASE(every_real_vcard_and_csv_export_imports) {
  auto e = start();
  auto user = make_user();
  std::int64_t inserted = 0;
  std::uint64_t skipped = 0;
  for (auto kind : {"vcard", "csv"}) {
    for (auto& entry :
         std::filesystem::directory_iterator(test::real_data_dir(kind))) {
      if (!contact_format_of(entry.path()))
        continue;
      auto r = import_contacts(*e, user, entry.path());
      BOOST_TEST(r.ok(), entry.path() << ": " << r.error);
      inserted += r.inserted;
      skipped += r.skipped;
      for (auto& p : r.problems)
        BOOST_TEST(p.where.rfind(entry.path().string() + ":", 0) == 0u,
                   p.where);
    }
  }
  BOOST_TEST_MESSAGE("real exports: " << inserted << " contacts, " << skipped
                                      << " items skipped");
  BOOST_TEST(inserted >= 50);
  BOOST_TEST(count("SELECT count(*) FROM contacts WHERE user_id = '" + user
                   + "' AND (name = '' OR name IS NULL)")
             == 0);
}

BOOST_AUTO_TEST_CASE(a_reimport_updates_in_place_and_keeps_the_users_fields) {
  auto e = start();
  auto user = make_user();
  auto path = write("a.vcf", card("u1", "Ada", "ada@example.org")
                               + card("u2", "Bob", "bob@example.org")
                               + card("u3", "Cy", "cy@example.org"));
  BOOST_REQUIRE(import_contacts(*e, user, path).ok());
  auto ids = db.query("SELECT id FROM contacts WHERE user_id = '" + user
                      + "' ORDER BY external_uid");
  db.query("UPDATE contacts SET last_contact_date = '2025-01-01', "
           "frequency_preference = 'weekly' WHERE external_uid = 'u2' "
           "RETURNING 1");
  path = write("a.vcf", card("u1", "Ada", "ada@example.org")
                          + card("u2", "Bob B.", "bob@new.example.org")
                          + card("u3", "Cy", "cy@example.org"));
  auto r = import_contacts(*e, user, path);
  BOOST_TEST(r.inserted == 0);
  BOOST_TEST(r.updated == 3);
  BOOST_TEST(db.query("SELECT id FROM contacts WHERE user_id = '" + user
                      + "' ORDER BY external_uid")
             == ids);
  std::string where = " FROM contacts WHERE external_uid = 'u2'";
  BOOST_TEST(one("SELECT name || ' ' || email" + where)
             == "Bob B. bob@new.example.org");
  BOOST_TEST(one("SELECT frequency_preference::text || ' ' || "
                 "last_contact_date::date::text" + where)
             == "weekly 2025-01-01");
}

BOOST_AUTO_TEST_CASE(categories_become_groups_with_memberships) {
  auto e = start();
  auto user = make_user();
  auto path = write("g.vcf",
                    card("u1", "Ada", "ada@example.org",
                         "CATEGORIES:Friends,Climbing\r\n")
                      + card("u2", "Bob", "bob@example.org",
                             "CATEGORIES:Friends\r\n"));
  BOOST_REQUIRE(import_contacts(*e, user, path).ok());
  BOOST_TEST(one("SELECT string_agg(name, ',' ORDER BY name) FROM groups "
                 "WHERE user_id = '" + user + "'")
             == "Climbing,Friends");
  BOOST_TEST(count("SELECT count(*) FROM contact_groups WHERE user_id = '"
                   + user + "'")
             == 3);
  BOOST_REQUIRE(import_contacts(*e, user, path).ok());
  BOOST_TEST(count("SELECT count(*) FROM contact_groups WHERE user_id = '"
                   + user + "'")
             == 3);
}

BOOST_AUTO_TEST_CASE(a_bad_card_is_reported_with_its_line_and_skipped) {
  auto e = start();
  auto user = make_user();
  // The second card is not UTF-8 (a Latin-1 byte without CHARSET).
  auto path = write("bad.vcf", card("u1", "Ada", "ada@example.org")
                                 + card("u2", "Andr\xe9", "andre@example.org")
                                 + card("u3", "Cy", "cy@example.org"));
  auto r = import_contacts(*e, user, path);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
  BOOST_TEST(r.items == 3u);
  BOOST_TEST(r.inserted == 2);
  BOOST_TEST(r.skipped == 1u);
  BOOST_REQUIRE_EQUAL(r.problems.size(), 1u);
  BOOST_TEST(r.problems[0].where == path + ":10");
  BOOST_TEST(!r.problems[0].reason.empty());
  BOOST_TEST(one("SELECT string_agg(external_uid, ',' ORDER BY external_uid) FROM "
                 "contacts WHERE user_id = '" + user + "'")
             == "u1,u3");
}

BOOST_AUTO_TEST_CASE(strict_writes_nothing_when_any_item_is_bad) {
  auto e = start(2);
  auto user = make_user();
  auto cards = [](int from, int to) {
    std::string text;
    for (int i = from; i <= to; ++i)
      text += card("u" + std::to_string(i), "N" + std::to_string(i),
                   "n" + std::to_string(i) + "@example.org");
    return text;
  };
  // Pages of 2: the bad card (not UTF-8) is on page 3, a NUL byte on 4.
  auto path = write("strict.vcf", cards(1, 4)
                                    + card("u5", "Andr\xe9", "andre@example.org")
                                    + cards(6, 6)
                                    + card("u7", std::string{"N\0ul", 4},
                                           "nul@example.org"));
  auto r = import_contacts(*e, user, path, true);
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.error.find("--strict: nothing was written") != std::string::npos,
             r.error);
  BOOST_TEST(r.error.find(path + ":28") != std::string::npos, r.error);
  BOOST_TEST(count("SELECT count(*) FROM contacts WHERE user_id = '" + user
                   + "'")
             == 0);
  // A field that cannot be stored counts as bad too.
  auto nul_only = write("strict-nul.vcf",
                        cards(1, 4)
                          + card("u7", std::string{"N\0ul", 4}, "n@example.org"));
  auto r2 = import_contacts(*e, user, nul_only, true);
  BOOST_TEST(!r2.ok());
  BOOST_TEST(r2.error.find("NUL byte") != std::string::npos, r2.error);
  BOOST_TEST(count("SELECT count(*) FROM contacts WHERE user_id = '" + user
                   + "'")
             == 0);
  // Without --strict the good cards go in and the bad ones are named.
  auto lenient = import_contacts(*e, user, path);
  BOOST_REQUIRE_MESSAGE(lenient.ok(), lenient.error);
  BOOST_TEST(lenient.skipped == 2u);
  BOOST_TEST(count("SELECT count(*) FROM contacts WHERE user_id = '" + user
                   + "'")
             == 5);
  // A clean file under --strict imports whole.
  auto clean = write("clean.vcf", cards(10, 14));
  auto r3 = import_contacts(*e, user, clean, true);
  BOOST_REQUIRE_MESSAGE(r3.ok(), r3.error);
  BOOST_TEST(r3.inserted == 5);
}

BOOST_AUTO_TEST_CASE(pages_shrink_with_memory_pressure) {
  auto e = start(8);
  auto user = make_user();
  std::string text;
  for (int i = 1; i <= 10; ++i)
    text += card("u" + std::to_string(i), "N" + std::to_string(i),
                 "n" + std::to_string(i) + "@example.org");
  auto path = write("p.vcf", text);
  auto normal = import_contacts(*e, user, path);
  BOOST_TEST(normal.pages == 2u);
  BOOST_TEST(normal.page_items_min == 8u);
  probe->set(high_bytes);
  BOOST_REQUIRE(e->sample_memory().level == pressure_level::high);
  auto high = import_contacts(*e, user, path);
  BOOST_TEST(high.page_items_min == 2u); // a quarter of 8
  BOOST_TEST(high.pages == 5u);
  BOOST_TEST(high.updated == 10);
}

BOOST_AUTO_TEST_CASE(pages_follow_the_configured_policy_table_at_every_level) {
  // A configured batch of 40 rows and pages of 40 contacts: pages take the
  // engine's table's import share of the configured page size at each
  // level (the batch size does not distort it, see core/pressure.hpp),
  // and critical starts no import.
  constexpr std::int64_t page = 40;
  constexpr std::int64_t batch = 40;
  auto e = start(page, 100, batch);
  const pressure_policy_table table{static_cast<std::size_t>(batch), 50};
  auto user = make_user();
  std::string text;
  for (int i = 1; i <= 40; ++i)
    text += card("u" + std::to_string(i), "N" + std::to_string(i),
                 "n" + std::to_string(i) + "@example.org");
  auto path = write("levels.vcf", text);
  struct step {
    pressure_level level;
    std::int64_t bytes;
    std::size_t items;
    std::uint64_t pages;
  };
  // Rising levels: the classifier enters each at once.
  for (auto s : {step{pressure_level::normal, 0, 40, 1},
                 step{pressure_level::elevated, 650'000, 20, 2},
                 step{pressure_level::high, high_bytes, 10, 4}}) {
    probe->set(s.bytes);
    BOOST_REQUIRE(e->sample_memory().level == s.level);
    auto expected
      = table.import_page_items(s.level, static_cast<std::size_t>(page));
    BOOST_TEST(expected == s.items, to_string(s.level));
    auto r = import_contacts(*e, user, path);
    BOOST_TEST(r.ok(), r.error);
    BOOST_TEST(r.page_items_min == expected, to_string(s.level));
    BOOST_TEST(r.pages == s.pages, to_string(s.level));
    BOOST_TEST(r.items == 40u, to_string(s.level));
  }
  BOOST_TEST(table.import_page_items(pressure_level::critical,
                                     static_cast<std::size_t>(page))
             == 0u);
  probe->set(900'000);
  BOOST_REQUIRE(e->sample_memory().level == pressure_level::critical);
  try {
    import_contacts(*e, user, path);
    BOOST_ERROR("an import started at critical pressure");
  } catch (const engine_error& err) {
    BOOST_TEST((err.code() == ec::memory_critical));
  }
}

BOOST_AUTO_TEST_CASE(files_that_cannot_be_imported_give_clear_errors) {
  auto e = start();
  auto user = make_user();
  auto good = write("ok.vcf", card("u1", "Ada", "ada@example.org"));
  try {
    import_contacts(*e, user, dir / "missing.vcf");
    BOOST_FAIL("a missing file was imported");
  } catch (const engine_error& err) {
    BOOST_TEST((err.code() == ec::invalid_input));
    BOOST_TEST(std::string{err.what()}.find("missing.vcf") != std::string::npos,
               err.what());
  }
  try {
    import_contacts(*e, user, write("notes.txt", "hello"));
    BOOST_FAIL("a .txt file was imported");
  } catch (const engine_error& err) {
    BOOST_TEST((err.code() == ec::invalid_input));
    BOOST_TEST(std::string{err.what()}.find("unknown contacts format")
                 != std::string::npos,
               err.what());
  }
  try {
    import_contacts(*e, "00000000-0000-0000-0000-000000000001", good);
    BOOST_FAIL("a file was imported for an unknown user");
  } catch (const engine_error& err) {
    // Said before any page runs, as not_found.
    BOOST_TEST((err.code() == ec::not_found));
    BOOST_TEST(std::string{err.what()}.find("no user") != std::string::npos,
               err.what());
  }
  // A whole file of another kind is one clear error, not a skipped item.
  auto refused = [&](const std::string& path, bool calendar) {
    try {
      calendar ? import_calendar(*e, user, path)
               : import_contacts(*e, user, path);
    } catch (const engine_error& err) {
      BOOST_TEST((err.code() == ec::invalid_input));
      return std::string{err.what()};
    }
    BOOST_ERROR(path + " was imported");
    return std::string{};
  };
  auto text_vcf = write("x.vcf", "hello\n");
  BOOST_TEST(refused(text_vcf, false)
             == text_vcf + " is not a vCard file: no BEGIN:VCARD in its "
                           "first 4096 bytes");
  auto png = write("photo.vcf", std::string{"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16});
  BOOST_TEST(refused(png, false).find("is not a vCard file: it is not text")
             != std::string::npos);
  auto ics_as_contacts
    = write("cal.vcf", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n");
  BOOST_TEST(refused(ics_as_contacts, false).find("it is an iCalendar file")
             != std::string::npos);
  auto vcf_as_calendar = write("cards.ics", card("u1", "Ada", "ada@example.org"));
  BOOST_TEST(refused(vcf_as_calendar, true).find("is not an iCalendar file: it "
                                                 "is a vCard file")
             != std::string::npos);
  auto vcf_as_csv = write("cards.csv", card("u1", "Ada", "ada@example.org"));
  BOOST_TEST(refused(vcf_as_csv, false).find("is not a CSV file")
             != std::string::npos);
  // An empty file is not of another kind: it has no items.
  auto empty = import_contacts(*e, user, write("empty.vcf", ""));
  BOOST_TEST(empty.ok());
  BOOST_TEST(empty.items == 0u);
}

BOOST_AUTO_TEST_CASE(one_bad_field_costs_its_item_not_its_page) {
  auto e = start();
  auto user = make_user();
  // Incompressible text longer than a btree index row may be (2,704
  // bytes): a repetitive one could be compressed below the limit.
  std::string noise;
  for (std::uint32_t x = 12345; noise.size() < 3000;) {
    x = x * 1103515245u + 12345u;
    noise += static_cast<char>('a' + (x >> 16) % 26);
  }
  // 2,000 cards, 500 a page, with hostile fields among them.
  std::string text;
  std::vector<std::string> bad_uids;
  for (int i = 0; i < 2000; ++i) {
    const auto uid = "c" + std::to_string(i);
    switch (i) {
      case 100: // a NUL byte in the name
        text += card(uid, std::string{"Nul\0Name", 8}, "n@example.org");
        break;
      case 700: // a UID far over the index limit
        text += card(noise, "Long Uid", "l@example.org");
        break;
      case 1100: // an e-mail far over it
        text += card(uid, "Long Mail", noise + "@example.org");
        break;
      case 1500: // a category far over it
        text += card(uid, "Long Group", "g@example.org",
                     "CATEGORIES:" + noise + "\r\n");
        break;
      case 1900: // a control character in the name
        text += card(uid, "Bell\aName", "b@example.org");
        break;
      default:
        text += card(uid, "P" + std::to_string(i),
                     "p" + std::to_string(i) + "@example.org");
        continue;
    }
    bad_uids.push_back(uid);
  }
  auto path = write("hostile.vcf", text);
  auto r = import_contacts(*e, user, path);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
  BOOST_TEST(r.items == 2000u);
  BOOST_TEST(r.inserted == 1995);
  BOOST_TEST(r.skipped == 5u);
  BOOST_REQUIRE_EQUAL(r.problems.size(), 5u);
  // Each names its card's first line (6 lines a card here) and the field.
  BOOST_TEST(r.problems[0].where == path + ":601");
  BOOST_TEST(r.problems[0].reason.find("field name holds a NUL byte")
               != std::string::npos,
             r.problems[0].reason);
  BOOST_TEST(r.problems[1].reason.find("field key (UID) is 3000 bytes")
               != std::string::npos,
             r.problems[1].reason);
  BOOST_TEST(r.problems[2].reason.find("field e-mail is 3012 bytes")
               != std::string::npos,
             r.problems[2].reason);
  BOOST_TEST(r.problems[3].reason.find("field group (category) is 3000 bytes")
               != std::string::npos,
             r.problems[3].reason);
  BOOST_TEST(r.problems[4].reason.find("control character U+0007")
               != std::string::npos,
             r.problems[4].reason);
  BOOST_TEST(one("SELECT count(*) FROM contacts WHERE user_id = '" + user + "'")
             == "1995");
  // A rerun goes through too (nothing blocks it at a page).
  auto again = import_contacts(*e, user, path);
  BOOST_REQUIRE_MESSAGE(again.ok(), again.error);
  BOOST_TEST(again.updated == 1995);
  // A CSV row with a NUL byte costs that row alone.
  auto csv = write("hostile.csv", std::string{"Name,E-mail Address\n"
                                               "Ann,ann@example.org\n"
                                               "Nul\0Row,nul@example.org\n"
                                               "Bea,bea@example.org\n",
                                               84});
  auto rc = import_contacts(*e, user, csv);
  BOOST_REQUIRE_MESSAGE(rc.ok(), rc.error);
  BOOST_TEST(rc.inserted == 2);
  BOOST_REQUIRE_EQUAL(rc.problems.size(), 1u);
  BOOST_TEST(rc.problems[0].where == csv + ":3");
}

BOOST_AUTO_TEST_CASE(a_calendar_report_counts_events_outside_its_window) {
  auto e = start();
  auto user = make_user();
  auto ev = [](const std::string& uid, const std::string& start) {
    return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTART:" + start
           + "\r\nDURATION:PT1H\r\nEND:VEVENT\r\n";
  };
  // The window is a year either side of the test's now (2026-03-02).
  auto path = write("old.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n"
                                 + ev("in", "20260303T100000Z")
                                 + ev("old", "20100101T100000Z")
                                 + ev("far", "20400101T100000Z")
                                 + "END:VCALENDAR\r\n");
  auto r = import_calendar(*e, user, path);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
  BOOST_TEST(r.inserted == 1);
  BOOST_TEST(r.outside_window == 2u);
  BOOST_TEST(r.window_from_unix_s == now - 365 * 86400);
  BOOST_TEST(r.window_to_unix_s == now + 365 * 86400);
}

BOOST_AUTO_TEST_CASE(vcard_21_charsets_are_decoded) {
  auto e = start();
  auto user = make_user();
  // ISO-8859-2 in quoted-printable (with a soft line break) and raw
  // windows-1250, as old phones export them.
  auto path = write("old-phone.vcf",
                    "BEGIN:VCARD\r\nVERSION:2.1\r\nUID:p1\r\n"
                    "FN;CHARSET=ISO-8859-2;ENCODING=QUOTED-PRINTABLE:"
                    "=A3ukasz =A9wi=EA=\r\ntek\r\nEND:VCARD\r\n"
                    "BEGIN:VCARD\r\nVERSION:2.1\r\nUID:p2\r\n"
                    "FN;CHARSET=windows-1250:\x8Ctefan \xA3" "ada\r\n"
                    "END:VCARD\r\n");
  auto r = import_contacts(*e, user, path);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
  BOOST_TEST(r.inserted == 2);
  BOOST_TEST(r.skipped == 0u);
  BOOST_TEST(one("SELECT string_agg(name, ',' ORDER BY external_uid) FROM "
                 "contacts WHERE user_id = '" + user + "'")
             == "\xC5\x81ukasz \xC5\xA0wi\xC4\x99tek,\xC5\x9Atefan \xC5\x81" "ada");
}

BOOST_AUTO_TEST_CASE(inputs_that_never_end_are_refused_or_stopped) {
  auto e = start();
  auto user = make_user();
  // A device that never ends and a pipe nobody writes (a read would block
  // beyond any cancellation) are refused before a byte is read.
  auto fifo = dir / "never-written.ics";
  BOOST_REQUIRE_EQUAL(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::string& path : {std::string{"/dev/zero"}, fifo}) {
    try {
      import_calendar(*e, user, path);
      BOOST_FAIL(path + " was imported");
    } catch (const engine_error& err) {
      BOOST_TEST((err.code() == ec::invalid_input));
      BOOST_TEST(std::string{err.what()}.find(path + ": not a regular file")
                   != std::string::npos,
                 err.what());
    }
  }
  // A stream that sends bytes for ever without a line ending stops after a
  // bounded number of them, with file:line and why; what came before stays.
  auto source = std::make_unique<test::endless_buffer>('\0');
  struct owning_stream : std::istream {
    explicit owning_stream(std::unique_ptr<std::streambuf> b)
      : std::istream(b.get()), buffer(std::move(b)) {}
    std::unique_ptr<std::streambuf> buffer;
  };
  import_request r;
  r.user_id = user;
  r.path = "upload.vcf";
  r.format = contact_format::vcard;
  r.now_unix_s = now;
  auto report = e->import_stream(
    r, std::make_unique<owning_stream>(std::move(source)));
  BOOST_TEST(!report.ok());
  BOOST_TEST(report.error.find("upload.vcf:1: a line runs on past")
               != std::string::npos,
             report.error);
}

BOOST_AUTO_TEST_CASE(past_meetings_move_last_contact_dates_forward_only) {
  auto e = start();
  auto user = make_user("me@example.org");
  BOOST_REQUIRE(import_contacts(*e, user,
                                write("c.vcf",
                                      card("u1", "Ada", "Ada@Example.org")
                                        + card("u2", "Bob", "bob@example.org")))
                  .ok());
  // Bob was met after the calendar's meeting: his date must stay.
  db.query("UPDATE contacts SET last_contact_date = '2026-02-20T10:00:00Z' "
           "WHERE external_uid = 'u2' RETURNING 1");
  auto ada = one("SELECT id FROM contacts WHERE external_uid = 'u1'");
  BOOST_TEST(!e->contact(user, ada).has_last_contact); // now cached
  auto ics = write(
    "work.ics",
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n"
    "BEGIN:VEVENT\r\nUID:e1\r\nDTSTART:20260210T100000Z\r\n"
    "DTEND:20260210T110000Z\r\nSUMMARY:Coffee\r\n"
    "ORGANIZER:mailto:me@example.org\r\n"
    "ATTENDEE:mailto:ada@example.org\r\nATTENDEE:MAILTO:BOB@example.org\r\n"
    "END:VEVENT\r\n"
    "BEGIN:VEVENT\r\nUID:e2\r\nDTSTART:20260310T100000Z\r\n"
    "DTEND:20260310T110000Z\r\nSUMMARY:Future lunch\r\nTRANSP:TRANSPARENT\r\n"
    "ATTENDEE:mailto:ada@example.org\r\nEND:VEVENT\r\n"
    "END:VCALENDAR\r\n");
  auto r = import_calendar(*e, user, ics);
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
  BOOST_TEST(r.inserted == 2);
  BOOST_TEST(r.last_contact_moved == 1);
  // 2026-02-10T10:00Z, through the contact cache: the import dropped it.
  auto seen = e->contact(user, ada);
  BOOST_TEST(seen.has_last_contact);
  BOOST_TEST(seen.last_contact_unix_s == 1770717600);
  BOOST_TEST(one("SELECT last_contact_date::text FROM contacts WHERE "
                 "external_uid = 'u2'")
             == "2026-02-20 10:00:00+00");
  BOOST_TEST(one("SELECT string_agg(external_id || ':' || is_busy::text || ':' "
                 "|| calendar_id, ',' ORDER BY external_id) FROM "
                 "calendar_events WHERE user_id = '" + user + "'")
             == "e1:true:work.ics,e2:false:work.ics");
}

BOOST_AUTO_TEST_CASE(a_calendar_cursor_resumes_only_under_the_same_window) {
  auto e = start(500, 2);
  auto user = make_user();
  auto ev = [](const std::string& uid, const std::string& day) {
    return "BEGIN:VEVENT\r\nUID:" + uid + "\r\nDTSTART:202603" + day
           + "T100000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\n";
  };
  // Page 1 (a, b) commits; page 2 stops at the line after c, which does
  // not end within four items' bytes, leaving the cursor after page 1.
  auto path = write("w.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n"
                               + ev("a", "03") + ev("b", "04") + ev("c", "05")
                               + std::string(5 * 1024 * 1024, 'X')
                               + "\r\n" + ev("d", "06") + "END:VCALENDAR\r\n");
  import_request r;
  r.user_id = user;
  r.what = import_request::kind::calendar;
  r.path = path;
  r.now_unix_s = now;
  auto first = e->import_file(r);
  BOOST_TEST(!first.ok());
  BOOST_TEST(first.error.find("a line runs on past") != std::string::npos,
             first.error);
  BOOST_TEST(first.inserted == 2);
  // A day later the window differs: the item count of the old cursor
  // would skip other instances, so the run starts over.
  r.now_unix_s = now + 86400;
  auto later = e->import_file(r);
  BOOST_TEST(later.resumed_items == 0u);
  BOOST_TEST(later.error.find("a line runs on past") != std::string::npos,
             later.error);
  // That run left its own cursor: a rerun under its window resumes there.
  auto same = e->import_file(r);
  BOOST_TEST(same.resumed_items == 2u);
}

BOOST_AUTO_TEST_CASE(a_cancelled_event_is_removed_on_the_next_import) {
  auto e = start();
  auto user = make_user();
  auto event = [](const std::string& status) {
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n"
           "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTART:20260302T170000Z\r\n"
           "DURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n" + status
           + "END:VEVENT\r\n"
             "BEGIN:VEVENT\r\nUID:one\r\nDTSTART:20260305T170000Z\r\n"
             "DTEND:20260305T180000Z\r\n" + status
           + "END:VEVENT\r\nEND:VCALENDAR\r\n";
  };
  auto path = write("cal.ics", event(""));
  auto first = import_calendar(*e, user, path);
  BOOST_REQUIRE_MESSAGE(first.ok(), first.error);
  BOOST_TEST(first.inserted == 4);
  BOOST_TEST(one("SELECT string_agg(external_id, ',' ORDER BY external_id) "
                 "FROM calendar_events WHERE user_id = '" + user + "'")
             == "one,weekly/20260302T170000Z,weekly/20260309T170000Z,"
                "weekly/20260316T170000Z");
  path = write("cal.ics", event("STATUS:CANCELLED\r\n"));
  auto second = import_calendar(*e, user, path);
  BOOST_REQUIRE_MESSAGE(second.ok(), second.error);
  BOOST_TEST(second.deleted == 4);
  BOOST_TEST(count("SELECT count(*) FROM calendar_events WHERE user_id = '"
                   + user + "'")
             == 0);
}

BOOST_AUTO_TEST_CASE(a_stream_imports_the_same_contacts_as_its_file) {
  auto e = start();
  auto from_files = make_user("files@example.org");
  auto from_streams = make_user("streams@example.org");
  std::size_t inputs = 0;
  for (auto kind : {"vcard", "csv"}) {
    for (auto& entry :
         std::filesystem::directory_iterator(test::real_data_dir(kind))) {
      auto format = contact_format_of(entry.path());
      if (!format)
        continue;
      std::ifstream in{entry.path(), std::ios::binary};
      std::string text{std::istreambuf_iterator<char>{in}, {}};
      auto name = entry.path().filename().string();
      auto file = import_contacts(*e, from_files, entry.path());
      auto stream = import_text(*e, from_streams, name, text, format);
      BOOST_TEST(stream.ok(), name << ": " << stream.error);
      BOOST_TEST(stream.items == file.items, name);
      BOOST_TEST(stream.inserted == file.inserted, name);
      BOOST_TEST(stream.skipped == file.skipped, name);
      BOOST_TEST(stream.resumed_items == 0u);
      BOOST_TEST(stream.bytes == file.bytes, name);
      BOOST_TEST(stream.bytes_total == 0u); // unknown for a stream
      BOOST_REQUIRE_EQUAL(stream.problems.size(), file.problems.size());
      for (std::size_t i = 0; i < file.problems.size(); ++i) {
        // The same line, located by the stream's name.
        auto line = file.problems[i].where.substr(
          file.problems[i].where.rfind(':'));
        BOOST_TEST(stream.problems[i].where == name + line);
        BOOST_TEST(stream.problems[i].reason == file.problems[i].reason);
      }
      ++inputs;
    }
  }
  BOOST_TEST(inputs >= 20u);
  auto contacts = [&](const std::string& user) {
    return one("SELECT count(*) || ' ' || md5(coalesce(string_agg(row(name, "
               "phone, email, linked_in, x_handle, other_social_media, "
               "location, timezone, organization, custom_notes, "
               "last_contact_date, frequency_preference, source, sources, "
               "external_uid, external_revision)::text, E'\\n' ORDER BY "
               "external_uid), '')) FROM contacts WHERE user_id = '" + user
               + "'");
  };
  BOOST_TEST(contacts(from_streams) == contacts(from_files));
  BOOST_TEST(contacts(from_files).rfind("0 ", 0) != 0u);
}

BOOST_AUTO_TEST_CASE(a_bad_item_in_a_stream_is_reported_as_name_and_line) {
  auto e = start();
  auto user = make_user();
  auto r = import_text(*e, user, "upload.vcf",
                       card("u1", "Ada", "ada@example.org")
                         + card("u2", "Andr\xe9", "andre@example.org")
                         + card("u3", "Cy", "cy@example.org"));
  BOOST_REQUIRE_MESSAGE(r.ok(), r.error);
  BOOST_TEST(r.items == 3u);
  BOOST_TEST(r.inserted == 2);
  BOOST_REQUIRE_EQUAL(r.problems.size(), 1u);
  BOOST_TEST(r.problems[0].where == "upload.vcf:10");
  // A calendar stream locates its problems the same way, and files its
  // events under the name.
  import_request c;
  c.user_id = user;
  c.what = import_request::kind::calendar;
  c.path = "uploads/work.ics";
  c.now_unix_s = now;
  auto cal = e->import_stream(
    c, std::make_unique<std::istringstream>(
         "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n"
         "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260303T100000Z\r\n"
         "DURATION:PT1H\r\nEND:VEVENT\r\n"
         "BEGIN:VEVENT\r\nUID:b\r\nEND:VEVENT\r\n"
         "END:VCALENDAR\r\n"));
  BOOST_REQUIRE_MESSAGE(cal.ok(), cal.error);
  BOOST_TEST(cal.inserted == 1);
  BOOST_REQUIRE_EQUAL(cal.problems.size(), 1u);
  // Line 9 opens the event without a DTSTART.
  BOOST_TEST(cal.problems[0].where == "uploads/work.ics:9");
  BOOST_TEST(one("SELECT calendar_id FROM calendar_events WHERE user_id = '"
                 + user + "'")
             == "work.ics");
}

BOOST_AUTO_TEST_CASE(a_stream_never_resumes_so_a_rerun_imports_everything) {
  auto e = start(2);
  auto user = make_user();
  std::string text;
  for (int i = 1; i <= 4; ++i)
    text += card("u" + std::to_string(i), "N" + std::to_string(i),
                 "n" + std::to_string(i) + "@example.org");
  text += card("u5", "Andr\xe9", "andre@example.org");
  for (int i = 6; i <= 7; ++i)
    text += card("u" + std::to_string(i), "N" + std::to_string(i),
                 "n" + std::to_string(i) + "@example.org");
  // A strict run stops at page 3 and leaves a cursor after item 4.
  auto first = import_text(*e, user, "upload", text, contact_format::vcard,
                           true);
  BOOST_TEST(!first.ok());
  BOOST_TEST(first.error.find("upload:") != std::string::npos, first.error);
  BOOST_TEST(one("SELECT status || ' ' || items_synced || ' ' || resource "
                 "FROM sync_state WHERE user_id = '" + user + "'")
             == "failed 4 stream:upload");
  // The rerun reads the new stream from its start all the same.
  auto rerun = import_text(*e, user, "upload", text);
  BOOST_REQUIRE_MESSAGE(rerun.ok(), rerun.error);
  BOOST_TEST(rerun.resumed_items == 0u);
  BOOST_TEST(rerun.items == 7u);
  BOOST_TEST(rerun.updated == 4);
  BOOST_TEST(rerun.inserted == 2);
  BOOST_TEST(rerun.skipped == 1u);
  auto again = import_text(*e, user, "upload", text);
  BOOST_TEST(again.items == 7u);
  BOOST_TEST(again.updated == 6);
  // Another name has its own sync state.
  BOOST_REQUIRE(import_text(*e, user, "other", card("u9", "Zed",
                                                    "zed@example.org"))
                  .ok());
  BOOST_TEST(one("SELECT string_agg(resource || ' ' || status, ',' ORDER BY "
                 "resource) FROM sync_state WHERE user_id = '" + user + "'")
             == "stream:other succeeded,stream:upload succeeded");
  BOOST_TEST(count("SELECT count(*) FROM contacts WHERE user_id = '" + user
                   + "'")
             == 7);
}

BOOST_AUTO_TEST_CASE(a_contacts_stream_needs_its_format_and_a_name) {
  auto e = start();
  auto user = make_user();
  auto code = [&](const std::string& name,
                  std::optional<contact_format> format) {
    try {
      import_text(*e, user, name, card("u1", "Ada", "ada@example.org"),
                  format);
    } catch (const engine_error& err) {
      return err.code();
    }
    return ec::none;
  };
  BOOST_TEST((code("upload.vcf", std::nullopt) == ec::invalid_input));
  BOOST_TEST((code("", contact_format::vcard) == ec::invalid_input));
  import_request r;
  r.user_id = user;
  r.path = "null";
  r.format = contact_format::vcard;
  try {
    e->import_stream(r, nullptr);
    BOOST_FAIL("a null stream was imported");
  } catch (const engine_error& err) {
    BOOST_TEST((err.code() == ec::invalid_input));
  }
  BOOST_TEST(count("SELECT count(*) FROM contacts") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
