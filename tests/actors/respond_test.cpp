// SPDX-License-Identifier: Apache-2.0
// A user's answers to suggestions through the engine on a real database:
// accept, dismiss and snooze with what each stores, every refusal (someone
// else's suggestion, one already answered, an overlapping accepted slot, a
// snooze out of bounds), reads right after an answer, and two concurrent
// accepts of overlapping slots. Suggestions come from a generation over
// seeded contacts; overlapping ones are written with SQL.

#include <boost/test/unit_test.hpp>

#include <ctime>
#include <future>
#include <set>

#include "actors/engine_core.hpp"
#include "tests/support/test_database.hpp"

using namespace catchup;

namespace {

using answer_action = storage::suggestion_action;

constexpr std::int64_t day_s = 86400;

struct fixture {
  test::test_database db;
  std::unique_ptr<engine_core> eng;
  std::string user;
  // The engine's clock stands here (2026-11-18T11:06:40Z): whether a
  // snooze has passed is decided by it when suggestions are read, so the
  // answers' "now" agrees with it.
  std::int64_t now = 1795000000;
  std::vector<suggestion_record> generated;

  fixture() {
    config::settings s;
    s.database.url = db.url();
    s.database.connections_max = 2;
    engine_options options;
    options.clock = wall_clock::fixed(now * 1000);
    eng = std::make_unique<engine_core>(s, std::move(options));
    storage::seed_options opts;
    opts.users = 1;
    opts.contacts_per_user = 100;
    opts.now_unix_s = now;
    user = eng->seed(opts).user_ids.front();
    db.query("DELETE FROM calendar_events RETURNING 1");
    eng->generate(user, now);
    // As stored (a generation's items carry no ids), earliest slot first.
    generated = eng->suggestions(user);
    BOOST_REQUIRE_GE(generated.size(), 4u);
  }

  storage::suggestion_response answer(const suggestion_record& s,
                                      answer_action action) const {
    storage::suggestion_response r;
    r.user_id = user;
    r.suggestion_id = s.id;
    r.action = action;
    r.now_unix_s = now;
    return r;
  }

  ec code_of(const storage::suggestion_response& r,
             std::string* what = nullptr) {
    try {
      eng->respond(r);
    } catch (const engine_error& e) {
      if (what)
        *what = e.what();
      return e.code();
    }
    return ec::none;
  }

  std::string one(const std::string& sql) {
    auto rows = db.query(sql);
    BOOST_REQUIRE_EQUAL(rows.size(), 1u);
    return rows[0];
  }

  std::string column(const std::string& expr, const std::string& id) {
    return one("SELECT " + expr + " FROM suggestions WHERE id = '" + id + "'");
  }

  std::int64_t last_contact(const std::string& contact_id) {
    auto text = one("SELECT coalesce(extract(epoch from last_contact_date)"
                    "::bigint, 0) FROM contacts WHERE id = '"
                    + contact_id + "'");
    return std::stoll(text);
  }

  bool listed(const std::string& id) {
    for (auto& s : eng->suggestions(user))
      if (s.id == id)
        return true;
    return false;
  }

  // A pending suggestion of another contact than `s`'s whose slot is `s`'s
  // moved by `shift_s`.
  suggestion_record shifted_copy(const suggestion_record& s,
                                 std::int64_t shift_s) {
    auto shift = std::to_string(shift_s);
    auto id = one("INSERT INTO suggestions (user_id, contact_id, priority, "
                  "slot_start, slot_end, slot_timezone, reason) "
                  "SELECT s.user_id, c.id, 1, "
                  "s.slot_start + make_interval(secs => " + shift + "), "
                  "s.slot_end + make_interval(secs => " + shift + "), "
                  "s.slot_timezone, 'test' FROM suggestions s "
                  "JOIN contacts c ON c.user_id = s.user_id "
                  "AND c.id <> s.contact_id WHERE s.id = '" + s.id
                  + "' ORDER BY c.id LIMIT 1 RETURNING id");
    auto copy = s;
    copy.id = id;
    copy.slot_start_unix_s += shift_s;
    copy.slot_end_unix_s += shift_s;
    return copy;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_respond, fixture)

BOOST_AUTO_TEST_CASE(accept_marks_it_accepted_and_moves_the_last_contact_date) {
  auto& s = generated.front();
  BOOST_REQUIRE(listed(s.id)); // the pending list is now cached
  BOOST_REQUIRE_LT(last_contact(s.contact_id), now);
  eng->contact(user, s.contact_id); // and so is the contact
  auto r = eng->respond(answer(s, answer_action::accept));
  BOOST_TEST(r.suggestion.id == s.id);
  BOOST_TEST(r.suggestion.status == "accepted");
  BOOST_TEST(r.suggestion.contact_id == s.contact_id);
  BOOST_TEST(r.suggestion.slot_start_unix_s == s.slot_start_unix_s);
  BOOST_TEST(r.last_contact_moved);
  BOOST_TEST(column("status::text", s.id) == "accepted");
  BOOST_TEST(column("extract(epoch from responded_at)::bigint", s.id)
             == std::to_string(now));
  BOOST_TEST(last_contact(s.contact_id) == now);
  // Both caches were dropped: the reads see the answer at once.
  BOOST_TEST(!listed(s.id));
  BOOST_TEST(eng->suggestions(user).size() == generated.size() - 1);
  auto contact = eng->contact(user, s.contact_id);
  BOOST_TEST(contact.has_last_contact);
  BOOST_TEST(contact.last_contact_unix_s == now);
}

BOOST_AUTO_TEST_CASE(accept_never_moves_the_last_contact_date_backward) {
  auto& s = generated.front();
  db.query("UPDATE contacts SET last_contact_date = to_timestamp("
           + std::to_string(now + 3600) + ") WHERE id = '" + s.contact_id
           + "' RETURNING 1");
  auto r = eng->respond(answer(s, answer_action::accept));
  BOOST_TEST(r.suggestion.status == "accepted");
  BOOST_TEST(!r.last_contact_moved);
  BOOST_TEST(last_contact(s.contact_id) == now + 3600);
}

BOOST_AUTO_TEST_CASE(dismiss_keeps_the_reason_and_met_recently_moves_the_date) {
  auto& plain = generated[0];
  auto& met = generated[1];
  auto before = last_contact(plain.contact_id);
  BOOST_REQUIRE(listed(plain.id));
  auto r = answer(plain, answer_action::dismiss);
  r.reason = "not this week";
  auto out = eng->respond(r);
  BOOST_TEST(out.suggestion.status == "dismissed");
  BOOST_TEST(!out.last_contact_moved);
  BOOST_TEST(column("dismissal_reason", plain.id) == "not this week");
  BOOST_TEST(column("extract(epoch from responded_at)::bigint", plain.id)
             == std::to_string(now));
  BOOST_TEST(last_contact(plain.contact_id) == before);
  BOOST_TEST(!listed(plain.id));

  auto m = answer(met, answer_action::dismiss);
  m.met_recently = true;
  out = eng->respond(m);
  BOOST_TEST(out.suggestion.status == "dismissed");
  BOOST_TEST(out.last_contact_moved);
  BOOST_TEST(column("coalesce(dismissal_reason, 'null')", met.id) == "null");
  BOOST_TEST(last_contact(met.contact_id) == now);
}

BOOST_AUTO_TEST_CASE(a_snooze_hides_it_until_it_passes_then_it_is_pending) {
  auto& s = generated[0];
  BOOST_REQUIRE(listed(s.id));
  auto r = answer(s, answer_action::snooze);
  r.snooze_until_unix_s = now + day_s;
  auto out = eng->respond(r);
  BOOST_TEST(out.suggestion.status == "snoozed");
  BOOST_TEST(out.snoozed_until_unix_s == now + day_s);
  BOOST_TEST(!out.last_contact_moved);
  BOOST_TEST(column("extract(epoch from snoozed_until)::bigint", s.id)
             == std::to_string(now + day_s));
  BOOST_TEST(!listed(s.id));
  // Still snoozed: it cannot be answered before its time.
  std::string what;
  BOOST_TEST((code_of(answer(s, answer_action::accept), &what)
              == ec::conflict));
  BOOST_TEST(what.find("snoozed until") != std::string::npos, what);

  // Snoozed two days ago for one day: passed, so pending again on read
  // (the stored status stays snoozed) and open to an answer.
  auto& t = generated[1];
  auto early = answer(t, answer_action::snooze);
  early.now_unix_s = now - 2 * day_s;
  early.snooze_until_unix_s = now - day_s;
  eng->respond(early);
  BOOST_TEST(column("status::text", t.id) == "snoozed");
  bool pending = false;
  for (auto& x : eng->suggestions(user))
    if (x.id == t.id)
      pending = x.status == "pending";
  BOOST_TEST(pending);
  auto again = answer(t, answer_action::snooze);
  again.snooze_until_unix_s = now + 2 * day_s;
  BOOST_TEST(eng->respond(again).suggestion.status == "snoozed");
  BOOST_TEST(!listed(t.id));
}

BOOST_AUTO_TEST_CASE(generation_replaces_a_passed_snooze_keeps_a_running_one) {
  auto passed = answer(generated[0], answer_action::snooze);
  passed.now_unix_s = now - 2 * day_s;
  passed.snooze_until_unix_s = now - day_s;
  eng->respond(passed);
  auto running = answer(generated[1], answer_action::snooze);
  running.snooze_until_unix_s = now + day_s;
  eng->respond(running);
  eng->generate(user, now);
  BOOST_TEST(db.query("SELECT id FROM suggestions WHERE id = '"
                      + generated[0].id + "'")
               .empty());
  BOOST_TEST(column("status::text", generated[1].id) == "snoozed");
  std::set<std::string> contacts;
  for (auto& x : eng->suggestions(user)) {
    BOOST_TEST(x.contact_id != generated[1].contact_id);
    BOOST_TEST(contacts.insert(x.contact_id).second, x.contact_id);
  }
}

BOOST_AUTO_TEST_CASE(a_snooze_must_end_after_now_and_within_ninety_days) {
  auto r = answer(generated[0], answer_action::snooze);
  for (auto until : {now - 1, now, now + storage::snooze_seconds_max + 1}) {
    r.snooze_until_unix_s = until;
    BOOST_TEST((code_of(r) == ec::invalid_input), until - now);
  }
  BOOST_TEST(column("status::text", generated[0].id) == "pending");
  r.snooze_until_unix_s = now + storage::snooze_seconds_max;
  BOOST_TEST((code_of(r) == ec::none));
}

BOOST_AUTO_TEST_CASE(a_dismissal_reason_must_be_bounded_utf8_text) {
  auto r = answer(generated[0], answer_action::dismiss);
  r.reason = std::string(storage::dismissal_reason_bytes_max + 1, 'x');
  BOOST_TEST((code_of(r) == ec::invalid_input));
  r.reason = "caf\xe9";
  BOOST_TEST((code_of(r) == ec::invalid_input));
  BOOST_TEST(column("status::text", generated[0].id) == "pending");
  r.reason = std::string(storage::dismissal_reason_bytes_max, 'x');
  BOOST_TEST((code_of(r) == ec::none));
}

BOOST_AUTO_TEST_CASE(only_the_users_own_suggestions_can_be_answered) {
  auto other = db.query("INSERT INTO users (email) VALUES "
                        "('other@example.org') RETURNING id")[0];
  auto r = answer(generated[0], answer_action::accept);
  r.user_id = other;
  std::string what;
  BOOST_TEST((code_of(r, &what) == ec::not_found));
  BOOST_TEST(what.find(generated[0].id) != std::string::npos, what);
  r.user_id = "00000000-0000-4000-8000-000000000000";
  BOOST_TEST((code_of(r) == ec::not_found));
  r.user_id = user;
  r.suggestion_id = "00000000-0000-4000-8000-000000000000";
  BOOST_TEST((code_of(r) == ec::not_found));
  r.suggestion_id = "not-a-uuid";
  BOOST_TEST((code_of(r) == ec::invalid_input));
  BOOST_TEST(column("status::text", generated[0].id) == "pending");
}

BOOST_AUTO_TEST_CASE(an_answer_without_now_is_at_the_engines_clock) {
  auto r = answer(generated[0], answer_action::accept);
  r.now_unix_s = -1; // before 1970: a mistake, not "unset"
  BOOST_TEST((code_of(r) == ec::invalid_input));
  r.now_unix_s = 0;
  BOOST_TEST(eng->respond(r).suggestion.status == "accepted");
  BOOST_TEST(column("extract(epoch from responded_at)::bigint",
                    generated[0].id)
             == std::to_string(now));
}

BOOST_AUTO_TEST_CASE(an_answered_suggestion_is_a_conflict) {
  auto& a = generated[0];
  auto& d = generated[1];
  eng->respond(answer(a, answer_action::accept));
  eng->respond(answer(d, answer_action::dismiss));
  std::string what;
  for (auto action : {answer_action::accept, answer_action::dismiss,
                      answer_action::snooze}) {
    auto r = answer(a, action);
    r.snooze_until_unix_s = now + day_s;
    BOOST_TEST((code_of(r, &what) == ec::conflict));
    BOOST_TEST(what.find("it is accepted") != std::string::npos, what);
    r.suggestion_id = d.id;
    BOOST_TEST((code_of(r, &what) == ec::conflict));
    BOOST_TEST(what.find("it is dismissed") != std::string::npos, what);
  }
  BOOST_TEST(column("status::text", d.id) == "dismissed");
}

BOOST_AUTO_TEST_CASE(accept_refuses_a_slot_overlapping_an_accepted_one) {
  auto& first = generated[0];
  auto length = first.slot_end_unix_s - first.slot_start_unix_s;
  auto overlapping = shifted_copy(first, length / 2);
  auto adjacent = shifted_copy(first, length);
  eng->respond(answer(first, answer_action::accept));
  std::string what;
  BOOST_TEST((code_of(answer(overlapping, answer_action::accept), &what)
              == ec::conflict));
  BOOST_TEST(what.find(first.id) != std::string::npos, what);
  BOOST_TEST(column("status::text", overlapping.id) == "pending");
  // Touching slots do not overlap; other answers are not checked at all.
  BOOST_TEST((code_of(answer(adjacent, answer_action::accept))
              == ec::none));
  BOOST_TEST((code_of(answer(overlapping, answer_action::dismiss))
              == ec::none));
}

BOOST_AUTO_TEST_CASE(two_concurrent_accepts_of_overlapping_slots_one_wins) {
  // Several rounds, each on a fresh pair in its own week, so the two
  // accepts really race more than once.
  for (int round = 0; round < 5; ++round) {
    auto a = shifted_copy(generated[0], (round + 1) * 7 * day_s);
    auto b = shifted_copy(a, (a.slot_end_unix_s - a.slot_start_unix_s) / 2);
    std::promise<void> go;
    auto start = go.get_future().share();
    auto accept = [&](const suggestion_record& s) {
      return std::async(std::launch::async, [&, s] {
        start.wait();
        return code_of(answer(s, answer_action::accept));
      });
    };
    auto first = accept(a);
    auto second = accept(b);
    go.set_value();
    auto x = first.get();
    auto y = second.get();
    BOOST_TEST(((x == ec::none) != (y == ec::none)), "round " << round);
    BOOST_TEST(((x == ec::conflict) || (y == ec::conflict)),
               "round " << round);
    BOOST_TEST(one("SELECT count(*) FROM suggestions WHERE status = "
                   "'accepted' AND id IN ('" + a.id + "', '" + b.id + "')")
               == "1");
  }
}

BOOST_AUTO_TEST_SUITE_END()
