// SPDX-License-Identifier: Apache-2.0
// The engine facade as a host program uses it: opening (and failing to
// open) with errors as values, users, imports from files and streams,
// generation, responses, the asynchronous forms, pressure subscriptions,
// and sixteen threads calling one engine at once.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <future>
#include <map>
#include <set>
#include <thread>

#include <catchup/catchup.hpp>

#include "api_fixture.hpp"
#include "serve_process.hpp"
#include "temp_dir.hpp"

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
};

std::string data_path(const std::string& relative) {
  const char* dir = std::getenv("CUTEST_DATA_DIR");
  return std::string{dir ? dir : "../shared/data"} + "/" + relative;
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_open)

BOOST_AUTO_TEST_CASE(the_version_of_the_library_is_the_headers_version) {
  BOOST_TEST(std::string{version()} == CATCHUP_VERSION_STRING);
  BOOST_TEST(CATCHUP_VERSION_NUMBER
             == CATCHUP_VERSION_MAJOR * 10000 + CATCHUP_VERSION_MINOR * 100
                  + CATCHUP_VERSION_PATCH);
}

BOOST_AUTO_TEST_CASE(an_unknown_setting_is_an_invalid_config_naming_it) {
  engine_config c;
  c.configure_logging = false;
  c.settings = {{"generation.batch_rows", "50"}};
  auto eng = engine::open(c);
  BOOST_TEST_REQUIRE(!eng.ok());
  BOOST_TEST(eng.error().code == error_code::invalid_config);
  BOOST_TEST(eng.error().message.find("generation.batch_rows")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_bad_value_is_an_invalid_config_naming_key_and_value) {
  engine_config c;
  c.configure_logging = false;
  c.settings = {{"generation.batch_rows_max", "lots"}};
  auto eng = engine::open(c);
  BOOST_TEST_REQUIRE(!eng.ok());
  BOOST_TEST(eng.error().code == error_code::invalid_config);
  BOOST_TEST(eng.error().message.find("generation.batch_rows_max")
             != std::string::npos);
  BOOST_TEST(eng.error().message.find("lots") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_config_file_is_an_invalid_config) {
  engine_config c;
  c.configure_logging = false;
  c.config_file = "/nonexistent/catchup.conf";
  auto eng = engine::open(c);
  BOOST_TEST_REQUIRE(!eng.ok());
  BOOST_TEST(eng.error().code == error_code::invalid_config);
  BOOST_TEST(eng.error().message.find("/nonexistent/catchup.conf")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_engine_config_limits_are_refused) {
  engine_config c;
  c.configure_logging = false;
  c.async_threads = 0;
  auto eng = engine::open(c);
  BOOST_TEST_REQUIRE(!eng.ok());
  BOOST_TEST(eng.error().code == error_code::invalid_config);
  BOOST_TEST(eng.error().message.find("async_threads") != std::string::npos);
  c.async_threads = 4;
  c.async_queue_max = 0;
  eng = engine::open(c);
  BOOST_TEST_REQUIRE(!eng.ok());
  BOOST_TEST(eng.error().code == error_code::invalid_config);
  BOOST_TEST(eng.error().message.find("async_queue_max") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_database_server_is_an_error_value) {
  engine_config c;
  c.configure_logging = false;
  c.database_url = "postgresql:///catchup?host=/nonexistent-socket-dir";
  auto eng = engine::open(c);
  BOOST_TEST_REQUIRE(!eng.ok());
  BOOST_TEST(eng.error().code == error_code::database_unavailable);
  BOOST_TEST(!eng.error().message.empty());
}

BOOST_AUTO_TEST_CASE(a_missing_database_is_an_error_value) {
  test::test_database db;
  auto c = config_for(db);
  c.database_url = test::test_database::url_of("catchup_no_such_database");
  auto eng = engine::open(c);
  BOOST_TEST_REQUIRE(!eng.ok());
  BOOST_TEST(eng.error().code == error_code::database_unavailable);
  BOOST_TEST(eng.error().message.find("catchup_no_such_database")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_private_database_that_cannot_be_created_is_an_error) {
  engine_config c;
  c.configure_logging = false;
  c.data_dir = "/proc/catchup-cannot-be-here";
  auto eng = engine::open(c);
  BOOST_TEST_REQUIRE(!eng.ok());
  BOOST_TEST(eng.error().code == error_code::database_unavailable);
  BOOST_TEST(eng.error().message.find("/proc/catchup-cannot-be-here")
             != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_default_is_a_private_database_in_the_data_dir) {
  test::temp_dir dir;
  engine_config c;
  c.configure_logging = false;
  c.clock_unix_ms = [] { return now_unix_s * 1000; };
  c.data_dir = dir / "pg";
  {
    auto eng = engine::open(c);
    BOOST_TEST_REQUIRE(eng.ok(), (eng.ok() ? "" : eng.error().message));
    BOOST_TEST(eng->embedded_database());
    auto user = user_with_contacts(*eng, "private", 3);
    auto summary = eng->generate(user, now_unix_s);
    BOOST_TEST_REQUIRE(summary.ok());
    BOOST_TEST(summary->suggestions == 3);
  }
  // Closed and reopened: the data outlived the engine.
  auto again = engine::open(c);
  BOOST_TEST_REQUIRE(again.ok(), (again.ok() ? "" : again.error().message));
  user_profile p;
  p.email = "private@example.org";
  auto user = again->put_user(p);
  BOOST_TEST_REQUIRE(user.ok());
  auto pending = again->suggestions(*user);
  BOOST_TEST_REQUIRE(pending.ok());
  BOOST_TEST(pending->size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_closed_or_moved_from_engine_answers_closed) {
  test::test_database db;
  auto opened = engine::open(config_for(db));
  BOOST_TEST_REQUIRE(opened.ok());
  engine eng = std::move(*opened);
  BOOST_TEST(eng.is_open());
  BOOST_TEST(!opened->is_open());
  BOOST_TEST(opened->generate("x").error().code == error_code::closed);
  eng.close();
  BOOST_TEST(!eng.is_open());
  BOOST_TEST(eng.suggestions("x").error().code == error_code::closed);
  BOOST_TEST(eng.generate_async("x").get().error().code
             == error_code::closed);
  eng.close(); // idempotent
  engine never_opened;
  BOOST_TEST(never_opened.memory().error().code == error_code::closed);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(api_engine, fixture)

BOOST_AUTO_TEST_CASE(put_user_is_idempotent_and_checks_its_fields) {
  user_profile p;
  p.email = "ada@example.org";
  p.name = "Ada";
  p.timezone = "Europe/London";
  p.availability = std::vector<availability_window>{{1, 18 * 60, 21 * 60}};
  auto first = eng.put_user(p);
  BOOST_TEST_REQUIRE(first.ok());
  auto second = eng.put_user(p);
  BOOST_TEST_REQUIRE(second.ok());
  BOOST_TEST(*first == *second);

  auto bad_zone = p;
  bad_zone.timezone = "Mars/Olympus";
  auto r = eng.put_user(bad_zone);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::invalid_argument);
  BOOST_TEST(r.error().message.find("Mars/Olympus") != std::string::npos);

  auto bad_window = p;
  bad_window.availability = std::vector<availability_window>{{8, 0, 60}};
  r = eng.put_user(bad_window);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::invalid_argument);
  BOOST_TEST(r.error().message.find("weekday 8") != std::string::npos);

  auto too_many = p;
  too_many.availability = std::vector<availability_window>(
    169, availability_window{1, 0, 60});
  r = eng.put_user(too_many);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::invalid_argument);
  BOOST_TEST(r.error().message.find("169 availability windows")
             != std::string::npos);

  auto no_zone = p;
  no_zone.timezone = "";
  r = eng.put_user(no_zone);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::invalid_argument);

  user_profile nobody;
  nobody.id = "00000000-0000-4000-8000-000000000001";
  r = eng.put_user(nobody);
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::not_found);
}

BOOST_AUTO_TEST_CASE(a_real_vcard_file_imports_and_yields_suggestions) {
  user_profile p;
  p.email = "host@example.org";
  auto user = eng.put_user(p);
  BOOST_TEST_REQUIRE(user.ok());
  import_params params;
  params.user_id = *user;
  // Added a month ago: due now on the default monthly cadence.
  params.now_unix_s = now_unix_s - 31 * 86400;
  std::vector<std::uint64_t> pages_seen;
  auto imported = eng.import_file(
    data_path("real/vcard/ezvcard_gmail-list.vcf"), params,
    [&](const import_summary& s) { pages_seen.push_back(s.pages); });
  BOOST_TEST_REQUIRE(imported.ok(),
                     (imported.ok() ? "" : imported.error().message));
  BOOST_TEST(imported->inserted > 0);
  BOOST_TEST(!pages_seen.empty());
  auto summary = eng.generate(*user, now_unix_s);
  BOOST_TEST_REQUIRE(summary.ok());
  BOOST_TEST(summary->suggestions == imported->inserted);
  BOOST_TEST(summary->items.size()
             == static_cast<std::size_t>(summary->suggestions));
}

BOOST_AUTO_TEST_CASE(import_failures_are_error_values_with_where_and_why) {
  auto user = user_with_contacts(eng, "importer", 1);
  import_params params;
  params.user_id = user;
  auto missing = eng.import_file("/nonexistent/contacts.vcf", params);
  BOOST_TEST_REQUIRE(!missing.ok());
  BOOST_TEST(missing.error().code == error_code::invalid_input);
  BOOST_TEST(missing.error().message.find("/nonexistent/contacts.vcf")
             != std::string::npos);

  auto unknown = eng.import_file("contacts.txt", params);
  BOOST_TEST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().code == error_code::invalid_argument);

  std::istringstream no_format{vcards("x", 1)};
  auto stream = eng.import_stream(no_format, "x", params);
  BOOST_TEST_REQUIRE(!stream.ok());
  BOOST_TEST(stream.error().code == error_code::invalid_argument);

  // A bad card in a stream is skipped and reported as name:line; a strict
  // import stops there with the cards before it committed.
  std::istringstream bad{vcards("good", 2)
                         + "BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n"};
  params.format = import_format::vcard;
  auto lenient = eng.import_stream(bad, "upload.vcf", params);
  BOOST_TEST_REQUIRE(lenient.ok());
  BOOST_TEST(lenient->skipped == 1u);
  BOOST_TEST_REQUIRE(lenient->warnings.size() == 1u);
  BOOST_TEST(lenient->warnings[0].where.rfind("upload.vcf:", 0) == 0u);

  std::istringstream bad_again{"BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n"};
  params.strict = true;
  auto strict = eng.import_stream(bad_again, "strict.vcf", params);
  BOOST_TEST_REQUIRE(!strict.ok());
  BOOST_TEST(strict.error().code == error_code::invalid_input);
  BOOST_TEST(strict.error().message.find("strict.vcf:") != std::string::npos);

  params.strict = false;
  params.user_id = "00000000-0000-4000-8000-000000000002";
  std::istringstream for_nobody{vcards("y", 1)};
  auto nobody = eng.import_stream(for_nobody, "y.vcf", params);
  BOOST_TEST_REQUIRE(!nobody.ok());
  BOOST_TEST(nobody.error().code == error_code::not_found);
}

BOOST_AUTO_TEST_CASE(generation_errors_are_values) {
  auto unknown = eng.generate("00000000-0000-4000-8000-000000000003",
                              now_unix_s);
  BOOST_TEST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().code == error_code::not_found);
  auto malformed = eng.generate("not-a-uuid", now_unix_s);
  BOOST_TEST_REQUIRE(!malformed.ok());
  BOOST_TEST(malformed.error().code == error_code::invalid_argument);
}

BOOST_AUTO_TEST_CASE(accept_dismiss_and_snooze_change_what_is_pending) {
  auto user = user_with_contacts(eng, "responder", 5);
  auto summary = eng.generate(user, now_unix_s);
  BOOST_TEST_REQUIRE(summary.ok());
  BOOST_TEST_REQUIRE(summary->items.size() == 5u);
  const auto& items = summary->items;

  auto accepted = eng.accept(user, items[0].id);
  BOOST_TEST_REQUIRE(accepted.ok(),
                     (accepted.ok() ? "" : accepted.error().message));
  BOOST_TEST(accepted->status == suggestion_status::accepted);
  auto dismissed = eng.dismiss(user, items[1].id, "moved away");
  BOOST_TEST_REQUIRE(dismissed.ok());
  BOOST_TEST(dismissed->status == suggestion_status::dismissed);
  auto snoozed = eng.snooze(user, items[2].id, now_unix_s + 7 * 86400);
  BOOST_TEST_REQUIRE(snoozed.ok(),
                     (snoozed.ok() ? "" : snoozed.error().message));
  BOOST_TEST(snoozed->status == suggestion_status::snoozed);

  auto pending = eng.suggestions(user);
  BOOST_TEST_REQUIRE(pending.ok());
  std::set<std::string> ids;
  for (const auto& s : *pending)
    ids.insert(s.id);
  BOOST_TEST(ids == (std::set<std::string>{items[3].id, items[4].id}));

  auto again = eng.accept(user, items[0].id);
  BOOST_TEST_REQUIRE(!again.ok());
  BOOST_TEST(again.error().code == error_code::conflict);
  auto foreign = eng.accept(user_with_contacts(eng, "other", 1), items[3].id);
  BOOST_TEST_REQUIRE(!foreign.ok());
  BOOST_TEST(foreign.error().code == error_code::not_found);
}

BOOST_AUTO_TEST_CASE(asynchronous_forms_deliver_the_blocking_results) {
  auto user = user_with_contacts(eng, "async", 4);
  auto future = eng.generate_async(user, now_unix_s);
  auto summary = future.get();
  BOOST_TEST_REQUIRE(summary.ok());
  BOOST_TEST(summary->suggestions == 4);

  std::promise<result<generation_summary>> delivered;
  eng.generate_async(user, now_unix_s, [&](result<generation_summary> r) {
    delivered.set_value(std::move(r));
  });
  auto by_callback = delivered.get_future().get();
  BOOST_TEST_REQUIRE(by_callback.ok());
  BOOST_TEST(by_callback->suggestions == 4);

  auto pending = eng.suggestions_async(user).get();
  BOOST_TEST_REQUIRE(pending.ok());
  BOOST_TEST(pending->size() == 4u);

  auto totals = eng.generate_all_async(now_unix_s).get();
  BOOST_TEST_REQUIRE(totals.ok());
  BOOST_TEST(totals->users == 1);
  BOOST_TEST(totals->suggestions == 4);
}

BOOST_AUTO_TEST_CASE(a_full_call_queue_answers_busy_at_once) {
  auto c = config_for(db);
  c.async_threads = 1;
  c.async_queue_max = 1;
  auto opened = engine::open(c);
  BOOST_TEST_REQUIRE(opened.ok());
  auto& small = *opened;
  // The one call thread waits inside a callback until released; released
  // on every way out, so a failed check cannot leave it waiting.
  std::promise<void> release;
  auto released = release.get_future().share();
  struct releaser {
    std::promise<void>& p;
    bool done = false;
    void operator()() {
      if (!done) {
        done = true;
        p.set_value();
      }
    }
    ~releaser() {
      (*this)();
    }
  } release_once{release};
  std::promise<void> occupied;
  small.generate_async("not-a-uuid", now_unix_s,
                       [&, released](result<generation_summary>) {
                         occupied.set_value();
                         released.wait();
                       });
  occupied.get_future().wait();
  auto queued = small.generate_async("not-a-uuid", now_unix_s); // waits
  auto refused = small.generate_async("not-a-uuid", now_unix_s);
  auto r = refused.get();
  BOOST_TEST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().code == error_code::busy);
  release_once();
  BOOST_TEST(queued.get().error().code == error_code::invalid_argument);
}

BOOST_AUTO_TEST_CASE(sixteen_threads_get_correct_independent_results) {
  constexpr int threads_n = 16;
  constexpr int contacts_n = 12;
  std::vector<std::string> users(threads_n);
  for (int t = 0; t < threads_n; ++t)
    users[t] = user_with_contacts(eng, "t" + std::to_string(t), contacts_n);

  struct outcome {
    std::string error;
    std::vector<std::string> generated;
    std::vector<std::string> read;
  };
  std::vector<outcome> outcomes(threads_n);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t)
    threads.emplace_back([&, t] {
      auto& out = outcomes[t];
      // Start together, so the calls really overlap.
      ++ready;
      while (ready.load() < threads_n)
        std::this_thread::yield();
      for (int round = 0; round < 3; ++round) {
        auto summary = eng.generate(users[t], now_unix_s);
        if (!summary) {
          out.error = summary.error().message;
          return;
        }
        out.generated.clear();
        for (const auto& s : summary->items)
          out.generated.push_back(s.contact_name);
        auto pending = eng.suggestions(users[t]);
        if (!pending) {
          out.error = pending.error().message;
          return;
        }
        out.read.clear();
        for (const auto& s : *pending)
          out.read.push_back(s.contact_name);
      }
    });
  for (auto& th : threads)
    th.join();

  for (int t = 0; t < threads_n; ++t) {
    const auto& out = outcomes[t];
    BOOST_TEST_REQUIRE(out.error.empty(), out.error);
    BOOST_TEST(out.generated.size() == static_cast<std::size_t>(contacts_n));
    std::multiset<std::string> generated(out.generated.begin(),
                                         out.generated.end());
    std::multiset<std::string> read(out.read.begin(), out.read.end());
    BOOST_TEST(generated == read);
    // Every suggestion is one of this user's own contacts, each once.
    std::set<std::string> expected;
    for (int i = 0; i < contacts_n; ++i)
      expected.insert("Friend t" + std::to_string(t) + "-" + std::to_string(i));
    BOOST_TEST(std::set<std::string>(read.begin(), read.end()) == expected);
    // The same as this user's generation alone.
    auto alone = eng.generate(users[t], now_unix_s);
    BOOST_TEST_REQUIRE(alone.ok());
    std::vector<std::string> alone_names;
    for (const auto& s : alone->items)
      alone_names.push_back(s.contact_name);
    BOOST_TEST(alone_names == out.generated);
  }
}

BOOST_AUTO_TEST_CASE(a_queued_call_survives_moving_its_engine) {
  auto user = user_with_contacts(eng, "moved", 2);
  auto c = config_for(db);
  c.async_threads = 1;
  auto opened = engine::open(c);
  BOOST_TEST_REQUIRE(opened.ok());
  engine a = std::move(*opened);
  std::promise<void> release;
  auto released = release.get_future().share();
  std::promise<void> occupied;
  a.generate_async("not-a-uuid", now_unix_s,
                   [&, released](result<generation_summary>) {
                     occupied.set_value();
                     released.wait();
                   });
  occupied.get_future().wait();
  auto queued = a.generate_async(user, now_unix_s); // waits for the thread
  engine b = std::move(a);
  release.set_value();
  auto r = queued.get();
  BOOST_TEST_REQUIRE(r.ok(), (r.ok() ? "" : r.error().message));
  BOOST_TEST(r->suggestions == 2);
  BOOST_TEST(b.is_open());
}

BOOST_AUTO_TEST_CASE(closing_from_many_threads_at_once_closes_once) {
  auto opened = engine::open(config_for(db));
  BOOST_TEST_REQUIRE(opened.ok());
  auto& e = *opened;
  std::atomic<int> ready{0};
  std::vector<std::thread> closers;
  for (int i = 0; i < 8; ++i)
    closers.emplace_back([&] {
      ++ready;
      while (ready.load() < 8)
        std::this_thread::yield();
      e.close();
      // Every close returns with the engine closed.
      BOOST_TEST(!e.is_open());
    });
  for (auto& t : closers)
    t.join();
  BOOST_TEST(e.generate("x").error().code == error_code::closed);
}

BOOST_AUTO_TEST_CASE(an_engine_released_by_its_own_callback_closes) {
  auto opened = engine::open(config_for(db));
  BOOST_TEST_REQUIRE(opened.ok());
  auto shared = std::make_shared<engine>(std::move(*opened));
  std::promise<error_code> answered;
  auto future = answered.get_future();
  // The callback holds the last reference: the engine ends on its own
  // call thread, which must neither abort nor hang.
  auto* raw = shared.get();
  raw->generate_async("not-a-uuid", now_unix_s,
                      [keep = std::move(shared), &answered](
                        result<generation_summary> r) mutable {
                        answered.set_value(r.error().code);
                        keep.reset();
                      });
  BOOST_TEST((future.get() == error_code::invalid_argument));
}

BOOST_AUTO_TEST_CASE(put_user_with_only_an_email_keeps_the_other_fields) {
  user_profile full;
  full.email = "kept@example.org";
  full.name = "Kept";
  full.timezone = "Asia/Kolkata";
  auto id = eng.put_user(full);
  BOOST_TEST_REQUIRE(id.ok());
  user_profile lookup;
  lookup.email = "kept@example.org";
  auto again = eng.put_user(lookup);
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(*again == *id);
  // The zone is still Kolkata's: a generation places slots in it.
  std::istringstream in{vcards("kept", 1)};
  import_params params;
  params.user_id = *id;
  params.format = import_format::vcard;
  params.now_unix_s = now_unix_s - 31 * 86400;
  BOOST_TEST_REQUIRE(eng.import_stream(in, "kept.vcf", params).ok());
  auto summary = eng.generate(*id, now_unix_s);
  BOOST_TEST_REQUIRE(summary.ok());
  BOOST_TEST_REQUIRE(summary->items.size() == 1u);
  BOOST_TEST(summary->items[0].slot_timezone == "Asia/Kolkata");

  user_profile thief;
  thief.id = "00000000-0000-4000-8000-000000000007";
  thief.email = "kept@example.org";
  auto taken = eng.put_user(thief);
  BOOST_TEST_REQUIRE(!taken.ok());
  BOOST_TEST(taken.error().code == error_code::conflict);
}

BOOST_AUTO_TEST_CASE(metrics_and_memory_are_readable) {
  auto user = user_with_contacts(eng, "metrics", 2);
  BOOST_TEST_REQUIRE(eng.generate(user, now_unix_s).ok());
  auto m = eng.metrics();
  BOOST_TEST_REQUIRE(m.ok());
  BOOST_TEST(m->generations >= 1);
  BOOST_TEST(m->prometheus_text.find("catchup_generations_total")
             != std::string::npos);
  BOOST_TEST(m->prometheus_text.find("catchup_jobs_in_flight")
             != std::string::npos);
  auto mem = eng.memory();
  BOOST_TEST_REQUIRE(mem.ok());
  BOOST_TEST(mem->budget_bytes > 0);
}

BOOST_AUTO_TEST_CASE(pressure_subscribers_hear_the_current_level_then_changes) {
  // Declared before the engine, so they outlive its callbacks.
  std::promise<memory_snapshot> heard;
  std::atomic<int> calls{0};
  // A budget far below what any process holds (64 KiB): the first sample
  // is critical.
  auto c = config_for(db);
  c.settings.push_back({"memory.budget_bytes", "65536"});
  // A drill: such a budget is refused at start unless the check is off.
  c.settings.push_back({"memory.budget_check_enabled", "false"});
  c.settings.push_back({"memory.sample_interval_ms", "10"});
  auto opened = engine::open(c);
  BOOST_TEST_REQUIRE(opened.ok());
  auto& tight = *opened;
  // The current reading comes first (normal, if no sample ran yet), then
  // the change to critical.
  auto id = tight.on_pressure_change([&](const memory_snapshot& m) {
    if (calls++ < 2 && m.level == memory_level::critical)
      heard.set_value(m);
  });
  BOOST_TEST_REQUIRE(id.ok());
  auto snapshot = heard.get_future();
  // An event, not a sleep: the wait ends when the callback runs.
  BOOST_TEST_REQUIRE((snapshot.wait_for(std::chrono::seconds(60))
                      == std::future_status::ready));
  auto m = snapshot.get();
  BOOST_TEST(m.level == memory_level::critical);
  BOOST_TEST(m.budget_bytes == 65536);
  tight.unsubscribe(*id);
  auto refused = tight.generate("00000000-0000-4000-8000-000000000004",
                                now_unix_s);
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == error_code::memory_critical);
}

BOOST_AUTO_TEST_CASE(the_dispatcher_runs_queued_generations) {
  auto user = user_with_contacts(eng, "queued", 3);
  BOOST_TEST(eng.stop_dispatcher().ok()); // not running: a no-op
  auto job = eng.enqueue_generation(user);
  BOOST_TEST_REQUIRE(job.ok(), (job.ok() ? "" : job.error().message));
  BOOST_TEST_REQUIRE(eng.start_dispatcher().ok());
  auto twice = eng.start_dispatcher();
  BOOST_TEST_REQUIRE(!twice.ok());
  BOOST_TEST(twice.error().code == error_code::conflict);
  // The facade offers no job-done event, so this watches the figure the
  // dispatcher updates when the job's completion is committed.
  std::size_t found = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (found == 0 && std::chrono::steady_clock::now() < deadline) {
    auto m = eng.metrics();
    BOOST_TEST_REQUIRE(m.ok());
    if (m->jobs_done >= 1)
      found = eng.suggestions(user)->size();
    else
      std::this_thread::yield();
  }
  BOOST_TEST(found == 3u);
  BOOST_TEST(eng.stop_dispatcher(std::chrono::seconds(5)).ok());
}

// Labelled "network": this process talks to another node (see
// tests/CMakeLists.txt, api_network).
BOOST_AUTO_TEST_CASE(a_cluster_member_generates_on_the_least_pressured_engine,
                     *boost::unit_test::label("network")) {
  // Two members of one cluster (plain TCP on loopback, said explicitly):
  // "roomy", a `catchup serve` process, has memory to spare; "tight", the
  // engine here, is at critical pressure. Asked at tight, the generation
  // runs on roomy.
  auto roomy = start_serve_process(db.url(), "api-roomy",
                                   {"--memory-budget-bytes", "64GiB"});
  auto c = config_for(db);
  for (auto& kv : std::vector<std::pair<std::string, std::string>>{
         {"cluster.enabled", "true"},
         {"cluster.insecure", "true"},
         {"cluster.port", "0"},
         {"cluster.seeds", roomy.address},
         {"cluster.membership_interval_ms", "100"},
         {"node.owner", "api-tight"},
         {"memory.budget_bytes", "65536"},
         // A drill for "tight": its budget is below its heap.
         {"memory.budget_check_enabled", "false"},
         {"memory.sample_interval_ms", "20"},
         {"schedule.generate_interval_ms", "0"}})
    c.settings.push_back(kv);
  auto opened = engine::open(c);
  BOOST_TEST_REQUIRE(opened.ok(), (opened.ok() ? "" : opened.error().message));
  auto tight = std::move(*opened);
  // Imports are refused at critical: the user comes from another engine.
  std::string user;
  {
    auto plain = engine::open(config_for(db));
    BOOST_TEST_REQUIRE(plain.ok());
    user = user_with_contacts(*plain, "routed", 3);
  }
  BOOST_TEST_REQUIRE(tight.start_dispatcher().ok());
  // Until the two have met, tight knows no node that can take the work
  // and says so (busy: try again); then roomy runs it.
  result<generation_summary> routed = error{error_code::internal, "not tried"};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    routed = tight.generate(user, now_unix_s);
    if (routed.ok() || routed.error().code != error_code::busy)
      break;
    std::this_thread::yield();
  }
  BOOST_TEST_REQUIRE(routed.ok(), (routed.ok() ? "" : routed.error().message));
  BOOST_TEST(routed->items.size() == 3u);
  BOOST_TEST(tight.metrics()->generations == 0); // it ran on roomy
  BOOST_TEST(tight.stop_dispatcher(std::chrono::seconds(5)).ok());
  tight.close();
  roomy.process->signal(SIGTERM);
  BOOST_TEST(roomy.process->wait(std::chrono::seconds(60)) == 0,
             roomy.process->output());
  // A cluster without certificates is refused unless insecure is said.
  auto bare = config_for(db);
  bare.settings.push_back({"cluster.enabled", "true"});
  auto refused = engine::open(bare);
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == error_code::invalid_config);
  BOOST_TEST(refused.error().message.find("cluster.insecure")
               != std::string::npos,
             refused.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
