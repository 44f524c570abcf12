// SPDX-License-Identifier: Apache-2.0
// The streaming repository on a real database: requests beyond its
// connections wait in a bounded queue, and requests beyond that queue are
// refused at once with a clear error instead of piling up. The single
// connection is held inside a real lock wait, so the test does not depend
// on timing.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <pqxx/pqxx>

#include "actors/repository.hpp"
#include "actors/system_config.hpp"
#include "messages/error_codes.hpp"
#include "storage/migrations.hpp"
#include "storage/session.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

BOOST_AUTO_TEST_SUITE(actors_repository)

BOOST_AUTO_TEST_CASE(requests_beyond_the_queue_limit_are_refused_not_queued) {
  test::test_database tdb;
  storage::migrate(tdb.url());
  system_config cfg;
  caf::actor_system sys{cfg};
  repository_config rc;
  rc.url = tdb.url();
  rc.connections_max = 1;
  rc.queued_requests_max = 2;
  auto repo = spawn_repository(sys, rc);
  caf::scoped_actor self{sys};
  constexpr int sent = 6;
  int answered = 0;
  int refused = 0;
  {
    // Hold the users table: the repository's only connection blocks on it
    // with the first request, the next two queue, the last three are
    // refused while the lock is still held.
    pqxx::connection locker{tdb.url()};
    pqxx::work lock{locker};
    lock.exec0("LOCK TABLE users IN ACCESS EXCLUSIVE MODE");
    for (int i = 0; i < sent; ++i)
      self->send(repo, atom::users::value, true);
    for (int i = 0; i < sent - 1 - static_cast<int>(rc.queued_requests_max);
         ++i)
      self->receive([&](std::vector<std::string>&) { ++answered; },
                    [&](caf::error& err) {
                      ++refused;
                      BOOST_TEST((err == ec::db_unavailable));
                      BOOST_TEST(sys.render(err).find("queue is full")
                                 != std::string::npos);
                    },
                    caf::after(std::chrono::seconds(60)) >> [] {
                      BOOST_FAIL("no reply from the repository");
                    });
    BOOST_TEST(answered == 0);
    BOOST_TEST(refused == 3);
    lock.abort();
  }
  // Released: the running and the queued requests all complete.
  for (int i = 0; i < 3; ++i)
    self->receive([&](std::vector<std::string>&) { ++answered; },
                  [&](caf::error&) { ++refused; },
                  caf::after(std::chrono::seconds(60)) >> [] {
                    BOOST_FAIL("no reply from the repository");
                  });
  BOOST_TEST(answered == 3);
  BOOST_TEST(refused == 3);
  self->send_exit(repo, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(bulk_streams_hold_a_connection_only_while_in_use) {
  test::test_database tdb;
  storage::migrate(tdb.url());
  tdb.query("INSERT INTO users (email) VALUES ('u@example.org') RETURNING 1");
  auto user = tdb.query("SELECT id FROM users")[0];
  tdb.query("INSERT INTO contacts (user_id, name, created_at) SELECT '"
            + user + "', 'c' || i, '2000-01-01T00:00:00Z' "
            "FROM generate_series(1, 30) i RETURNING 1");
  system_config cfg;
  caf::actor_system sys{cfg};
  repository_config rc;
  rc.url = tdb.url();
  rc.connections_max = 1;
  rc.bulk_idle_timeout = std::chrono::milliseconds(100);
  auto repo = spawn_repository(sys, rc);
  caf::scoped_actor self{sys};
  auto pull = [&](const stream_cursor& c) {
    contact_batch out;
    caf::error failure;
    self->request(repo, std::chrono::seconds(60), atom::next::value, c,
                  std::uint64_t{10})
      .receive([&](contact_batch& b) { out = std::move(b); },
               [&](caf::error& err) { failure = std::move(err); });
    return std::make_pair(out, failure);
  };
  auto users = [&] {
    bool ok = false;
    self->request(repo, std::chrono::seconds(60), atom::users::value, true)
      .receive([&](std::vector<std::string>& ids) { ok = ids.size() == 1; },
               [&](caf::error&) {});
    return ok;
  };
  auto open = storage::session::open_bulk(user, contact_order::name, false,
                                          false);
  // Closed early: the connection serves others again.
  auto [first, err1] = pull(open);
  BOOST_REQUIRE(!err1);
  BOOST_TEST(first.rows.size() == 10u);
  self->send(repo, atom::close::value, first.next);
  BOOST_TEST(users());
  BOOST_TEST((pull(first.next).second == ec::not_found));
  // A second bulk stream beyond the limit (1 here) is refused.
  auto [a, err2] = pull(open);
  BOOST_REQUIRE(!err2);
  BOOST_TEST((pull(open).second == ec::db_unavailable));
  // Abandoned: the idle check closes it, and the request that waited for
  // the only connection is then served.
  BOOST_TEST(users());
  BOOST_TEST((pull(a.next).second == ec::not_found));
  // Read to the end: the connection is freed without a close.
  auto cursor = open;
  int rows = 0;
  while (!cursor.done) {
    auto [b, err] = pull(cursor);
    BOOST_REQUIRE(!err);
    rows += static_cast<int>(b.rows.size());
    cursor = b.next;
  }
  BOOST_TEST(rows == 30);
  BOOST_TEST(users());
  self->send_exit(repo, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
