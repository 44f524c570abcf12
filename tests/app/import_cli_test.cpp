// SPDX-License-Identifier: Apache-2.0
// `catchup import` as a user runs it, and killed (SIGKILL) at random points
// while it imports: every rerun resumes, and the final rows are exactly
// those of a run that was never interrupted - nothing lost, nothing twice.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <fcntl.h>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "storage/migrations.hpp"
#include "storage/process.hpp"
#include "tests/support/catchup_binary.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

std::string binary() {
  return test::catchup_binary();
}

storage::process_result run(std::vector<std::string> args) {
  return test::run_catchup(std::move(args));
}

/// Runs `args`, reads its stderr line by line, and kills it with SIGKILL
/// right after its `kill_after`-th progress line (a committed page), so it
/// dies somewhere inside the next page. @returns true if it was killed,
/// false if it ended first.
bool run_and_kill(std::vector<std::string> args, int kill_after,
                  int signal = SIGKILL, int* exit_code = nullptr) {
  args.insert(args.begin(), binary());
  int err[2];
  BOOST_REQUIRE(::pipe(err) == 0);
  auto pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(err[1], STDERR_FILENO);
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, STDOUT_FILENO);
    ::close(err[0]);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(err[1]);
  int seen = 0;
  bool killed = false;
  std::string line;
  char c;
  while (::read(err[0], &c, 1) == 1) {
    if (c != '\n') {
      line += c;
      continue;
    }
    if (!killed && line.rfind("progress: ", 0) == 0 && ++seen == kill_after) {
      ::kill(pid, signal);
      killed = true;
      if (signal == SIGKILL)
        break;
      // A signal it handles: read on to the end, or its last words on a
      // closed pipe would kill it with SIGPIPE.
    }
    line.clear();
  }
  ::close(err[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (exit_code != nullptr)
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return killed && (signal != SIGKILL || WIFSIGNALED(status));
}

std::string card(int i) {
  auto n = std::to_string(i);
  // Every 97th card is broken (8-bit text without CHARSET): skipped and
  // counted by every run alike.
  auto name = i % 97 == 0 ? std::string{"Bad\xe9 "} + n : "Person " + n;
  return "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:card-" + n + "\r\nFN:" + name
         + "\r\nEMAIL:p" + n + "@example.org\r\nTEL:+49 30 " + n
         + "\r\nCATEGORIES:group" + std::to_string(i % 7) + ",all\r\n"
         + "END:VCARD\r\n";
}

struct fixture {
  test::test_database db;
  test::temp_dir dir;

  fixture() {
    storage::migrate(db.url());
  }

  std::string make_user(const std::string& email) {
    return db.query("INSERT INTO users (email) VALUES ('" + email
                    + "') RETURNING id")[0];
  }

  /// The user's imported rows without ids and times: what a person sees.
  std::vector<std::string> rows(const std::string& user) {
    auto where = " WHERE user_id = '" + user + "'";
    return {
      db.query("SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', "
               "name, email, phone, external_uid, source, sources::text, "
               "other_social_media::text), ',' ORDER BY external_uid)) FROM "
               "contacts" + where)[0],
      db.query("SELECT count(*) || ' ' || md5(string_agg(g.name, ',' "
               "ORDER BY g.name)) FROM groups g" + where)[0],
      db.query("SELECT count(*) || ' ' || md5(string_agg(c.external_uid || "
               "'>' || g.name, ',' ORDER BY c.external_uid, g.name)) FROM "
               "contact_groups cg JOIN contacts c ON c.id = cg.contact_id "
               "JOIN groups g ON g.id = cg.group_id WHERE cg.user_id = '"
               + user + "'")[0],
      db.query("SELECT count(*) || ' ' || md5(string_agg(concat_ws('|', "
               "external_id, summary, start_time::text, end_time::text, "
               "is_busy::text), ',' ORDER BY external_id)) FROM "
               "calendar_events" + where)[0],
    };
  }

  std::vector<std::string> import_args(const std::string& kind,
                                       const std::string& user,
                                       const std::string& file) {
    return {"import", kind, "--user", user, file, "--database-url", db.url(),
            "--sync-contacts-page-items", "25", "--sync-events-page-items",
            "25", "--now", "2026-03-02T12:00:00Z", "--progress"};
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(app_import, fixture)

BOOST_AUTO_TEST_CASE(killed_contact_imports_resume_to_the_same_rows) {
  constexpr int cards = 2000; // 80 pages of 25
  auto path = dir / "contacts.vcf";
  {
    std::ofstream out{path, std::ios::binary};
    for (int i = 1; i <= cards; ++i)
      out << card(i);
  }
  auto reference = make_user("reference@example.org");
  auto r = run(import_args("contacts", reference, path));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  auto expected = rows(reference);
  BOOST_TEST(expected[0].rfind("1980 ", 0) == 0u, expected[0]); // 20 bad

  auto user = make_user("killed@example.org");
  std::random_device device;
  auto seed = device();
  BOOST_TEST_MESSAGE("kill points drawn with seed " << seed);
  std::mt19937 rng{seed};
  int kills = 0;
  for (int round = 0; round < 5; ++round) {
    // Each run resumes where the last one was killed; kill it after 1-12
    // more pages.
    auto after = std::uniform_int_distribution<int>{1, 12}(rng);
    kills += run_and_kill(import_args("contacts", user, path), after) ? 1 : 0;
  }
  BOOST_TEST(kills >= 4, kills << " of 5 runs were killed mid-import");
  BOOST_TEST(db.query("SELECT status FROM sync_state WHERE user_id = '" + user
                      + "'")[0]
             == "running");
  auto last = run(import_args("contacts", user, path));
  BOOST_REQUIRE_MESSAGE(last.exit_code == 0, last.output);
  BOOST_TEST(last.output.find("resumed after") != std::string::npos,
             last.output);
  BOOST_TEST(rows(user) == expected);
}

BOOST_AUTO_TEST_CASE(killed_calendar_imports_resume_to_the_same_rows) {
  // 1,500 single meetings and 20 weekly series of 26 instances each in
  // the window around 2026-03-02: 2,020 items, 2,020 rows.
  auto path = dir / "calendar.ics";
  {
    std::ofstream out{path, std::ios::binary};
    out << "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n";
    for (int i = 0; i < 1520; ++i) {
      auto day = 1 + i % 28;
      auto month = 1 + (i / 28) % 12;
      char start[32];
      std::snprintf(start, sizeof start, "2026%02d%02dT%02d0000Z", month, day,
                    8 + i % 10);
      out << "BEGIN:VEVENT\r\nUID:ev-" << i << "\r\nDTSTART:" << start
          << "\r\nDURATION:PT1H\r\nSUMMARY:Meeting " << i << "\r\n";
      if (i >= 1500)
        out << "RRULE:FREQ=WEEKLY;COUNT=26\r\n";
      if (i % 9 == 0)
        out << "TRANSP:TRANSPARENT\r\n";
      out << "END:VEVENT\r\n";
    }
    out << "END:VCALENDAR\r\n";
  }
  auto reference = make_user("calendar-reference@example.org");
  auto r = run(import_args("calendar", reference, path));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  auto expected = rows(reference);
  BOOST_TEST(expected[3].rfind("2020 ", 0) == 0u, expected[3]);

  auto user = make_user("calendar-killed@example.org");
  std::random_device device;
  auto seed = device();
  BOOST_TEST_MESSAGE("kill points drawn with seed " << seed);
  std::mt19937 rng{seed};
  int kills = 0;
  for (int round = 0; round < 5; ++round) {
    auto after = std::uniform_int_distribution<int>{1, 12}(rng);
    kills += run_and_kill(import_args("calendar", user, path), after) ? 1 : 0;
  }
  BOOST_TEST(kills >= 4, kills << " of 5 runs were killed mid-import");
  auto last = run(import_args("calendar", user, path));
  BOOST_REQUIRE_MESSAGE(last.exit_code == 0, last.output);
  BOOST_TEST(rows(user) == expected);
}

BOOST_AUTO_TEST_CASE(import_prints_a_summary_and_bad_items_with_file_and_line) {
  auto user = make_user("summary@example.org");
  auto path = dir / "three.vcf";
  {
    std::ofstream out{path, std::ios::binary};
    out << card(1) << card(97) << card(3);
  }
  auto r = run(import_args("contacts", user, path));
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.output);
  BOOST_TEST(r.output.find("catchup: warning: " + path + ":12: ")
               != std::string::npos,
             r.output);
  BOOST_TEST(r.output.find(path + ": 3 items: 2 new, 0 updated, 0 removed, "
                                  "1 skipped")
               != std::string::npos,
             r.output);
  auto strict = run({"import", "contacts", "--user", user, path, "--strict",
                     "--database-url", db.url()});
  BOOST_TEST(strict.exit_code == 1);
  BOOST_TEST(strict.output.find("catchup: error: " + path
                                + ": stopped at a bad item (--strict: "
                                  "nothing was written): " + path + ":12: ")
               != std::string::npos,
             strict.output);
  auto usage = run({"import", "contacts", path});
  BOOST_TEST(usage.exit_code == 2);
}

BOOST_AUTO_TEST_CASE(ctrl_c_stops_the_private_cluster_the_import_started) {
  const std::string data_dir = dir / "pg";
  auto seeded = run({"seed", "--users", "1", "--contacts", "1", "--seed", "3",
                     "--now", "2026-03-02T12:00:00Z", "--database-data-dir",
                     data_dir});
  BOOST_REQUIRE_MESSAGE(seeded.exit_code == 0, seeded.output);
  auto up = run({"db", "start", "--database-data-dir", data_dir});
  BOOST_REQUIRE_MESSAGE(up.exit_code == 0, up.output);
  auto url = run({"db", "url", "--database-data-dir", data_dir});
  auto user = storage::run_process(
    {"/usr/bin/psql", url.output.substr(0, url.output.find('\n')), "-Atc",
     "SELECT id FROM users LIMIT 1"},
    std::nullopt, std::chrono::seconds(30));
  BOOST_REQUIRE_MESSAGE(user.exit_code == 0, user.output);
  auto user_id = user.output.substr(0, user.output.find('\n'));
  BOOST_REQUIRE(run({"db", "stop", "--database-data-dir", data_dir}).exit_code
                == 0);
  auto path = dir / "many.vcf";
  {
    std::ofstream out{path, std::ios::binary};
    for (int i = 1; i <= 3000; ++i)
      out << card(i);
  }
  // The import starts the private cluster itself; Ctrl-C after its first
  // committed page.
  int exit_code = 0;
  bool interrupted = run_and_kill(
    {"import", "contacts", "--user", user_id, path, "--database-data-dir",
     data_dir, "--sync-contacts-page-items", "10", "--progress"},
    1, SIGINT, &exit_code);
  BOOST_REQUIRE(interrupted);
  BOOST_TEST(exit_code == 128 + SIGINT);
  auto status = run({"db", "status", "--database-data-dir", data_dir});
  BOOST_TEST(status.output.find("state:    stopped") != std::string::npos,
             status.output);
}

BOOST_AUTO_TEST_SUITE_END()
