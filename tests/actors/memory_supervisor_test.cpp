// SPDX-License-Identifier: Apache-2.0
// The memory supervisor with an injected probe: every level transition and
// its hysteresis, the broadcast reaching every subscriber in order, dead
// subscribers dropped, freed memory returned on the way up, leaks found on
// steady growth but not on a sawtooth, and wrap_operation's breaker.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "actors/memory_supervisor.hpp"
#include "actors/system_config.hpp"
#include "messages/error_codes.hpp"
#include "tests/support/fake_memory_probe.hpp"

using namespace catchup;

namespace {

constexpr std::int64_t budget = 1000;
constexpr auto wait = std::chrono::seconds(10);

double metric_value(const metrics_registry& r, const std::string& name) {
  for (auto& m : r.snapshot())
    if (m.name == name)
      return m.value;
  BOOST_FAIL("no metric " << name);
  return 0;
}

struct fixture {
  system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  std::shared_ptr<test::fake_memory_probe> probe
    = std::make_shared<test::fake_memory_probe>();
  std::shared_ptr<memory_gauge> gauge = std::make_shared<memory_gauge>();
  std::shared_ptr<metrics_registry> metrics
    = std::make_shared<metrics_registry>();

  memory_supervisor_actor start(memory_supervisor_config mc = {}) {
    mc.budget_bytes = budget;
    // Only the test's own requests sample.
    mc.sample_interval = std::chrono::hours(1);
    auto sup = spawn_memory_supervisor(sys, probe, gauge, metrics, mc);
    started.push_back(sup);
    return sup;
  }

  // Stopped at the end; the actor system waits for every actor.
  std::vector<memory_supervisor_actor> started;

  memory_status sample(const memory_supervisor_actor& sup,
                       std::int64_t allocated) {
    probe->set(allocated);
    memory_status out;
    self->request(sup, wait, atom::sample::value)
      .receive([&](memory_status& x) { out = x; },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return out;
  }

  std::uint64_t subscribe(const memory_supervisor_actor& sup,
                          const caf::actor& who) {
    std::uint64_t n = 0;
    self->request(sup, wait, atom::subscribe::value, who)
      .receive([&](std::uint64_t x) { n = x; },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return n;
  }

  ~fixture() {
    for (auto& sup : started)
      self->send_exit(sup, caf::exit_reason::user_shutdown);
  }
};

// Receives the next pressure broadcast on `who`.
memory_status next_broadcast(caf::scoped_actor& who) {
  memory_status out;
  bool got = false;
  who->receive(
    [&](atom::pressure, const memory_status& x) {
      out = x;
      got = true;
    },
    caf::after(wait) >> [] {});
  BOOST_REQUIRE_MESSAGE(got, "no pressure broadcast arrived");
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(actors_memory_supervisor, fixture)

BOOST_AUTO_TEST_CASE(every_transition_with_hysteresis_reaches_every_subscriber_in_order) {
  auto sup = start();
  std::vector<std::unique_ptr<caf::scoped_actor>> subs;
  for (int i = 0; i < 3; ++i) {
    subs.push_back(std::make_unique<caf::scoped_actor>(sys));
    BOOST_TEST(subscribe(sup, caf::actor{*subs.back()})
               == static_cast<std::uint64_t>(i + 1));
    // The current status comes at once.
    BOOST_TEST((next_broadcast(*subs.back()).level == pressure_level::normal));
  }
  // allocated bytes of 1000 -> expected level. Thresholds 60/70/80 are
  // entered at the threshold; a level is left 5 points below it.
  std::vector<std::pair<std::int64_t, pressure_level>> steps{
    {500, pressure_level::normal},   {599, pressure_level::normal},
    {600, pressure_level::elevated}, {560, pressure_level::elevated},
    {700, pressure_level::high},     {660, pressure_level::high},
    {800, pressure_level::critical}, {760, pressure_level::critical},
    {749, pressure_level::high},     {649, pressure_level::elevated},
    {551, pressure_level::elevated}, {549, pressure_level::normal},
    {900, pressure_level::critical}, {100, pressure_level::normal},
  };
  std::vector<pressure_level> changes;
  auto last = pressure_level::normal;
  for (auto [allocated, expected] : steps) {
    auto x = sample(sup, allocated);
    BOOST_TEST((x.level == expected), allocated << " bytes gave "
                                                << to_string(x.level));
    BOOST_TEST(x.allocated_bytes == allocated);
    BOOST_TEST(x.budget_bytes == budget);
    BOOST_TEST(x.used_percent == allocated / 10.0);
    BOOST_TEST((gauge->load().level == expected));
    if (expected != last)
      changes.push_back(expected);
    last = expected;
  }
  BOOST_REQUIRE_EQUAL(changes.size(), 8u);
  for (auto& sub : subs) {
    std::uint64_t seq = 0;
    for (auto expected : changes) {
      auto x = next_broadcast(*sub);
      BOOST_TEST((x.level == expected));
      BOOST_TEST(x.change_seq == ++seq);
    }
    // Nothing more: a sample without a change is not broadcast.
    bool extra = false;
    (*sub)->receive([&](atom::pressure, const memory_status&) { extra = true; },
                    caf::after(std::chrono::milliseconds(0)) >> [] {});
    BOOST_TEST(!extra);
  }
  BOOST_TEST(metric_value(*metrics, "catchup_memory_pressure_changes_total")
             == 8.0);
  BOOST_TEST(metric_value(*metrics, "catchup_heap_used_bytes") == 100.0);
  BOOST_TEST(metric_value(*metrics, "catchup_heap_percent") == 10.0);
}

BOOST_AUTO_TEST_CASE(dead_subscribers_are_dropped) {
  auto sup = start();
  auto doomed = sys.spawn([](caf::event_based_actor*, int) -> caf::behavior {
    return {[](atom::pressure, const memory_status&) {}};
  }, 0);
  caf::scoped_actor other{sys};
  // Monitored by the test before the supervisor: CAF notifies the newest
  // monitor first, so the supervisor's down message is queued before the
  // test's, and so before the test's next request.
  self->monitor(doomed);
  BOOST_TEST(subscribe(sup, doomed) == 1u);
  BOOST_TEST(subscribe(sup, caf::actor{other}) == 2u);
  BOOST_TEST(subscribe(sup, caf::actor{other}) == 2u); // once only
  self->send_exit(doomed, caf::exit_reason::kill);
  self->receive([](const caf::down_msg&) {});
  caf::scoped_actor third{sys};
  BOOST_TEST(subscribe(sup, caf::actor{third}) == 2u);
  // The live ones still get changes.
  sample(sup, 650);
  next_broadcast(other); // initial status
  BOOST_TEST((next_broadcast(other).level == pressure_level::elevated));
  next_broadcast(third); // initial status
  BOOST_TEST((next_broadcast(third).level == pressure_level::elevated));
}

BOOST_AUTO_TEST_CASE(freed_memory_is_returned_when_pressure_rises_if_enabled) {
  auto sup = start();
  sample(sup, 650); // elevated
  sample(sup, 720); // high
  sample(sup, 600); // back to elevated: falling never purges
  BOOST_TEST(probe->releases() == 2);
  BOOST_TEST(metric_value(*metrics, "catchup_memory_forced_gc_total") == 2.0);
  memory_supervisor_config off;
  off.forced_gc_enabled = false;
  auto quiet = start(off);
  sample(quiet, 900);
  BOOST_TEST(probe->releases() == 2);
}

BOOST_AUTO_TEST_CASE(steady_growth_is_a_leak_and_a_sawtooth_is_not) {
  memory_supervisor_config mc;
  mc.leak_samples_max = 20;
  mc.leak_growth_ratio = 1.5;
  probe->set(100);
  auto sup = start(mc); // its first sample opens the window with 100
  // Sawtooth: 100..190 twice, ending on a peak 1.9x the first sample.
  for (int round = 0; round < 2; ++round)
    for (int i = 0; i < 10; ++i)
      sample(sup, 100 + 10 * i);
  BOOST_TEST(metric_value(*metrics, "catchup_memory_leak_alarms_total") == 0.0);
  // Steady growth: 100 -> 290 in 20 samples.
  for (int i = 0; i < 20; ++i)
    sample(sup, 100 + 10 * i);
  BOOST_TEST(metric_value(*metrics, "catchup_memory_leak_alarms_total") == 1.0);
}

BOOST_AUTO_TEST_CASE(growth_too_small_for_the_budget_is_not_a_leak) {
  // A steady rise from 4 to 9 bytes is 2.25x, but under 1% of the budget.
  memory_supervisor_config mc;
  mc.leak_samples_max = 40;
  probe->set(4);
  auto sup = start(mc);
  for (int i = 0; i < 40; ++i)
    sample(sup, 4 + i * 3 / 20);
  BOOST_TEST(metric_value(*metrics, "catchup_memory_leak_alarms_total") == 0.0);
}

BOOST_AUTO_TEST_CASE(wrap_operation_refuses_at_critical_and_measures_otherwise) {
  memory_status x;
  x.budget_bytes = budget;
  x.level = pressure_level::high;
  gauge->store(x);
  probe->script({100, 400});
  auto out = wrap_operation("op", *gauge, *probe, [] { return 42; });
  BOOST_TEST(out == 42);
  auto m = measure_operation("op", *probe, budget, [] {});
  BOOST_TEST(m.allocated_before_bytes == 400);
  x.level = pressure_level::critical;
  x.allocated_bytes = 850;
  x.used_percent = 85;
  gauge->store(x);
  bool ran = false;
  try {
    wrap_operation("op", *gauge, *probe, [&] { ran = true; });
    BOOST_FAIL("not refused");
  } catch (const memory_refused& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("critical") != std::string::npos);
    BOOST_TEST(what.find("85.0%") != std::string::npos);
    BOOST_TEST(what.find("refused") != std::string::npos);
  }
  BOOST_TEST(!ran);
}

BOOST_AUTO_TEST_SUITE_END()
