// SPDX-License-Identifier: Apache-2.0
// The `catchup` command-line tool: a thin front end over the engine's
// libraries. Exit codes: 0 success, 1 runtime error, 2 usage/config error.

#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/node.hpp"
#include "actors/system_config.hpp"
#include "app/signals.hpp"
#include "config/config.hpp"
#include "config/logging.hpp"
#include "storage/database.hpp"
#include "storage/embedded_cluster.hpp"
#include "storage/error.hpp"
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
  if (auto* cluster = db->cluster())
    app::on_interrupt([cluster] {
      try {
        // Only the owner stops it; `stop` is a no-op if it was shared.
        if (cluster->status().owner == std::to_string(getpid()))
          cluster->stop();
      } catch (...) {
        // Exiting anyway; the next run adopts or restarts the server.
      }
    });
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

int demo_command(const config::configuration& cfg) {
  auto db = open_database(cfg.values, true);
  system_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  node_config ncfg;
  ncfg.schema_version = storage::schema_version(db->url());
  ncfg.embedded_database = db->embedded();
  auto node = spawn_node(sys, ncfg);
  caf::scoped_actor self{sys};
  int rc = exit_ok;
  self->request(node, std::chrono::seconds(10), atom::status::value)
    .receive(
      [&](const node_status& st) {
        std::cout << "CatchUp Engine " << st.version << " on node "
                  << st.node_id << '\n'
                  << "database: "
                  << (st.embedded_database ? "private PostgreSQL cluster in "
                                               + db->cluster()->data_dir()
                                           : std::string{"external server"})
                  << '\n'
                  << "schema version: " << st.schema_version << '\n';
      },
      [&](const caf::error& err) {
        rc = report_error(exit_runtime_error,
                          "node did not answer: " + sys.render(err));
      });
  self->send_exit(node, caf::exit_reason::user_shutdown);
  app::on_interrupt({});
  return rc;
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
    flag_options[key] = cli.add_option(config::flag_name(key),
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

  cli.add_subcommand("demo", "the main job: start the engine on its "
                             "database and show what it does")
    ->callback([&] { run = demo_command; });

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
  } catch (const config::config_error& e) {
    return report_error(exit_usage_error, e.what());
  }
  config::setup_logging(cfg.values.log);
  try {
    return run(cfg);
  } catch (const storage::storage_error& e) {
    return report_error(e.code() == ec::invalid_config ? exit_usage_error
                                                       : exit_runtime_error,
                        e.what());
  } catch (const std::exception& e) {
    return report_error(exit_runtime_error, e.what());
  }
}
