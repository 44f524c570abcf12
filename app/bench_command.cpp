// SPDX-License-Identifier: Apache-2.0
// `catchup bench`: the command line of the benchmarks (bench/), which time
// generations on seeded data sets, imports, the queue and the cluster.

#include <memory>

#include "app/cli.hpp"
#include "app/signals.hpp"
#include "bench/bench_support.hpp"
#include "bench/cluster_bench.hpp"
#include "bench/scenario_bench.hpp"

namespace catchup::app {

namespace {

using bench::bench_options;
using bench::bench_scenario_names;
using bench::cluster_bench_jobs_max;
using bench::cluster_bench_nodes_max;
using bench::cluster_bench_options;

struct bench_command_options {
  bench_options scenarios;
  bool no_check = false;
  cluster_bench_options cluster;
  bool cluster_run = false;
};

int bench_command(const command_context& ctx, const bench_command_options& o) {
  try {
    if (o.cluster_run) {
      auto cluster = o.cluster;
      // An interrupt kills the nodes (and stops a private database this
      // process started) on the binary's signal thread.
      cluster.on_interrupt = on_interrupt;
      return bench::run_cluster_bench(ctx.config, cluster);
    }
    return bench::run_bench(ctx.config, o.scenarios);
  } catch (const bench::failure& e) {
    return report_failure(e.error());
  }
}

} // namespace

void add_bench_command(CLI::App& cli, command& run) {
  auto o = std::make_shared<bench_command_options>();
  auto* bench = cli.add_subcommand(
    "bench", "time generations on seeded data sets S1-S6 and check them "
             "against a brute-force ranking (figures, not a test)");
  auto* scenarios_opt = bench->add_option("--scenarios", o->scenarios.scenarios,
                    "scenarios to run (default S1-S5 and import; S6 is 1,000 "
                    "users x 10,000 contacts and only runs when named; "
                    "import times 1,000 and 100,000-item vCard and "
                    "iCalendar imports; queue (only when named) drains "
                    "10,000 generation jobs and times NOTIFY wake-ups)")
    ->delimiter(',')
    ->check(CLI::IsMember(bench_scenario_names()));
  auto* iterations_opt = bench->add_option("--iterations",
                                           o->scenarios.iterations,
                                           "timed runs per scenario")
    ->check(CLI::Range(1, 100000));
  auto* no_check_opt = bench->add_flag("--no-check", o->no_check,
                                       "skip the brute-force exactness check");
  bench->add_flag("--json", o->scenarios.as_json, "print JSON");
  auto* cluster_opt =
    bench->add_option("--cluster", o->cluster.nodes_max,
                      "instead of the scenarios: run 1..N `catchup serve` "
                      "nodes of this binary as a cluster on this machine, "
                      "time how fast they drain the queue together and, "
                      "from 2 nodes, how soon a SIGKILLed node's jobs are "
                      "taken over")
      ->check(CLI::Range(static_cast<std::int64_t>(1),
                         cluster_bench_nodes_max))
      ->excludes(scenarios_opt)
      ->excludes(iterations_opt)
      ->excludes(no_check_opt);
  bench->add_option("--cluster-jobs", o->cluster.jobs,
                    "with --cluster: generation jobs per run, one per "
                    "seeded user of 20 contacts (default 3000)")
    ->check(CLI::Range(static_cast<std::int64_t>(1), cluster_bench_jobs_max))
    ->needs(cluster_opt);
  bench->callback([&run, o, cluster_opt] {
    o->scenarios.check_exactness = !o->no_check;
    o->cluster.as_json = o->scenarios.as_json;
    o->cluster_run = cluster_opt->count() > 0;
    run = [o](const command_context& c) { return bench_command(c, *o); };
  });
}

} // namespace catchup::app
