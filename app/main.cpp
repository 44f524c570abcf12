// SPDX-License-Identifier: Apache-2.0
// The `catchup` command-line tool: a thin front end over the engine's
// public API. Exit codes: 0 success, 1 runtime error, 2 usage/config error.

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include <catchup/admin.hpp>
#include <catchup/version.hpp>

#include "app/cli.hpp"
#include "app/signals.hpp"

namespace {

using namespace catchup;

/// Names the environment variable that points at a config file when there
/// is no --config.
constexpr const char* config_file_env = "CATCHUP_CONFIG";

/// Every configuration key as a flag (database.url -> --database-url), and
/// the values given.
struct setting_flags {
  std::map<std::string, std::string> values;
  std::map<std::string, CLI::Option*> options;
};

void add_setting_flags(CLI::App& cli, setting_flags& flags) {
  for (auto& spec : admin::setting_keys()) {
    auto help = spec.help + " [" + spec.key + ", default \""
                + spec.default_value + "\"]";
    auto names = spec.flag;
    if (spec.key == "memory.budget_bytes")
      names += ",--memory-budget"; // the short form people type
    flags.options[spec.key]
      = cli.add_option(names, flags.values[spec.key], help)
          ->group("Configuration (precedence: default < file < environment "
                  "< flag)");
  }
}

/// The configuration the command line and the environment give: the
/// config file (--config, else CATCHUP_CONFIG), the environment, and the
/// flags given, which win.
engine_config config_of(const std::string& config_file,
                        const setting_flags& flags) {
  engine_config config;
  if (!config_file.empty())
    config.config_file = config_file;
  else if (auto* env = std::getenv(config_file_env))
    config.config_file = env;
  config.read_environment = true;
  // main sets up logging once; engines opened by commands leave it.
  config.configure_logging = false;
  for (auto& [key, opt] : flags.options)
    if (opt->count() > 0)
      config.settings.emplace_back(key, flags.values.at(key));
  return config;
}

/// Parses the command line; returns an exit code when there is nothing to
/// run (help, version, a usage error), else -1.
int parse(CLI::App& cli, int argc, char** argv) {
  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    app::report_error(app::exit_usage_error, e.what());
    std::fprintf(stderr, "Run with --help for more information.\n");
    return app::exit_usage_error;
  }
  return -1;
}

} // namespace

int main(int argc, char** argv) {
  app::install_signal_thread();
  CLI::App cli{"CatchUp Engine: decides which contact each user should catch "
               "up with, and when."};
  cli.require_subcommand(1);
  cli.fallthrough();
  cli.set_version_flag("--version", version());
  std::string config_file;
  cli.add_option("--config", config_file,
                 "read configuration from FILE (INI: [section] key = value); "
                 "also CATCHUP_CONFIG")
    ->type_name("FILE");
  setting_flags flags;
  add_setting_flags(cli, flags);

  app::command run;
  app::add_config_commands(cli, run);
  app::add_db_commands(cli, run);
  app::add_generate_commands(cli, run);
  app::add_show_commands(cli, run);
  app::add_steering_commands(cli, run);
  app::add_users_commands(cli, run);
  app::add_dates_commands(cli, run);
  app::add_import_commands(cli, run);
  app::add_serve_command(cli, run);
  app::add_jobs_commands(cli, run);

  // -- benchmarks ---------------------------------------------------------------
  app::add_bench_command(cli, run);
  // -----------------------------------------------------------------------------

  if (auto code = parse(cli, argc, argv); code >= 0)
    return code;

  app::command_context ctx;
  ctx.config = config_of(config_file, flags);
  auto settings = admin::effective_settings(ctx.config);
  if (!settings)
    return app::report_error(app::exit_usage_error, settings.error().message);
  ctx.settings = std::move(*settings);
  if (auto logging = admin::configure_logging(ctx.config); !logging)
    return app::report_failure(logging.error());
  try {
    return app::finish(run(ctx));
  } catch (const std::exception& e) {
    return app::finish(app::report_error(app::exit_runtime_error, e.what()));
  }
}
