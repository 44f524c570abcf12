// SPDX-License-Identifier: Apache-2.0
// What a host (and `catchup bench`) does with many users and jobs at once
// through the public API: generating for a list of users, reading a user's
// contacts, reusing demo data, queueing a batch of jobs and watching it,
// the dispatcher's counters, and forgetting a node.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <thread>

#include <catchup/admin.hpp>
#include <catchup/engine.hpp>

#include "api_fixture.hpp"

using namespace catchup;
using namespace catchup::api_test;

namespace {

struct fixture {
  test::test_database db;
  engine_config config = config_for(db);
  engine eng;

  fixture() {
    auto opened = engine::open(config);
    BOOST_TEST_REQUIRE(opened.ok(),
                       (opened.ok() ? "" : opened.error().message));
    eng = std::move(*opened);
  }

  /// Seeds `users` demo users of `contacts` contacts each with seed value
  /// `seed` and no calendar events; returns their ids.
  std::vector<std::string> demo_users(std::int64_t users,
                                      std::int64_t contacts,
                                      std::uint64_t seed) {
    admin::seed_params params;
    params.users = users;
    params.contacts_per_user = contacts;
    params.seed = seed;
    params.now_unix_s = now_unix_s;
    params.busy_events_per_user_max = 0;
    auto seeded = admin::seed(eng, params);
    BOOST_TEST_REQUIRE(seeded.ok(),
                       (seeded.ok() ? "" : seeded.error().message));
    BOOST_TEST(seeded->events == 0);
    return seeded->user_ids;
  }

  admin::job_batch generations(const std::vector<std::string>& users) {
    admin::job_batch batch;
    batch.kind = "generate";
    batch.user_ids = users;
    batch.payload_json = "{\"now\": " + std::to_string(now_unix_s) + "}";
    return batch;
  }
};

std::vector<std::int64_t> ids_of(const std::vector<admin::enqueued_job>& jobs) {
  std::vector<std::int64_t> out;
  for (const auto& j : jobs)
    out.push_back(j.id);
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(api_batches, fixture)

BOOST_AUTO_TEST_CASE(generate_users_runs_the_listed_users_only) {
  auto a = user_with_contacts(eng, "listed-a", 3);
  auto b = user_with_contacts(eng, "listed-b", 2);
  auto left_out = user_with_contacts(eng, "left-out", 2);
  std::vector<std::string> heard;
  auto run = eng.generate_users(
    {a, b}, 0, [&](const generation_summary& s, std::size_t done,
                   std::size_t total) {
      heard.push_back(s.user_id);
      BOOST_TEST(done <= total);
      BOOST_TEST(total == 2u);
    });
  BOOST_TEST_REQUIRE(run.ok(), (run.ok() ? "" : run.error().message));
  BOOST_TEST(run->users == 2);
  BOOST_TEST(run->failed == 0);
  BOOST_TEST(run->contacts_read == 5);
  std::sort(heard.begin(), heard.end());
  std::vector<std::string> expected{a, b};
  std::sort(expected.begin(), expected.end());
  BOOST_TEST(heard == expected);
  BOOST_TEST(eng.suggestions(a)->size() == 3u);
  BOOST_TEST(eng.suggestions(left_out)->empty());

  auto async = eng.generate_users_async({b});
  auto later = async.get();
  BOOST_TEST_REQUIRE(later.ok());
  BOOST_TEST(later->users == 1);
}

BOOST_AUTO_TEST_CASE(an_unknown_user_of_the_list_counts_as_failed) {
  auto a = user_with_contacts(eng, "known", 1);
  auto run
    = eng.generate_users({a, "00000000-0000-4000-8000-000000000001"}, 0);
  BOOST_TEST_REQUIRE(run.ok(), (run.ok() ? "" : run.error().message));
  BOOST_TEST(run->users == 2);
  BOOST_TEST(run->failed == 1);
}

BOOST_AUTO_TEST_CASE(for_each_contact_visits_every_contact_until_told_to_stop) {
  auto user = user_with_contacts(eng, "visited", 5);
  std::vector<std::string> names;
  auto visited = eng.for_each_contact(user, [&](const contact_info& c) {
    names.push_back(c.name);
    BOOST_TEST(!c.last_contact_unix_s.has_value()); // never contacted
    BOOST_TEST(!c.email.empty());
    return true;
  });
  BOOST_TEST_REQUIRE(visited.ok(),
                     (visited.ok() ? "" : visited.error().message));
  BOOST_TEST(*visited == 5);
  BOOST_TEST(names.size() == 5u);

  auto first_only
    = eng.for_each_contact(user, [](const contact_info&) { return false; });
  BOOST_TEST_REQUIRE(first_only.ok());
  BOOST_TEST(*first_only == 1);

  auto malformed
    = eng.for_each_contact("not-a-uuid", [](const contact_info&) { return true; });
  BOOST_TEST_REQUIRE(!malformed.ok());
  BOOST_TEST(malformed.error().code == error_code::invalid_argument);

  auto thrown = eng.for_each_contact(user, [](const contact_info&) -> bool {
    throw std::runtime_error("the visitor gave up");
  });
  BOOST_TEST_REQUIRE(!thrown.ok());
  BOOST_TEST(thrown.error().code == error_code::internal);
  BOOST_TEST(thrown.error().message == "the visitor gave up");
  // The stream the visitor left is closed: the next read works.
  BOOST_TEST(*eng.for_each_contact(
               user, [](const contact_info&) { return true; })
             == 5);
}

BOOST_AUTO_TEST_CASE(seeded_users_finds_a_complete_earlier_seed_only) {
  admin::seed_params params;
  params.users = 2;
  params.contacts_per_user = 4;
  params.seed = 77;
  params.now_unix_s = now_unix_s;
  auto before = admin::seeded_users(eng, params);
  BOOST_TEST_REQUIRE(before.ok(), (before.ok() ? "" : before.error().message));
  BOOST_TEST(before->empty());
  auto ids = demo_users(2, 4, 77);
  auto after = admin::seeded_users(eng, params);
  BOOST_TEST_REQUIRE(after.ok());
  BOOST_TEST(*after == ids);
  // Another contact count is another data set.
  params.contacts_per_user = 5;
  BOOST_TEST(admin::seeded_users(eng, params)->empty());
}

BOOST_AUTO_TEST_CASE(a_batch_is_queued_counted_and_cleared) {
  auto users = demo_users(3, 2, 78);
  auto queued = admin::enqueue_batch(eng, generations(users));
  BOOST_TEST_REQUIRE(queued.ok(), (queued.ok() ? "" : queued.error().message));
  BOOST_TEST_REQUIRE(queued->size() == 3u);
  for (const auto& job : *queued)
    BOOST_TEST(job.created);
  auto ids = ids_of(*queued);
  // Pending already: the same jobs again.
  auto again = admin::enqueue_batch(eng, generations(users));
  BOOST_TEST_REQUIRE(again.ok());
  BOOST_TEST(ids_of(*again) == ids);
  BOOST_TEST(!(*again)[0].created);

  auto counts = admin::count_jobs(eng, ids);
  BOOST_TEST_REQUIRE(counts.ok(), (counts.ok() ? "" : counts.error().message));
  BOOST_TEST(counts->pending == 3);
  BOOST_TEST(counts->running + counts->done + counts->failed
               + counts->cancelled
             == 0);
  auto held = admin::jobs_held_by(eng, "nobody");
  BOOST_TEST_REQUIRE(held.ok());
  BOOST_TEST(held->empty());

  auto deleted = admin::delete_demo_jobs(eng, 78);
  BOOST_TEST_REQUIRE(deleted.ok(),
                     (deleted.ok() ? "" : deleted.error().message));
  BOOST_TEST(*deleted == 3);
  auto gone = admin::count_jobs(eng, ids);
  BOOST_TEST_REQUIRE(gone.ok());
  BOOST_TEST(gone->pending == 0);
}

BOOST_AUTO_TEST_CASE(a_bad_batch_queues_nothing_and_says_why) {
  auto users = demo_users(1, 1, 79);
  auto bad_kind = generations(users);
  bad_kind.kind = "dance";
  auto refused = admin::enqueue_batch(eng, bad_kind);
  BOOST_TEST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == error_code::invalid_argument);

  auto with_stranger = generations(users);
  with_stranger.user_ids.push_back("00000000-0000-4000-8000-000000000002");
  auto unknown = admin::enqueue_batch(eng, with_stranger);
  BOOST_TEST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().code == error_code::not_found);
  BOOST_TEST(*admin::delete_demo_jobs(eng, 79) == 0); // nothing was queued

  auto malformed = generations({"not-a-uuid"});
  auto rejected = admin::enqueue_batch(eng, malformed);
  BOOST_TEST_REQUIRE(!rejected.ok());
  BOOST_TEST(rejected.error().code == error_code::invalid_argument);

  // Each limit is said with the figure that broke it; nothing is queued.
  auto refused_for = [&](admin::job_batch batch, const std::string& why) {
    auto r = admin::enqueue_batch(eng, batch);
    BOOST_TEST_REQUIRE(!r.ok(), why);
    BOOST_TEST(r.error().code == error_code::invalid_argument);
    BOOST_TEST(r.error().message.find(why) != std::string::npos,
               r.error().message);
  };
  auto too_many = generations(users);
  too_many.user_ids.resize(100001, users.front());
  refused_for(too_many, "at most 100000 user ids per call, got 100001");
  auto no_attempts = generations(users);
  no_attempts.max_attempts = 0;
  refused_for(no_attempts, "max_attempts must be in 1..100, got 0");
  auto before_1970 = generations(users);
  before_1970.run_at_unix_ms = -1;
  refused_for(before_1970, "run_at must be a Unix time in ms");
  BOOST_TEST(*admin::delete_demo_jobs(eng, 79) == 0);

  auto counted = admin::count_jobs(eng, std::vector<std::int64_t>(100001, 1));
  BOOST_TEST_REQUIRE(!counted.ok());
  BOOST_TEST(counted.error().code == error_code::invalid_argument);
  BOOST_TEST(counted.error().message.find("at most 100000 job ids per call")
               != std::string::npos,
             counted.error().message);
}

BOOST_AUTO_TEST_CASE(the_dispatcher_counts_what_it_claims_and_completes) {
  auto before = eng.dispatcher();
  BOOST_TEST_REQUIRE(before.ok());
  BOOST_TEST(before->claimed == 0u);
  BOOST_TEST(before->in_flight == 0u);
  auto users = demo_users(2, 3, 80);
  auto queued = admin::enqueue_batch(eng, generations(users));
  BOOST_TEST_REQUIRE(queued.ok());
  BOOST_TEST_REQUIRE(eng.start_dispatcher().ok());
  // The batch's own counts say when it is through (the dispatcher may take
  // jobs of its schedule too); the counters move right after the commit.
  auto ids = ids_of(*queued);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  admin::job_counts counts;
  dispatcher_figures now;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    auto c = admin::count_jobs(eng, ids);
    auto d = eng.dispatcher();
    BOOST_TEST_REQUIRE(c.ok());
    BOOST_TEST_REQUIRE(d.ok());
    counts = *c;
    now = *d;
  } while ((counts.done < 2 || now.completed < 2)
           && std::chrono::steady_clock::now() < deadline);
  BOOST_TEST(counts.done == 2);
  BOOST_TEST(now.completed >= 2u);
  BOOST_TEST(now.claimed >= now.completed);
  BOOST_TEST(now.failed == 0u);
  BOOST_TEST(eng.stop_dispatcher(std::chrono::seconds(5)).ok());
}

BOOST_AUTO_TEST_CASE(forgetting_a_node_that_is_not_there_is_false) {
  auto forgotten = admin::forget_node(config, "no-such-node");
  BOOST_TEST_REQUIRE(forgotten.ok(),
                     (forgotten.ok() ? "" : forgotten.error().message));
  BOOST_TEST(!*forgotten);
  auto empty = admin::forget_node(config, "");
  BOOST_TEST_REQUIRE(!empty.ok());
  BOOST_TEST(empty.error().code == error_code::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_node_reads_as_one_json_object_with_every_field) {
  admin::cluster_node n;
  n.id = "host:42";
  n.address = "10.0.0.7:4242";
  n.state = "down";
  n.level = "high";
  n.heap_bytes = 123;
  n.budget_bytes = 456;
  n.down_reason = "silent for 2000 ms";
  const std::string text = admin::cluster_node_json(n);
  for (const char* field :
       {"\"id\":\"host:42\"", "\"address\":\"10.0.0.7:4242\"",
        "\"state\":\"down\"", "\"level\":\"high\"",
        "\"allocated_bytes\":123", "\"budget_bytes\":456",
        "\"jobs_in_flight\":0", "\"heartbeat_age_ms\":0",
        "\"down_reason\":\"silent for 2000 ms\""})
    BOOST_TEST(text.find(field) != std::string::npos, field << " in " << text);
}

BOOST_AUTO_TEST_CASE(a_closed_engine_answers_closed_to_batches) {
  eng.close();
  BOOST_TEST(eng.dispatcher().error().code == error_code::closed);
  BOOST_TEST(admin::count_jobs(eng, {1}).error().code == error_code::closed);
  BOOST_TEST(eng.generate_users({}).error().code == error_code::closed);
}

BOOST_AUTO_TEST_SUITE_END()
