// SPDX-License-Identifier: Apache-2.0
#include "bench/scenario_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include <catchup/admin.hpp>
#include <catchup/engine.hpp>

#include "bench/bench_support.hpp"
#include "bench/import_bench.hpp"
#include "bench/memory_report.hpp"
#include "bench/queue_bench.hpp"
#include "core/frequency.hpp"
#include "core/lru_cache.hpp"
#include "core/memory.hpp"
#include "core/priority.hpp"
#include "core/top_k.hpp"

namespace catchup::bench {

namespace {

// Users checked against the brute-force reference in a scenario, at most:
// the reference reads every contact, which for S6 would dominate the run.
constexpr std::size_t checked_users_max = 10;

struct scenario {
  const char* name;
  std::int64_t users;
  std::int64_t contacts_per_user;
  // Each scenario seeds its own data set; they live side by side.
  std::uint64_t seed;
  // Target for the median wall time of one generation run; 0: none.
  double target_ms;
  // Only run when named explicitly (large to seed).
  bool opt_in;
};

constexpr scenario all_scenarios[] = {
  {"S1", 1, 1318, 9001, 0, false},
  {"S2", 1, 10000, 9002, 0, false},
  {"S3", 1, 100000, 9003, 15, false},
  {"S4", 10, 10000, 9004, 40, false},
  {"S5", 1, 1000000, 9005, 20, false},
  {"S6", 1000, 10000, 9006, 0, true},
};

struct figures {
  const scenario* spec = nullptr;
  std::vector<double> wall_ms;
  double median_ms = 0;
  double p95_ms = 0;
  std::int64_t rows_read = 0;
  std::int64_t suggestions = 0;
  std::int64_t checked_users = 0;
  std::int64_t exact_users = 0;
  std::int64_t peak_resident_bytes = 0;
  std::int64_t growth_bytes = 0;
  // Heap (allocator statistics) at its sampled peak during the timed runs,
  // and that peak over the idle engine's heap.
  std::int64_t peak_allocated_bytes = 0;
  std::int64_t allocated_growth_bytes = 0;
  // User generations in flight at once in this scenario.
  std::int64_t concurrent_users = 1;
  bool seeded_now = false;
  double seed_ms = 0;
};

double percentile(std::vector<double> xs, double q) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  // Nearest rank: the smallest value with at least q of the samples at or
  // below it.
  auto rank = static_cast<std::size_t>(q * static_cast<double>(xs.size())
                                       + 0.999999);
  return xs[std::clamp<std::size_t>(rank, 1, xs.size()) - 1];
}

std::string with_commas(std::int64_t n) {
  auto s = std::to_string(n);
  for (auto i = static_cast<std::ptrdiff_t>(s.size()) - 3; i > 0; i -= 3)
    s.insert(static_cast<std::size_t>(i), ",");
  return s;
}

// One timed run: its totals, and the first users' results (for the
// exactness check) plus any with warnings, at most `checked_users_max` each.
struct run_outcome {
  run_totals summary;
  std::vector<generation_summary> kept;
  std::vector<generation_summary> warned;
};

run_outcome run_once(engine& e, const std::vector<std::string>& ids) {
  run_outcome out;
  auto keep = [&](const generation_summary& r) {
    if (out.kept.size() < checked_users_max)
      out.kept.push_back(r);
    if (!r.warnings.empty() && out.warned.size() < checked_users_max)
      out.warned.push_back(r);
  };
  if (ids.size() == 1) {
    auto r = checked(e.generate(ids.front(), bench_now_unix_s));
    out.summary.users = 1;
    out.summary.contacts_read = r.contacts_read;
    out.summary.suggestions = r.suggestions;
    out.summary.partial = r.partial ? 1 : 0;
    keep(r);
    return out;
  }
  out.summary = checked(e.generate_users(
    ids, bench_now_unix_s,
    [&](const generation_summary& r, std::size_t, std::size_t) { keep(r); }));
  return out;
}

// True when `r` lists exactly the top K due contacts of all the user's
// contacts, in order, where K is what the generation could place.
bool matches_reference(engine& e, const generation_summary& r,
                       std::size_t suggestions_max) {
  auto k = std::min<std::size_t>(suggestions_max,
                                 static_cast<std::size_t>(r.free_slots));
  top_k reference{k};
  checked(e.for_each_contact(r.user_id, [&](const contact_info& info) {
    contact_cadence cadence;
    if (!info.frequency.empty())
      cadence.preference = parse_frequency(info.frequency);
    cadence.days = info.effective_cadence_days;
    cadence.source = info.cadence_source == "contact" ? cadence_source::contact
                     : info.cadence_source == "group" ? cadence_source::group
                                                      : cadence_source::user_default;
    cadence.weight_quarters = importance_weight_quarters(info.importance);
    auto c = make_candidate(info.id, info.name, info.last_contact_unix_s,
                            info.added_unix_s, cadence, bench_now_unix_s);
    bool paused = info.paused_until_unix_s
                  && *info.paused_until_unix_s > bench_now_unix_s;
    if (c.days >= cadence.days && !paused)
      reference.offer(std::move(c));
    return true;
  }));
  auto expected = reference.take_sorted();
  // Multi-user runs reply with summaries; the stored suggestions are the
  // result either way (earliest slot first, which is rank order).
  auto stored = r.items.empty() ? checked(e.suggestions(r.user_id)) : r.items;
  if (expected.size() != stored.size())
    return false;
  for (std::size_t i = 0; i < expected.size(); ++i)
    if (expected[i].contact_id != stored[i].contact_id)
      return false;
  return true;
}

void print_table(const std::vector<figures>& all, std::int64_t idle_bytes,
                 std::int64_t idle_allocated_bytes,
                 const std::vector<metric_reading>& metrics) {
  auto mib = [](std::int64_t b) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1)
      << static_cast<double>(b) / (1024.0 * 1024.0);
    return s.str();
  };
  std::printf("\nidle engine resident set: %s MiB\n\n", mib(idle_bytes).c_str());
  std::printf("%-4s %18s %10s %10s %8s %11s %11s %9s %10s %12s\n", "",
              "users x contacts", "median ms", "p95 ms", "target",
              "rows read", "suggestions", "exact", "peak MiB",
              "growth KiB");
  for (auto& f : all) {
    auto shape = std::to_string(f.spec->users) + " x "
                 + with_commas(f.spec->contacts_per_user);
    std::string target = "-";
    if (f.spec->target_ms > 0) {
      std::ostringstream s;
      s << "<=" << f.spec->target_ms;
      target = s.str();
    }
    auto exact = std::to_string(f.exact_users) + "/"
                 + std::to_string(f.checked_users);
    std::printf("%-4s %18s %10.2f %10.2f %8s %11s %11lld %9s %10s %12lld\n",
                f.spec->name, shape.c_str(), f.median_ms, f.p95_ms,
                target.c_str(), with_commas(f.rows_read).c_str(),
                static_cast<long long>(f.suggestions), exact.c_str(),
                mib(f.peak_resident_bytes).c_str(),
                static_cast<long long>(f.growth_bytes / 1024));
  }
  const figures* s1 = nullptr;
  const figures* s5 = nullptr;
  for (auto& f : all) {
    if (std::string{f.spec->name} == "S1")
      s1 = &f;
    if (std::string{f.spec->name} == "S5")
      s5 = &f;
  }
  if (s1 && s5)
    std::printf("\npeak resident growth from S1 to S5 (1,318 to 1,000,000 "
                "contacts): %lld KiB\n",
                static_cast<long long>(
                  (s5->peak_resident_bytes - s1->peak_resident_bytes) / 1024));
  std::printf("\nrows read and suggestions are per run (all users of the "
              "scenario); exact = users whose suggestions equal a "
              "brute-force ranking of all their contacts; growth = peak "
              "resident set during the timed runs minus the idle engine.\n");

  std::printf("\nheap (allocator statistics, %s), idle engine: %lld KiB\n\n",
              process_memory_probe::uses_jemalloc() ? "jemalloc" : "glibc",
              static_cast<long long>(idle_allocated_bytes / 1024));
  std::printf("%-4s %18s %11s %14s %16s %14s %14s\n", "", "users x contacts",
              "concurrent", "heap peak KiB", "heap growth KiB",
              "per user KiB", "RSS peak MiB");
  for (auto& f : all) {
    auto shape = std::to_string(f.spec->users) + " x "
                 + with_commas(f.spec->contacts_per_user);
    std::printf("%-4s %18s %11lld %14lld %16lld %14.1f %14s\n", f.spec->name,
                shape.c_str(), static_cast<long long>(f.concurrent_users),
                static_cast<long long>(f.peak_allocated_bytes / 1024),
                static_cast<long long>(f.allocated_growth_bytes / 1024),
                static_cast<double>(f.allocated_growth_bytes) / 1024.0
                  / static_cast<double>(f.concurrent_users),
                mib(f.peak_resident_bytes).c_str());
  }
  std::printf("\nheap peak is sampled every millisecond during the timed "
              "runs; per user = heap growth / concurrent generations (target "
              "<= 256 KiB); S6 target: RSS peak <= 128 MiB.\n");
  std::printf("\nmetrics:\n");
  for (auto& m : metrics) {
    if (m.type == metric_type::histogram)
      std::printf("  %-48s count %llu, mean %.2f\n", m.name.c_str(),
                  static_cast<unsigned long long>(m.count),
                  m.count > 0 ? m.sum / static_cast<double>(m.count) : 0.0);
    else
      std::printf("  %-48s %.0f\n", m.name.c_str(), m.value);
  }
}

// Cache throughput: the LRU cache directly, and the suggestion read path
// through the engine and its cache actor (engine::suggestions) under
// repeated reads.
struct cache_figures_bench {
  double direct_ops_per_s = 0;
  double actor_reads_per_s = 0;
  double read_hit_rate = 0;
  std::int64_t reads = 0;
};

// A counter's value among `readings`; 0 if there is none of that name.
double reading_of(const std::vector<metric_reading>& readings,
                  const std::string& name) {
  for (const auto& m : readings)
    if (m.name == name)
      return m.value;
  return 0;
}

cache_figures_bench run_cache_bench(engine& e,
                                    const std::vector<std::string>& users) {
  cache_figures_bench out;
  // Directly: 1,000 keys over a 500-entry cache, 3 gets per put, values
  // the size of 25 suggestions.
  std::int64_t fake_now = 0;
  lru_cache<std::string, std::vector<suggestion>> direct{
    cache_limits{500, 25u << 20, 1800000},
    [](const std::string& k, const std::vector<suggestion>& v) {
      return k.size() + v.size() * sizeof(suggestion);
    },
    [&] { return fake_now; }};
  std::vector<std::string> keys;
  for (int i = 0; i < 1000; ++i)
    keys.push_back("user-" + std::to_string(i * 7919 % 1000));
  std::vector<suggestion> value(25);
  constexpr int direct_ops = 400000;
  std::uint32_t x = 12345;
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < direct_ops; ++i) {
    x = x * 1664525u + 1013904223u; // LCG: cheap, repeatable key choice
    auto& k = keys[(x >> 8) % keys.size()];
    if (i % 4 == 0)
      direct.put(k, value);
    else
      direct.get(k);
  }
  auto s = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                         - started)
             .count();
  out.direct_ops_per_s = direct_ops / s;
  // Through the actor: every user's suggestions read 50 times; the hits
  // and misses are the suggestion cache's counters.
  constexpr const char* hits_name = "catchup_cache_suggestions_hits_total";
  constexpr const char* misses_name = "catchup_cache_suggestions_misses_total";
  auto before = checked(e.metrics()).readings;
  started = std::chrono::steady_clock::now();
  for (int round = 0; round < 50; ++round)
    for (auto& u : users) {
      checked(e.suggestions(u));
      ++out.reads;
    }
  s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
        .count();
  out.actor_reads_per_s = static_cast<double>(out.reads) / s;
  auto after = checked(e.metrics()).readings;
  auto hits = reading_of(after, hits_name) - reading_of(before, hits_name);
  auto misses
    = reading_of(after, misses_name) - reading_of(before, misses_name);
  out.read_hit_rate = hits + misses > 0 ? hits / (hits + misses) : 0;
  return out;
}

} // namespace

std::vector<std::string> bench_scenario_names() {
  std::vector<std::string> out;
  for (auto& sc : all_scenarios)
    out.emplace_back(sc.name);
  out.emplace_back("import");
  out.emplace_back("queue");
  return out;
}

int run_bench(const engine_config& config, const bench_options& options) {
  auto named = [&](const std::string& name) {
    return std::find(options.scenarios.begin(), options.scenarios.end(), name)
           != options.scenarios.end();
  };
  std::vector<const scenario*> chosen;
  for (auto& sc : all_scenarios)
    if (named(sc.name) || (options.scenarios.empty() && !sc.opt_in))
      chosen.push_back(&sc);
  auto bench_engine_config = bench_config(config);
  bench_settings settings{bench_engine_config};
  auto concurrent_users_max
    = settings.integer("generation.concurrent_users_max");
  auto suggestions_max = settings.integer("generation.suggestions_max");
  // Opt-in like S6: its data set takes minutes to seed the first time.
  bool run_queue = named("queue");
  if (run_queue)
    for (auto& setting : queue_bench_settings(concurrent_users_max))
      bench_engine_config.settings.push_back(setting);
  auto e = checked(engine::open(bench_engine_config));
  say("bench: database "
      + (e.embedded_database() ? "private cluster in " + e.data_dir()
                               : std::string{"external server"})
      + ", " + std::to_string(options.iterations) + " timed runs per "
      "scenario, now = 2026-11-01T09:00:00Z, allocator "
      + (process_memory_probe::uses_jemalloc() ? "jemalloc" : "glibc"));

  // Seed first, so that the seeding's allocations are returned before the
  // idle figure is taken.
  std::vector<figures> all;
  std::vector<std::vector<std::string>> users;
  for (auto* sc : chosen) {
    admin::seed_params params;
    params.users = sc->users;
    params.contacts_per_user = sc->contacts_per_user;
    params.seed = sc->seed;
    params.now_unix_s = bench_now_unix_s;
    figures f;
    f.spec = sc;
    auto ids = checked(admin::seeded_users(e, params));
    if (ids.empty()) {
      say("bench: seeding " + std::string{sc->name} + " ("
          + std::to_string(sc->users) + " x "
          + with_commas(sc->contacts_per_user)
          + " contacts); kept for later runs");
      auto report = checked(admin::seed(e, params));
      ids = report.user_ids;
      f.seeded_now = true;
      f.seed_ms = report.wall_ms;
    }
    users.push_back(std::move(ids));
    all.push_back(f);
  }
  process_memory_probe{}.release_free_memory();
  auto idle_bytes = read_process_memory().resident_bytes;
  auto idle_allocated_bytes = process_memory_probe{}.sample().allocated_bytes;

  // Timed runs of every scenario first, exactness checks after: the checks
  // read every contact and would raise the next scenario's memory figures.
  // Single-user scenarios run first, so that S1..S5's peaks compare the
  // contact count alone, not what concurrent runs left in the allocator.
  std::vector<std::size_t> order(all.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_partition(order.begin(), order.end(),
                        [&](std::size_t i) { return all[i].spec->users == 1; });
  std::vector<std::vector<generation_summary>> last_results(all.size());
  for (auto i : order) {
    auto& f = all[i];
    auto& ids = users[i];
    say("bench: running " + std::string{f.spec->name});
    run_once(e, ids); // warm-up: connections, prepared statements
    reset_peak_resident();
    run_outcome last;
    {
      heap_peak_sampler heap;
      for (std::int64_t it = 0; it < options.iterations; ++it) {
        auto started = std::chrono::steady_clock::now();
        last = run_once(e, ids);
        f.wall_ms.push_back(std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - started)
                              .count());
      }
      f.peak_allocated_bytes = heap.stop();
    }
    f.peak_resident_bytes = read_process_memory().peak_resident_bytes;
    f.growth_bytes = f.peak_resident_bytes - idle_bytes;
    f.allocated_growth_bytes = f.peak_allocated_bytes - idle_allocated_bytes;
    f.concurrent_users
      = std::min<std::int64_t>(f.spec->users, concurrent_users_max);
    f.median_ms = percentile(f.wall_ms, 0.5);
    f.p95_ms = percentile(f.wall_ms, 0.95);
    f.rows_read = last.summary.contacts_read;
    f.suggestions = last.summary.suggestions;
    for (auto& r : last.warned)
      for (auto& w : r.warnings)
        say("bench: " + std::string{f.spec->name} + " user " + r.user_id
            + ": " + w);
    last_results[i] = std::move(last.kept);
    process_memory_probe{}.release_free_memory();
  }
  // Imports after generations: their files would otherwise raise the
  // generation scenarios' memory figures.
  std::vector<import_figures> imports;
  if (options.scenarios.empty() || named("import"))
    imports = run_import_bench(e);
  // The queue: 10,000 generation jobs (users of 1,000 contacts) through
  // this engine's dispatcher.
  std::optional<queue_figures> queue;
  if (run_queue)
    queue = run_queue_bench(e, 10000, 1000, concurrent_users_max);
  // The cache bench reads the suggestions of the users run above.
  std::vector<std::string> cache_users;
  for (auto& ids : users)
    for (auto& id : ids)
      if (cache_users.size() < 20)
        cache_users.push_back(id);
  cache_figures_bench cache_bench;
  if (!cache_users.empty()) {
    say("bench: cache");
    cache_bench = run_cache_bench(e, cache_users);
  }
  bool all_exact = true;
  for (std::size_t i = 0; i < all.size() && options.check_exactness; ++i) {
    auto& f = all[i];
    auto& last = last_results[i];
    say("bench: checking " + std::string{f.spec->name}
        + " against a brute-force ranking");
    for (std::size_t u = 0; u < last.size() && u < checked_users_max; ++u) {
      ++f.checked_users;
      if (matches_reference(e, last[u],
                            static_cast<std::size_t>(suggestions_max)))
        ++f.exact_users;
    }
    all_exact = all_exact && f.exact_users == f.checked_users;
  }

  if (options.as_json) {
    auto out = nlohmann::json::array();
    for (auto& f : all)
      out.push_back({{"scenario", f.spec->name},
                     {"users", f.spec->users},
                     {"contacts_per_user", f.spec->contacts_per_user},
                     {"runs", f.wall_ms.size()},
                     {"median_ms", f.median_ms},
                     {"p95_ms", f.p95_ms},
                     {"target_ms", f.spec->target_ms},
                     {"rows_read", f.rows_read},
                     {"suggestions", f.suggestions},
                     {"checked_users", f.checked_users},
                     {"exact_users", f.exact_users},
                     {"idle_resident_bytes", idle_bytes},
                     {"peak_resident_bytes", f.peak_resident_bytes},
                     {"growth_bytes", f.growth_bytes},
                     {"concurrent_users", f.concurrent_users},
                     {"idle_allocated_bytes", idle_allocated_bytes},
                     {"peak_allocated_bytes", f.peak_allocated_bytes},
                     {"allocated_growth_bytes", f.allocated_growth_bytes},
                     {"allocated_growth_per_user_bytes",
                      f.allocated_growth_bytes / f.concurrent_users},
                     {"seeded_now", f.seeded_now},
                     {"seed_ms", f.seed_ms}});
    nlohmann::json doc = {{"allocator", process_memory_probe::uses_jemalloc()
                                            ? "jemalloc"
                                            : "glibc"},
                          {"scenarios", out},
                          {"cache",
                           {{"direct_ops_per_s", cache_bench.direct_ops_per_s},
                            {"actor_reads_per_s",
                             cache_bench.actor_reads_per_s},
                            {"suggestion_read_hit_rate",
                             cache_bench.read_hit_rate},
                            {"reads", cache_bench.reads}}},
                          {"imports", import_json(imports)},
                          {"queue", queue ? queue_json(*queue)
                                          : nlohmann::json{}},
                          {"metrics",
                           metrics_json(checked(e.metrics()).readings)}};
    std::cout << doc.dump(2) << '\n';
  } else {
    if (!all.empty())
      print_table(all, idle_bytes, idle_allocated_bytes,
                  checked(e.metrics()).readings);
    if (!imports.empty())
      print_import_table(imports);
    if (queue)
      print_queue_figures(*queue);
    if (!cache_users.empty())
      std::printf("\ncache: %.0f get/put per second directly (LRU, 1,000 keys "
                "over 500 entries, 3 gets per put); %.0f suggestion reads "
                "per second through the engine and the cache actor, hit rate "
                "%.1f%% over %lld reads (%zu users read 50 times each)\n",
                cache_bench.direct_ops_per_s, cache_bench.actor_reads_per_s,
                cache_bench.read_hit_rate * 100,
                static_cast<long long>(cache_bench.reads), cache_users.size());
  }
  if (!all_exact) {
    std::fprintf(stderr, "catchup: error: bench: a generation differs from "
                         "the brute-force ranking\n");
    return 1;
  }
  return 0;
}

} // namespace catchup::bench
