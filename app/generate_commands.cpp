// SPDX-License-Identifier: Apache-2.0
// `catchup demo`, `catchup seed` and `catchup generate` (one user, all
// users, or through a cluster node).

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"
#include "app/memory_timeline.hpp"
#include "app/suggestion_output.hpp"
#include "bench/memory_report.hpp"

namespace catchup::app {

namespace {

// -- output ---------------------------------------------------------------------

nlohmann::json to_json(const generation_summary& r) {
  return {{"user_id", r.user_id},
          {"generation_id", r.generation_id},
          {"contacts_read", r.contacts_read},
          {"batches", r.batches},
          {"free_slots", r.free_slots},
          {"suggestions", r.suggestions},
          {"partial", r.partial},
          {"paused", r.paused},
          {"warnings", r.warnings},
          {"wall_ms", r.wall_ms},
          {"items", suggestions_json(r.items)}};
}

nlohmann::json to_json(const run_totals& x) {
  return {{"users", x.users},
          {"failed", x.failed},
          {"partial", x.partial},
          {"paused", x.paused},
          {"contacts_read", x.contacts_read},
          {"suggestions", x.suggestions},
          {"breaker_holds", x.breaker_holds},
          {"wall_ms", x.wall_ms}};
}

nlohmann::json to_json(const memory_snapshot& x) {
  return {{"level", std::string{to_string(x.level)}},
          {"allocated_bytes", x.heap_bytes},
          {"resident_bytes", x.resident_bytes},
          {"budget_bytes", x.budget_bytes},
          {"used_percent", x.used_percent}};
}

/// "memory pressure high: 40.1 MiB allocated, 52.3 MiB resident, budget
/// 48.0 MiB (83.5%)".
std::string describe(const memory_snapshot& x) {
  constexpr double mib = 1024.0 * 1024.0;
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "memory pressure %s: %.1f MiB allocated, %.1f MiB resident, "
                "budget %.1f MiB (%.1f%%)",
                to_string(x.level), x.heap_bytes / mib,
                x.resident_bytes / mib, x.budget_bytes / mib, x.used_percent);
  return buf;
}

void print_result_line(const generation_summary& r) {
  std::cout << "user " << r.user_id << ": " << r.suggestions
            << " suggestions from " << r.contacts_read << " rows read in "
            << r.batches << " batch(es), " << std::fixed
            << std::setprecision(1) << r.wall_ms << " ms";
  for (auto& w : r.warnings)
    std::cout << " [" << w << "]";
  std::cout << '\n';
}

// Writes the timeline CSV and, where gnuplot is installed, a PNG beside it.
void write_timeline(const memory_timeline& timeline,
                    const std::string& csv_path, const std::string& title,
                    double critical_percent) {
  timeline.write_csv(csv_path);
  auto png = csv_path;
  if (auto dot = png.rfind('.'); dot != std::string::npos
                                 && png.find('/', dot) == std::string::npos)
    png.erase(dot);
  png += ".png";
  auto why = memory_timeline::plot_png(csv_path, png, title, critical_percent);
  std::fprintf(stderr, "memory timeline: %zu samples in %s%s%s\n",
               timeline.points().size(), csv_path.c_str(),
               why.empty() ? ", plot in " : "; no plot: ",
               why.empty() ? png.c_str() : why.c_str());
}

// -- seed and demo ------------------------------------------------------------------

struct seed_options {
  admin::seed_params params;
  std::string now_text;
};

int seed_command(const command_context& ctx, const admin::seed_params& params) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto r = admin::seed(*eng, params);
  if (!r)
    return report_failure(r.error());
  std::cout << "seeded " << r->user_ids.size() << " users, " << r->contacts
            << " contacts, " << r->events << " calendar events in "
            << static_cast<std::int64_t>(r->wall_ms) << " ms\n";
  for (auto& id : r->user_ids)
    std::cout << id << '\n';
  return exit_ok;
}

/// A few users' suggestions, as a taste of the run.
result<void> show_first_users(engine& eng,
                              const std::vector<std::string>& user_ids) {
  std::size_t shown = 0;
  for (auto& id : user_ids) {
    if (shown++ == 3)
      break;
    auto items = eng.suggestions(id);
    if (!items)
      return items.error();
    std::cout << '\n';
    print_suggestions(id, *items, 5);
  }
  return {};
}

int demo_command(const command_context& ctx, admin::seed_params params) {
  auto started = std::chrono::steady_clock::now();
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  std::cout << "CatchUp Engine " << version() << " on "
            << (eng->embedded_database()
                  ? "its private PostgreSQL cluster in " + eng->data_dir()
                  : std::string{"an external PostgreSQL server"})
            << "\n";
  // One instant for the data and the generation made from it.
  if (params.now_unix_s == 0)
    params.now_unix_s = eng->now_unix_s();
  std::cout << "seeding " << params.users << " users x "
            << params.contacts_per_user << " contacts ...\n"
            << std::flush;
  auto seeded = admin::seed(*eng, params);
  if (!seeded)
    return report_failure(seeded.error());
  std::cout << "seeded " << seeded->contacts << " contacts and "
            << seeded->events << " calendar events in "
            << static_cast<std::int64_t>(seeded->wall_ms) << " ms\n";
  auto gen_started = std::chrono::steady_clock::now();
  auto summary = eng->generate_all(
    params.now_unix_s,
    [](const generation_summary&, std::size_t done, std::size_t total) {
      std::fprintf(stderr, "\rgenerating: %zu/%zu users", done, total);
      if (done == total)
        std::fprintf(stderr, "\n");
    });
  if (!summary)
    return report_failure(summary.error());
  auto gen_ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - gen_started)
                  .count();
  if (auto shown = show_first_users(*eng, seeded->user_ids); !shown)
    return report_failure(shown.error());
  auto metrics = eng->metrics();
  if (!metrics)
    return report_failure(metrics.error());
  std::cout << "\nsummary: " << summary->users << " users, "
            << seeded->contacts << " contacts, " << summary->contacts_read
            << " rows read from PostgreSQL, " << summary->suggestions
            << " suggestions, generation " << std::fixed
            << std::setprecision(1) << gen_ms << " ms wall, total "
            << std::chrono::duration<double, std::milli>(
                 std::chrono::steady_clock::now() - started)
                 .count()
            << " ms, peak RSS " << metrics->peak_resident_bytes / (1024 * 1024)
            << " MiB\n";
  return exit_ok;
}

// -- generate ------------------------------------------------------------------------

struct generate_options {
  std::string user_id;
  bool all_users = false;
  bool as_json = false;
  bool summary_only = false;
  std::string now_text;
  std::int64_t now_unix_s = 0;
  std::string timeline_path;
  std::string via_address;
  std::int64_t via_timeout_ms = 0;
};

int generate_one(engine& eng, const generate_options& o) {
  auto r = eng.generate(o.user_id, o.now_unix_s);
  if (!r)
    return report_failure(r.error());
  if (o.as_json)
    std::cout << to_json(*r).dump(2) << '\n';
  else
    print_result_line(*r);
  return exit_ok;
}

int generate_all(const command_context& ctx, engine& eng,
                 const generate_options& o, const memory_timeline& timeline) {
  // Results are printed as users finish, never collected: the output of a
  // run over many users is one JSON document written piece by piece.
  if (o.as_json)
    std::cout << "{\"results\": [";
  auto summary = eng.generate_all(
    o.now_unix_s,
    [&](const generation_summary& r, std::size_t done, std::size_t) {
      if (o.summary_only)
        return;
      if (o.as_json)
        std::cout << (done == 1 ? "\n" : ",\n") << to_json(r).dump();
      else
        print_result_line(r);
    });
  if (!summary)
    return report_failure(summary.error());
  auto memory = eng.memory();
  if (!memory)
    return report_failure(memory.error());
  if (!o.timeline_path.empty()) {
    std::ostringstream title;
    title << "generate --all: " << summary->users << " users, heap budget "
          << std::fixed << std::setprecision(1)
          << static_cast<double>(memory->budget_bytes) / (1024.0 * 1024.0)
          << " MiB";
    write_timeline(timeline, o.timeline_path, title.str(),
                   std::stod(ctx.value_of("memory.max_heap_percent")));
  }
  auto failed = summary->failed > 0 ? exit_runtime_error : exit_ok;
  if (o.as_json) {
    auto metrics = eng.metrics();
    if (!metrics)
      return report_failure(metrics.error());
    std::cout << "\n],\n\"summary\": " << to_json(*summary).dump()
              << ",\n\"memory\": " << to_json(*memory).dump()
              << ",\n\"metrics\": "
              << bench::metrics_json(metrics->readings).dump(2)
              << "}\n";
    return failed;
  }
  std::cout << summary->users << " users: " << summary->suggestions
            << " suggestions from " << summary->contacts_read
            << " rows read in " << std::fixed << std::setprecision(1)
            << summary->wall_ms << " ms; " << summary->partial
            << " partial (memory pressure), " << summary->failed
            << " failed; memory " << describe(*memory) << '\n';
  return failed;
}

int generate_command(const command_context& ctx, const generate_options& o) {
  auto timeline = std::make_shared<memory_timeline>();
  std::function<void(const memory_snapshot&)> record;
  if (!o.timeline_path.empty())
    record = [timeline](const memory_snapshot& x) { timeline->record(x); };
  auto eng = open_engine(ctx, std::move(record));
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  return o.all_users ? generate_all(ctx, *eng, o, *timeline)
                     : generate_one(*eng, o);
}

/// `catchup generate --user ID --via ADDRESS`: the node at ADDRESS runs the
/// generation on the least-pressured node of its cluster.
int generate_via_command(const command_context& ctx,
                         const generate_options& o) {
  auto routed = admin::generate_via(ctx.config, o.via_address, o.user_id,
                                    o.now_unix_s,
                                    std::chrono::milliseconds{o.via_timeout_ms});
  if (!routed)
    return report_failure(routed.error());
  if (o.as_json) {
    auto doc = to_json(routed->summary);
    doc["node"] = routed->node_id;
    doc["attempts"] = routed->attempts;
    std::cout << doc.dump(2) << '\n';
  } else {
    print_result_line(routed->summary);
    std::cout << "ran on node " << routed->node_id
              << (routed->attempts > 1 ? " (after a retry)" : "") << '\n';
  }
  return exit_ok;
}

void add_demo_command(CLI::App& cli, command& run) {
  auto o = std::make_shared<seed_options>();
  auto* demo = cli.add_subcommand(
    "demo", "the main job: seed users and contacts, generate suggestions "
            "for all users at once, show a few");
  demo->add_option("--users", o->params.users, "users to seed")
    ->check(CLI::Range(1, 100000));
  demo->add_option("--contacts", o->params.contacts_per_user,
                   "contacts per user")
    ->check(CLI::Range(0, 10000000));
  demo->add_option("--now", o->now_text, "the instant to generate at "
                                         "(default: the clock)");
  demo->callback([&run, o] {
    o->params.now_unix_s = parse_now(o->now_text);
    run = [o](const command_context& c) { return demo_command(c, o->params); };
  });
}

void add_seed_command(CLI::App& cli, command& run) {
  auto o = std::make_shared<seed_options>();
  auto* seed = cli.add_subcommand(
    "seed", "create deterministic, realistic users, contacts and calendars");
  seed->add_option("--users", o->params.users, "users")
    ->check(CLI::Range(1, 100000));
  seed->add_option("--contacts", o->params.contacts_per_user,
                   "contacts per user")
    ->check(CLI::Range(0, 10000000));
  seed->add_option("--seed", o->params.seed, "random seed (same seed, same "
                                             "data)");
  seed->add_option("--now", o->now_text, "reference instant of the data");
  seed->callback([&run, o] {
    o->params.now_unix_s = parse_now(o->now_text);
    run = [o](const command_context& c) { return seed_command(c, o->params); };
  });
}

void add_generate_command(CLI::App& cli, command& run) {
  auto o = std::make_shared<generate_options>();
  auto* generate = cli.add_subcommand(
    "generate", "generate suggestions for one user or all users");
  auto* user_opt = generate->add_option("--user", o->user_id, "user id");
  auto* all_opt = generate->add_flag("--all", o->all_users,
                                     "every active user");
  user_opt->excludes(all_opt);
  generate->add_flag("--json", o->as_json, "print JSON (with --all: the "
                                           "results, memory and metrics)");
  generate->add_option("--now", o->now_text, "the instant to generate at "
                                             "(default: the clock)");
  generate->add_flag("--summary-only", o->summary_only,
                     "with --all: print the totals, not one line per user")
    ->needs(all_opt);
  generate->add_option("--memory-timeline", o->timeline_path,
                       "write every memory sample and level to FILE (CSV) "
                       "and plot it to FILE with .png (needs gnuplot)")
    ->type_name("FILE");
  auto* via_opt = generate->add_option(
    "--via", o->via_address,
    "ask the cluster node at HOST:PORT; it runs the generation on the "
    "least-pressured node it reaches (TLS per cluster.tls.*)")
    ->type_name("HOST:PORT");
  via_opt->excludes(all_opt);
  generate->add_option("--timeout-ms", o->via_timeout_ms,
                       "with --via: the answer or an error within this "
                       "long (default cluster.route_timeout_ms)")
    ->needs(via_opt)
    ->check(CLI::Range(static_cast<std::int64_t>(10),
                       static_cast<std::int64_t>(3600000)));
  generate->callback([&run, o] {
    if (o->user_id.empty() && !o->all_users)
      throw CLI::RequiredError("--user or --all");
    o->now_unix_s = parse_now(o->now_text);
    if (!o->via_address.empty())
      run = [o](const command_context& c) {
        return generate_via_command(c, *o);
      };
    else
      run = [o](const command_context& c) { return generate_command(c, *o); };
  });
}

} // namespace

void add_generate_commands(CLI::App& cli, command& run) {
  add_demo_command(cli, run);
  add_seed_command(cli, run);
  add_generate_command(cli, run);
}

} // namespace catchup::app
