// SPDX-License-Identifier: Apache-2.0
// `catchup config show`, `catchup db start|status|stop|url` and
// `catchup migrate`.

#include <algorithm>
#include <iostream>
#include <utility>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"

namespace catchup::app {

namespace {

// -- config show --------------------------------------------------------------

int config_show(const command_context& ctx, bool as_json) {
  if (as_json) {
    auto out = nlohmann::json::array();
    for (auto& s : ctx.settings)
      out.push_back({{"key", s.key}, {"value", s.value}, {"source", s.source}});
    std::cout << out.dump(2) << '\n';
    return exit_ok;
  }
  std::size_t key_width = 3;
  std::size_t value_width = 5;
  for (auto& s : ctx.settings) {
    key_width = std::max(key_width, s.key.size());
    value_width = std::max(value_width, s.value.size() + 2);
  }
  auto pad = [](std::string s, std::size_t n) {
    s.resize(std::max(n, s.size()), ' ');
    return s;
  };
  std::cout << pad("KEY", key_width) << "  " << pad("VALUE", value_width)
            << "  SOURCE\n";
  for (auto& s : ctx.settings)
    std::cout << pad(s.key, key_width) << "  "
              << pad("\"" + s.value + "\"", value_width) << "  " << s.source
              << '\n';
  return exit_ok;
}

// -- db -------------------------------------------------------------------------

void print_status(const admin::database_info& st) {
  std::cout << "state:    " << admin::to_string(st.state) << '\n'
            << "data dir: " << st.data_dir << '\n';
  if (st.state == admin::database_state::running && st.pid != 0)
    std::cout << "pid:      " << st.pid << '\n'
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

int print_status_of(const command_context& ctx) {
  auto status = admin::database_status(ctx.config);
  if (!status)
    return report_failure(status.error());
  print_status(*status);
  return exit_ok;
}

int db_command(const command_context& ctx, const std::string& action) {
  auto url = ctx.value_of("database.url");
  if (!url.empty() && action != "url")
    return report_error(exit_usage_error,
                        "catchup db " + action + " manages the private "
                        "cluster, but database.url is set ("
                          + ctx.source_of("database.url")
                          + "); unset it to manage the private cluster");
  if (action == "url" && !url.empty()) {
    std::cout << url << '\n';
    return exit_ok;
  }
  if (action == "start") {
    auto started = admin::start_database(ctx.config);
    if (!started)
      return report_failure(started.error());
    std::cout << (*started ? "started" : "already running") << '\n';
    return print_status_of(ctx);
  }
  if (action == "stop") {
    auto stopped = admin::stop_database(ctx.config);
    if (!stopped)
      return report_failure(stopped.error());
    std::cout << (*stopped ? "stopped" : "not running") << '\n';
    return exit_ok;
  }
  if (action == "status")
    return print_status_of(ctx);
  auto status = admin::database_status(ctx.config);
  if (!status)
    return report_failure(status.error());
  std::cout << status->url << '\n';
  return exit_ok;
}

// -- migrate ----------------------------------------------------------------------

int migrate_command(const command_context& ctx) {
  // The private database a migration starts stops again if interrupted.
  database_interrupt_guard interrupt_guard{ctx.config};
  auto report = admin::migrate(ctx.config);
  if (!report)
    return report_failure(report.error());
  if (report->applied.empty())
    std::cout << "schema is up to date at version " << report->version_after
              << '\n';
  else
    std::cout << "migrated schema from version " << report->version_before
              << " to " << report->version_after << '\n';
  return exit_ok;
}

} // namespace

void add_config_commands(CLI::App& cli, command& run) {
  auto* config_cmd = cli.add_subcommand("config", "inspect the configuration");
  config_cmd->require_subcommand(1);
  auto as_json = std::make_shared<bool>(false);
  auto* show = config_cmd->add_subcommand(
    "show", "print every key's effective value and where it came from");
  show->add_flag("--json", *as_json, "print JSON instead of a table");
  show->callback([&run, as_json] {
    run = [as_json](const command_context& c) {
      return config_show(c, *as_json);
    };
  });
}

void add_db_commands(CLI::App& cli, command& run) {
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
      run = [action](const command_context& c) {
        return db_command(c, action);
      };
    });
  }
  cli.add_subcommand("migrate", "apply pending schema migrations")
    ->callback([&run] { run = migrate_command; });
}

} // namespace catchup::app
