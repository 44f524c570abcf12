// SPDX-License-Identifier: Apache-2.0
// The `catchup` command-line tool: a thin front end over the engine's
// libraries. Exit codes: 0 success, 1 runtime error, 2 usage/config error.

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/cluster.hpp"
#include "actors/engine_core.hpp"
#include "actors/system_config.hpp"
#include "app/bench.hpp"
#include "app/cluster_bench.hpp"
#include "app/import_command.hpp"
#include "app/serve_command.hpp"
#include "app/memory_report.hpp"
#include "app/signals.hpp"
#include "app/time_text.hpp"
#include "config/config.hpp"
#include "config/logging.hpp"
#include "core/frequency.hpp"
#include "core/memory.hpp"
#include "storage/database.hpp"
#include "storage/embedded_cluster.hpp"
#include "storage/storage_error.hpp"
#include "storage/migrations.hpp"

namespace {

using namespace catchup;

constexpr int exit_ok = 0;
constexpr int exit_runtime_error = 1;
constexpr int exit_usage_error = 2;

// Errors are one line on stderr: multi-line details (server logs, initdb
// output) are folded so that log scrapers see one record.
int report_error(int code, const std::string& what) {
  std::string line;
  for (char c : what)
    line += c == '\n' ? std::string{" | "} : std::string(1, c);
  std::fprintf(stderr, "catchup: error: %s\n", line.c_str());
  return code;
}

// -- commands -----------------------------------------------------------------

int config_show(const config::configuration& cfg, bool as_json) {
  if (as_json) {
    auto out = nlohmann::json::array();
    for (auto& e : cfg.entries)
      out.push_back({{"key", e.key},
                     {"value", e.value},
                     {"source", e.origin.describe()}});
    std::cout << out.dump(2) << '\n';
    return exit_ok;
  }
  std::size_t key_width = 3;
  std::size_t value_width = 5;
  for (auto& e : cfg.entries) {
    key_width = std::max(key_width, e.key.size());
    value_width = std::max(value_width, e.value.size() + 2);
  }
  auto pad = [](std::string s, std::size_t n) {
    s.resize(std::max(n, s.size()), ' ');
    return s;
  };
  std::cout << pad("KEY", key_width) << "  " << pad("VALUE", value_width)
            << "  SOURCE\n";
  for (auto& e : cfg.entries)
    std::cout << pad(e.key, key_width) << "  "
              << pad("\"" + e.value + "\"", value_width) << "  "
              << e.origin.describe() << '\n';
  return exit_ok;
}

std::string origin_of(const config::configuration& cfg, const std::string& key) {
  for (auto& e : cfg.entries)
    if (e.key == key)
      return e.origin.describe();
  return "unknown source";
}

void print_status(const storage::cluster_status& st) {
  std::cout << "state:    " << storage::to_string(st.state) << '\n'
            << "data dir: " << st.data_dir << '\n';
  if (st.pid)
    std::cout << "pid:      " << *st.pid << '\n'
              << "stops:    "
              << (st.owner == "manual"
                    ? std::string{"with 'catchup db stop'"}
                    : "when process " + st.owner + " exits")
              << '\n';
  std::cout << "url:      " << st.url << '\n';
  if (!st.password_file.empty())
    std::cout << "password: in " << st.password_file
              << " (needed over TCP only)\n";
}

int db_command(const config::configuration& cfg, const std::string& action) {
  if (!cfg.values.database.url.empty() && action != "url")
    return report_error(exit_usage_error,
                        "catchup db " + action + " manages the private "
                        "cluster, but database.url is set ("
                          + origin_of(cfg, "database.url")
                          + "); unset it to manage the private cluster");
  if (action == "url" && !cfg.values.database.url.empty()) {
    std::cout << cfg.values.database.url << '\n';
    return exit_ok;
  }
  storage::embedded_cluster cluster{
    storage::cluster_options(cfg.values.database)};
  if (action == "start") {
    auto started = cluster.start_detached();
    std::cout << (started ? "started" : "already running") << '\n';
    print_status(cluster.status());
  } else if (action == "stop") {
    std::cout << (cluster.stop() ? "stopped" : "not running") << '\n';
  } else if (action == "status") {
    print_status(cluster.status());
  } else {
    std::cout << cluster.url() << '\n';
  }
  return exit_ok;
}

// Opens the configured database and stops a private cluster we started if
// the process is interrupted.
std::unique_ptr<storage::database>
open_database(const config::settings& s, bool checked) {
  auto db = checked ? storage::database::open(s.database)
                    : storage::database::open_unchecked(s.database);
  app::stop_on_interrupt(db->cluster());
  return db;
}

int migrate_command(const config::configuration& cfg) {
  auto db = open_database(cfg.values, false);
  auto report = storage::migrate(db->url());
  if (report.applied.empty())
    std::cout << "schema is up to date at version " << report.version_after
              << '\n';
  else
    std::cout << "migrated schema from version " << report.version_before
              << " to " << report.version_after << '\n';
  app::on_interrupt({});
  return exit_ok;
}

// -- the engine's main job ------------------------------------------------------

nlohmann::json to_json(const generation_result& r) {
  auto items = nlohmann::json::array();
  for (auto& s : r.items)
    items.push_back({{"rank", s.rank},
                     {"contact_id", s.contact_id},
                     {"contact_name", s.contact_name},
                     {"priority", s.priority},
                     {"slot_start", app::format_utc(s.slot_start_unix_s)},
                     {"slot_end", app::format_utc(s.slot_end_unix_s)},
                     {"slot_timezone", s.slot_timezone},
                     {"reason", s.reason}});
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
          {"items", items}};
}

void print_suggestions(const std::string& user_id,
                       const std::vector<suggestion_record>& items,
                       std::size_t rows_max) {
  std::cout << "user " << user_id << ": " << items.size()
            << " suggestion(s)\n";
  std::size_t shown = 0;
  for (auto& s : items) {
    if (shown++ == rows_max) {
      std::cout << "  ... " << (items.size() - rows_max) << " more\n";
      break;
    }
    std::cout << "  " << app::format_local(s.slot_start_unix_s, s.slot_timezone)
              << "  " << s.reason << "  (priority " << std::fixed
              << std::setprecision(1) << s.priority << ")\n";
  }
}

int seed_command(const config::configuration& cfg, std::int64_t users,
                 std::int64_t contacts, std::uint64_t seed, std::int64_t now) {
  engine_core e{cfg.values};
  app::cluster_interrupt_guard interrupt_guard{e.private_cluster()};
  storage::seed_options opts;
  opts.users = users;
  opts.contacts_per_user = contacts;
  opts.seed = seed;
  opts.now_unix_s = now;
  auto r = e.seed(opts);
  std::cout << "seeded " << r.user_ids.size() << " users, " << r.contacts
            << " contacts, " << r.events << " calendar events in "
            << static_cast<std::int64_t>(r.wall_ms) << " ms\n";
  for (auto& id : r.user_ids)
    std::cout << id << '\n';
  return exit_ok;
}

nlohmann::json to_json(const memory_status& x) {
  return {{"level", std::string{to_string(x.level)}},
          {"allocated_bytes", x.allocated_bytes},
          {"resident_bytes", x.resident_bytes},
          {"budget_bytes", x.budget_bytes},
          {"used_percent", x.used_percent}};
}

// Writes the timeline CSV and, where gnuplot is installed, a PNG beside it.
void write_timeline(const app::memory_timeline& timeline,
                    const std::string& csv_path, const std::string& title,
                    double critical_percent) {
  timeline.write_csv(csv_path);
  auto png = csv_path;
  if (auto dot = png.rfind('.'); dot != std::string::npos
                                 && png.find('/', dot) == std::string::npos)
    png.erase(dot);
  png += ".png";
  auto why = app::memory_timeline::plot_png(csv_path, png, title,
                                            critical_percent);
  std::fprintf(stderr, "memory timeline: %zu samples in %s%s%s\n",
               timeline.points().size(), csv_path.c_str(),
               why.empty() ? ", plot in " : "; no plot: ",
               why.empty() ? png.c_str() : why.c_str());
}

nlohmann::json to_json(const run_summary& x) {
  return {{"users", x.users},
          {"failed", x.failed},
          {"partial", x.partial},
          {"paused", x.paused},
          {"contacts_read", x.contacts_read},
          {"suggestions", x.suggestions},
          {"breaker_holds", x.breaker_holds},
          {"wall_ms", x.wall_ms}};
}

void print_result_line(const generation_result& r) {
  std::cout << "user " << r.user_id << ": " << r.suggestions
            << " suggestions from " << r.contacts_read << " rows read in "
            << r.batches << " batch(es), " << std::fixed
            << std::setprecision(1) << r.wall_ms << " ms";
  for (auto& w : r.warnings)
    std::cout << " [" << w << "]";
  std::cout << '\n';
}

int generate_command(const config::configuration& cfg,
                     const std::string& user_id, bool all, bool as_json,
                     bool summary_only, std::int64_t now,
                     const std::string& timeline_path) {
  auto timeline = std::make_shared<app::memory_timeline>();
  engine_options options;
  if (!timeline_path.empty())
    options.on_memory_sample = [timeline](const memory_status& x) {
      timeline->record(x);
    };
  engine_core e{cfg.values, options};
  app::cluster_interrupt_guard interrupt_guard{e.private_cluster()};
  if (!all) {
    auto r = e.generate(user_id, now);
    if (as_json)
      std::cout << to_json(r).dump(2) << '\n';
    else
      print_result_line(r);
    return exit_ok;
  }
  // Results are printed as users finish, never collected: the output of a
  // run over many users is one JSON document written piece by piece.
  if (as_json)
    std::cout << "{\"results\": [";
  auto summary = e.generate_all(
    now, [&](const generation_result& r, std::size_t done, std::size_t) {
      if (summary_only)
        return;
      if (as_json)
        std::cout << (done == 1 ? "\n" : ",\n") << to_json(r).dump();
      else
        print_result_line(r);
    });
  auto memory = e.sample_memory();
  if (!timeline_path.empty()) {
    std::ostringstream title;
    title << "generate --all: " << summary.users << " users, heap budget "
          << std::fixed << std::setprecision(1)
          << static_cast<double>(e.memory_budget_bytes()) / (1024.0 * 1024.0)
          << " MiB";
    write_timeline(*timeline, timeline_path, title.str(),
                   static_cast<double>(cfg.values.memory.max_heap_percent));
  }
  if (as_json) {
    std::cout << "\n],\n\"summary\": " << to_json(summary).dump()
              << ",\n\"memory\": " << to_json(memory).dump()
              << ",\n\"metrics\": " << app::metrics_json(e.metrics()).dump(2)
              << "}\n";
    return summary.failed > 0 ? exit_runtime_error : exit_ok;
  }
  std::cout << summary.users << " users: " << summary.suggestions
            << " suggestions from " << summary.contacts_read
            << " rows read in " << std::fixed << std::setprecision(1)
            << summary.wall_ms << " ms; " << summary.partial
            << " partial (memory pressure), " << summary.failed
            << " failed; memory " << describe(memory) << '\n';
  return summary.failed > 0 ? exit_runtime_error : exit_ok;
}

int suggestions_command(const config::configuration& cfg,
                        const std::string& user_id, bool as_json) {
  engine_core e{cfg.values};
  app::cluster_interrupt_guard interrupt_guard{e.private_cluster()};
  auto items = e.suggestions(user_id);
  if (as_json) {
    generation_result r;
    r.user_id = user_id;
    r.items = items;
    std::cout << to_json(r)["items"].dump(2) << '\n';
    return exit_ok;
  }
  print_suggestions(user_id, items, items.size());
  return exit_ok;
}

int contact_command(const config::configuration& cfg,
                    const std::string& user_id, const std::string& contact_id,
                    bool as_json) {
  engine_core e{cfg.values};
  app::cluster_interrupt_guard interrupt_guard{e.private_cluster()};
  auto c = e.contact(user_id, contact_id);
  nlohmann::json out = {
    {"id", c.id},
    {"name", c.name},
    {"last_contact",
     c.has_last_contact ? nlohmann::json(app::format_utc(c.last_contact_unix_s))
                        : nlohmann::json(nullptr)},
    {"frequency", c.frequency == no_frequency
                    ? nlohmann::json(nullptr)
                    : nlohmann::json(std::string{
                      to_string(static_cast<frequency>(c.frequency))})},
    {"groups", c.group_ids},
    {"archived", c.archived},
    {"email", c.email},
    {"phone", c.phone},
    {"location", c.location},
    {"organization", c.organization}};
  if (as_json) {
    std::cout << out.dump(2) << '\n';
    return exit_ok;
  }
  for (auto& [key, value] : out.items())
    std::cout << key << ": "
              << (value.is_string() ? value.get<std::string>() : value.dump())
              << '\n';
  return exit_ok;
}

int demo_command(const config::configuration& cfg, std::int64_t users,
                 std::int64_t contacts, std::int64_t now) {
  auto started = std::chrono::steady_clock::now();
  engine_core e{cfg.values};
  app::cluster_interrupt_guard interrupt_guard{e.private_cluster()};
  std::cout << "CatchUp Engine " << engine_version() << " on "
            << (e.embedded_database()
                  ? "its private PostgreSQL cluster in " + e.data_dir()
                  : std::string{"an external PostgreSQL server"})
            << "\n";
  storage::seed_options opts;
  opts.users = users;
  opts.contacts_per_user = contacts;
  opts.seed = 1;
  opts.now_unix_s = now;
  std::cout << "seeding " << users << " users x " << contacts
            << " contacts ...\n" << std::flush;
  auto seeded = e.seed(opts);
  std::cout << "seeded " << seeded.contacts << " contacts and "
            << seeded.events << " calendar events in "
            << static_cast<std::int64_t>(seeded.wall_ms) << " ms\n";
  auto gen_started = std::chrono::steady_clock::now();
  auto summary = e.generate_all(
    now, [](const generation_result&, std::size_t done, std::size_t total) {
      std::fprintf(stderr, "\rgenerating: %zu/%zu users", done, total);
      if (done == total)
        std::fprintf(stderr, "\n");
    });
  auto gen_ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - gen_started)
                  .count();
  auto rows = summary.contacts_read;
  auto suggestions = summary.suggestions;
  std::size_t shown = 0;
  for (auto& id : seeded.user_ids) {
    if (shown++ == 3)
      break;
    std::cout << '\n';
    print_suggestions(id, e.suggestions(id), 5);
  }
  std::cout << "\nsummary: " << summary.users << " users, "
            << seeded.contacts << " contacts, " << rows
            << " rows read from PostgreSQL, " << suggestions
            << " suggestions, generation " << std::fixed
            << std::setprecision(1) << gen_ms << " ms wall, total "
            << std::chrono::duration<double, std::milli>(
                 std::chrono::steady_clock::now() - started)
                 .count()
            << " ms, peak RSS " << read_process_memory().peak_resident_bytes / (1024 * 1024)
            << " MiB\n";
  return exit_ok;
}

/// `catchup generate --user ID --via ADDRESS`: the node at ADDRESS runs the
/// generation on the least-pressured node of its cluster.
int generate_via_command(const config::configuration& cfg,
                         const std::string& address,
                         const std::string& user_id, bool as_json,
                         std::int64_t now, std::int64_t timeout_ms) {
  routed_generation routed;
  try {
    routed = generate_via(cfg.values.cluster, address, user_id, now,
                          std::chrono::milliseconds(timeout_ms));
  } catch (const std::invalid_argument& e) {
    // The address or the TLS settings: the caller's to fix.
    throw engine_error(ec::invalid_config, e.what());
  }
  if (as_json) {
    auto doc = to_json(routed.result);
    doc["node"] = routed.node_id;
    doc["attempts"] = routed.attempts;
    std::cout << doc.dump(2) << '\n';
  } else {
    print_result_line(routed.result);
    std::cout << "ran on node " << routed.node_id
              << (routed.attempts > 1 ? " (after a retry)" : "") << '\n';
  }
  return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  app::install_signal_thread();
  CLI::App cli{"CatchUp Engine: decides which contact each user should catch "
               "up with, and when."};
  cli.require_subcommand(1);
  cli.fallthrough();
  cli.set_version_flag("--version", engine_version());
  std::string config_file;
  cli.add_option("--config", config_file,
                 "read configuration from FILE (INI: [section] key = value); "
                 "also CATCHUP_CONFIG")
    ->type_name("FILE");
  // Every configuration key is also a flag: database.url -> --database-url.
  std::map<std::string, std::string> flag_values;
  std::map<std::string, CLI::Option*> flag_options;
  for (auto& spec : config::key_specs()) {
    std::string key{spec.key};
    std::string help{spec.help};
    help += " [" + key + ", default \"" + std::string{spec.default_value}
            + "\"]";
    auto names = config::flag_name(key);
    if (key == "memory.budget_bytes")
      names += ",--memory-budget"; // the short form people type
    flag_options[key] = cli.add_option(names,
                                       flag_values[key], help)
                          ->group("Configuration (precedence: default < "
                                  "file < environment < flag)");
  }
  std::function<int(const config::configuration&)> run;

  auto* config_cmd = cli.add_subcommand("config", "inspect the configuration");
  config_cmd->require_subcommand(1);
  bool show_json = false;
  auto* show = config_cmd->add_subcommand(
    "show", "print every key's effective value and where it came from");
  show->add_flag("--json", show_json, "print JSON instead of a table");
  show->callback([&] {
    run = [&](const config::configuration& c) {
      return config_show(c, show_json);
    };
  });

  auto* db_cmd = cli.add_subcommand(
    "db", "manage the private PostgreSQL cluster in database.data_dir");
  db_cmd->require_subcommand(1);
  for (auto [name, help] :
       {std::pair{"start", "start it (creating it if needed) and leave it "
                           "running for other commands to share"},
        std::pair{"status", "show whether it runs, its PID and its URL"},
        std::pair{"stop", "stop it (fast shutdown)"},
        std::pair{"url", "print the connection URL engines use"}}) {
    std::string action = name;
    db_cmd->add_subcommand(name, help)->callback([&run, action] {
      run = [action](const config::configuration& c) {
        return db_command(c, action);
      };
    });
  }

  cli.add_subcommand("migrate", "apply pending schema migrations")
    ->callback([&] { run = migrate_command; });

  std::string now_text;
  // 0 without --now: the engine's clock then (see now_or_clock).
  auto parse_now = [&]() -> std::int64_t {
    if (now_text.empty())
      return 0;
    auto t = app::parse_instant(now_text);
    if (!t)
      throw CLI::ValidationError("--now", "expected an instant like "
                                          "2026-11-22T18:00:00Z or Unix "
                                          "seconds, got " + now_text);
    return *t;
  };

  std::int64_t demo_users = 20;
  std::int64_t demo_contacts = 10000;
  auto* demo = cli.add_subcommand(
    "demo", "the main job: seed users and contacts, generate suggestions "
            "for all users at once, show a few");
  demo->add_option("--users", demo_users, "users to seed")->check(
    CLI::Range(1, 100000));
  demo->add_option("--contacts", demo_contacts, "contacts per user")
    ->check(CLI::Range(0, 10000000));
  demo->add_option("--now", now_text, "the instant to generate at "
                                      "(default: the clock)");
  demo->callback([&] {
    auto now = parse_now();
    run = [&, now](const config::configuration& c) {
      return demo_command(c, demo_users, demo_contacts,
                          app::now_or_clock(c.values, now));
    };
  });

  std::int64_t seed_users = 20;
  std::int64_t seed_contacts = 10000;
  std::uint64_t seed_value = 1;
  auto* seed = cli.add_subcommand(
    "seed", "create deterministic, realistic users, contacts and calendars");
  seed->add_option("--users", seed_users, "users")->check(
    CLI::Range(1, 100000));
  seed->add_option("--contacts", seed_contacts, "contacts per user")
    ->check(CLI::Range(0, 10000000));
  seed->add_option("--seed", seed_value, "random seed (same seed, same "
                                         "data)");
  seed->add_option("--now", now_text, "reference instant of the data");
  seed->callback([&] {
    auto now = parse_now();
    run = [&, now](const config::configuration& c) {
      return seed_command(c, seed_users, seed_contacts, seed_value,
                          app::now_or_clock(c.values, now));
    };
  });

  std::string user_id;
  bool all_users = false;
  bool as_json = false;
  auto* generate = cli.add_subcommand(
    "generate", "generate suggestions for one user or all users");
  auto* user_opt = generate->add_option("--user", user_id, "user id");
  auto* all_opt = generate->add_flag("--all", all_users, "every active user");
  user_opt->excludes(all_opt);
  generate->add_flag("--json", as_json, "print JSON (with --all: the "
                                        "results, memory and metrics)");
  generate->add_option("--now", now_text, "the instant to generate at "
                                          "(default: the clock)");
  bool summary_only = false;
  generate->add_flag("--summary-only", summary_only,
                     "with --all: print the totals, not one line per user")
    ->needs(all_opt);
  std::string timeline_path;
  generate->add_option("--memory-timeline", timeline_path,
                       "write every memory sample and level to FILE (CSV) "
                       "and plot it to FILE with .png (needs gnuplot)")
    ->type_name("FILE");
  std::string via_address;
  std::int64_t via_timeout_ms = 0;
  auto* via_opt = generate->add_option(
    "--via", via_address,
    "ask the cluster node at HOST:PORT; it runs the generation on the "
    "least-pressured node it reaches (TLS per cluster.tls.*)")
    ->type_name("HOST:PORT");
  via_opt->excludes(all_opt);
  generate->add_option("--timeout-ms", via_timeout_ms,
                       "with --via: the answer or an error within this "
                       "long (default cluster.route_timeout_ms)")
    ->needs(via_opt)
    ->check(CLI::Range(static_cast<std::int64_t>(10),
                       static_cast<std::int64_t>(3600000)));
  generate->callback([&] {
    if (user_id.empty() && !all_users)
      throw CLI::RequiredError("--user or --all");
    auto now = parse_now();
    if (!via_address.empty()) {
      run = [&, now](const config::configuration& c) {
        auto timeout = via_timeout_ms > 0 ? via_timeout_ms
                                          : c.values.cluster.route_timeout_ms;
        // "Now" is this command's clock (clock.offset_s included), fixed
        // before the request leaves, as for a generation here.
        return generate_via_command(c, via_address, user_id, as_json,
                                    app::now_or_clock(c.values, now),
                                    timeout);
      };
      return;
    }
    run = [&, now](const config::configuration& c) {
      return generate_command(c, user_id, all_users, as_json, summary_only,
                              now, timeline_path);
    };
  });

  auto* show_suggestions = cli.add_subcommand(
    "suggestions", "show a user's pending suggestions");
  show_suggestions->add_option("--user", user_id, "user id")->required();
  show_suggestions->add_flag("--json", as_json, "print JSON");
  show_suggestions->callback([&] {
    run = [&](const config::configuration& c) {
      return suggestions_command(c, user_id, as_json);
    };
  });

  std::string contact_id;
  auto* show_contact = cli.add_subcommand(
    "contact", "show one contact of a user (through the contact cache)");
  show_contact->add_option("--user", user_id, "user id")->required();
  show_contact->add_option("--id", contact_id, "contact id")->required();
  show_contact->add_flag("--json", as_json, "print JSON");
  show_contact->callback([&] {
    run = [&](const config::configuration& c) {
      return contact_command(c, user_id, contact_id, as_json);
    };
  });

  app::import_command_options import_opts;
  auto* import_cmd = cli.add_subcommand(
    "import", "import contacts (vCard, CSV) or calendars (iCalendar) from "
              "files, page by page; an interrupted import resumes");
  import_cmd->require_subcommand(1);
  for (auto kind : {"contacts", "calendar"}) {
    auto* sub = import_cmd->add_subcommand(
      kind, std::string{kind} == "contacts"
              ? "import contacts from .vcf or .csv files"
              : "import calendar events from .ics files");
    sub->add_option("--user", import_opts.user_id, "user id")->required();
    sub->add_option("files", import_opts.files, "files to import")
      ->required()
      ->type_name("FILE...");
    if (std::string{kind} == "contacts")
      sub->add_option("--format", import_opts.format,
                      "vcard or csv (default: by extension)")
        ->check(CLI::IsMember({"vcard", "csv"}));
    else
      sub->add_option("--calendar-id", import_opts.calendar_id,
                      "calendar the events are filed under (default: the "
                      "file's name)");
    sub->add_flag("--strict", import_opts.strict,
                  "all or nothing: check the whole file first and write "
                  "nothing if any item is bad");
    sub->add_flag("--json", import_opts.as_json, "print the reports as JSON");
    sub->add_flag("--progress", import_opts.progress_lines,
                  "print a progress line per committed page, also when "
                  "stderr is not a terminal");
    sub->add_option("--now", now_text,
                    "the instant the calendar window is around (default: "
                    "the clock)");
    sub->callback([&, kind] {
      import_opts.kind = kind;
      import_opts.now_unix_s = parse_now();
      run = [&](const config::configuration& c) {
        return app::run_import(c.values, import_opts);
      };
    });
  }

  app::google_sync_command_options google_opts;
  auto* sync_cmd = cli.add_subcommand("sync", "sync with an online account");
  sync_cmd->require_subcommand(1);
  auto* google = sync_cmd->add_subcommand(
    "google", "sync contacts (People API) and a calendar (Calendar API) of "
              "a Google account: full the first time, then incremental");
  google->add_option("--user", google_opts.user_id, "user id")->required();
  google->add_flag("--contacts", google_opts.contacts, "sync contacts");
  google->add_flag("--calendar", google_opts.calendar, "sync the calendar");
  google->add_option("--calendar-id", google_opts.calendar_id,
                     "Google calendar id (default: primary)");
  google->add_option("--credentials", google_opts.credentials_file,
                     "JSON file with client_id, client_secret, "
                     "refresh_token (and access_token); default: the "
                     "CATCHUP_GOOGLE_* environment variables")
    ->type_name("FILE");
  google->add_flag("--strict", google_opts.strict,
                   "stop at the first bad item instead of skipping it");
  google->add_flag("--json", google_opts.as_json, "print the reports as JSON");
  google->add_flag("--progress", google_opts.progress_lines,
                   "print a progress line per committed page");
  google->add_option("--now", now_text,
                     "the instant the calendar window is around (default: "
                     "the clock)");
  google->callback([&] {
    google_opts.now_unix_s = parse_now();
    run = [&](const config::configuration& c) {
      return app::run_google_sync(c.values, google_opts);
    };
  });

  config::config_input loaded_input; // for SIGHUP's reload
  cli.add_subcommand("serve", "run as a node: take jobs from the queue, "
                              "schedule generation, serve /metrics /livez "
                              "/readyz /status; SIGTERM stops gracefully, "
                              "SIGHUP reloads the log level")
    ->callback([&] {
      run = [&](const config::configuration& c) {
        return app::run_serve(c.values, [&loaded_input] {
          try {
            auto reloaded = config::load(loaded_input);
            config::setup_logging(reloaded.values.log);
            spdlog::info("log level reloaded: {}", reloaded.values.log.level);
          } catch (const std::exception& e) {
            spdlog::error("reload failed, keeping the old settings: {}",
                          e.what());
          }
        });
      };
    });

  std::string job_kind;
  std::string job_payload = "{}";
  std::int32_t job_attempts = 5;
  auto* enqueue = cli.add_subcommand("enqueue", "put a job on the queue");
  enqueue->add_option("kind", job_kind, "generate, sync_contacts or "
                                        "sync_calendar")
    ->required()
    ->check(CLI::IsMember({"generate", "sync_contacts", "sync_calendar"}));
  enqueue->add_option("--user", user_id, "user id")->required();
  enqueue->add_option("--payload", job_payload,
                      "JSON: generate {\"now\": T}; sync_* {\"path\": F} "
                      "or {\"google\": {...}}");
  enqueue->add_option("--max-attempts", job_attempts, "attempts before the "
                                                      "job stays failed")
    ->check(CLI::Range(1, 100));
  enqueue->callback([&] {
    run = [&](const config::configuration& c) {
      return app::run_enqueue(c.values, job_kind, user_id, job_payload,
                              job_attempts);
    };
  });

  std::int64_t job_id = 0;
  std::string job_state;
  std::int64_t job_limit = 100;
  auto* jobs = cli.add_subcommand("jobs", "inspect and steer the job queue");
  jobs->require_subcommand(1);
  auto* jobs_list = jobs->add_subcommand("list", "list jobs, newest first");
  jobs_list->add_option("--state", job_state,
                        "pending, running, done, failed or cancelled")
    ->check(CLI::IsMember({"pending", "running", "done", "failed",
                           "cancelled"}));
  jobs_list->add_option("--limit", job_limit, "at most this many")
    ->check(CLI::Range(1, 100000));
  jobs_list->add_flag("--json", as_json, "print JSON");
  jobs_list->callback([&] {
    run = [&](const config::configuration& c) {
      return app::run_jobs(c.values, "list", 0, job_state, job_limit, as_json);
    };
  });
  for (auto action : {"show", "retry", "cancel"}) {
    auto* sub = jobs->add_subcommand(
      action, std::string{action} == "show"
                ? "show one job"
                : std::string{action} == "retry"
                    ? "make a failed or cancelled job pending again"
                    : "cancel a pending job");
    sub->add_option("id", job_id, "job id")->required();
    sub->callback([&, action] {
      run = [&, action](const config::configuration& c) {
        return app::run_jobs(c.values, action, job_id, {}, 0, true);
      };
    });
  }

  app::bench_options bench_opts;
  auto* cluster_cmd = cli.add_subcommand("cluster", "inspect the cluster");
  cluster_cmd->require_subcommand(1);
  auto* cluster_status = cluster_cmd->add_subcommand(
    "status", "every node: state, pressure level, memory, jobs in flight, "
              "last heartbeat");
  cluster_status->add_flag("--json", as_json, "print JSON");
  cluster_status->callback([&] {
    run = [&](const config::configuration& c) {
      return app::run_cluster_status(c.values, as_json);
    };
  });

  auto* bench = cli.add_subcommand(
    "bench", "time generations on seeded data sets S1-S6 and check them "
             "against a brute-force ranking (figures, not a test)");
  auto* scenarios_opt = bench->add_option("--scenarios", bench_opts.scenarios,
                    "scenarios to run (default S1-S5 and import; S6 is 1,000 "
                    "users x 10,000 contacts and only runs when named; "
                    "import times 1,000 and 100,000-item vCard and "
                    "iCalendar imports; queue (only when named) drains "
                    "10,000 generation jobs and times NOTIFY wake-ups)")
    ->delimiter(',')
    ->check(CLI::IsMember(app::bench_scenario_names()));
  auto* iterations_opt = bench->add_option("--iterations",
                                           bench_opts.iterations,
                                           "timed runs per scenario")
    ->check(CLI::Range(1, 100000));
  bool bench_no_check = false;
  auto* no_check_opt = bench->add_flag("--no-check", bench_no_check,
                                       "skip the brute-force exactness check");
  bench->add_flag("--json", bench_opts.as_json, "print JSON");
  app::cluster_bench_options cluster_bench_opts;
  auto* cluster_opt =
    bench->add_option("--cluster", cluster_bench_opts.nodes_max,
                      "instead of the scenarios: run 1..N `catchup serve` "
                      "nodes of this binary as a cluster on this machine, "
                      "time how fast they drain the queue together and, "
                      "from 2 nodes, how soon a SIGKILLed node's jobs are "
                      "taken over")
      ->check(CLI::Range(static_cast<std::int64_t>(1),
                         app::cluster_bench_nodes_max))
      ->excludes(scenarios_opt)
      ->excludes(iterations_opt)
      ->excludes(no_check_opt);
  bench->add_option("--cluster-jobs", cluster_bench_opts.jobs,
                    "with --cluster: generation jobs per run, one per "
                    "seeded user of 20 contacts (default 3000)")
    ->check(CLI::Range(static_cast<std::int64_t>(1),
                       app::cluster_bench_jobs_max))
    ->needs(cluster_opt);
  bench->callback([&] {
    bench_opts.check_exactness = !bench_no_check;
    cluster_bench_opts.as_json = bench_opts.as_json;
    bool cluster_run = cluster_opt->count() > 0;
    run = [&, cluster_run](const config::configuration& c) {
      auto s = c.values;
      // Benchmark data sets (up to millions of contacts) get a private
      // cluster of their own unless a database was chosen explicitly.
      if (s.database.url.empty()
          && origin_of(c, "database.data_dir") == "built-in default")
        s.database.data_dir = ".catchup/bench-pg";
      if (cluster_run)
        return app::run_cluster_bench(s, cluster_bench_opts);
      return app::run_bench(s, bench_opts);
    };
  });

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    report_error(exit_usage_error, e.what());
    std::fprintf(stderr, "Run with --help for more information.\n");
    return exit_usage_error;
  }

  config::configuration cfg;
  try {
    config::config_input input;
    input.environment = config::process_environment();
    if (!config_file.empty())
      input.file = config_file;
    else if (auto* env = std::getenv(config::config_file_env.data()))
      input.file = std::string{env};
    for (auto& [key, opt] : flag_options)
      if (opt->count() > 0)
        input.flags.emplace_back(key, flag_values[key]);
    cfg = config::load(input);
    loaded_input = input;
  } catch (const config::config_error& e) {
    return report_error(exit_usage_error, e.what());
  }
  config::setup_logging(cfg.values.log);
  try {
    return app::finish(run(cfg));
  } catch (const engine_error& e) {
    return app::finish(report_error(
      e.code() == ec::invalid_config ? exit_usage_error : exit_runtime_error,
      e.what()));
  } catch (const storage::storage_error& e) {
    return app::finish(report_error(
      e.code() == ec::invalid_config ? exit_usage_error : exit_runtime_error,
      e.what()));
  } catch (const std::exception& e) {
    return app::finish(report_error(exit_runtime_error, e.what()));
  }
}
