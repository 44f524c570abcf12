// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the `catchup` commands share: how a command is chosen and run, how
// it reports a failure, and how it opens the engine. Every command reaches
// the engine through the public API (catchup/*.hpp) only.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include <catchup/admin.hpp>
#include <catchup/engine.hpp>
#include <catchup/error.hpp>

namespace catchup::app {

inline constexpr int exit_ok = 0;
inline constexpr int exit_runtime_error = 1;
inline constexpr int exit_usage_error = 2;

/// What a command runs with: the configuration as the command line and
/// the environment give it, and every key's effective value (already
/// checked).
struct command_context {
  /// The config file, the environment and the flags given; logging is
  /// set up once by main, so engines opened with it leave it alone.
  engine_config config;
  std::vector<admin::setting> settings;

  /// The effective value of `key` ("" for an unknown key).
  std::string value_of(const std::string& key) const;
  /// Where it came from ("built-in default", "flag --database-url", ...;
  /// "unknown source" for an unknown key).
  std::string source_of(const std::string& key) const;
};

/// A command's body: chosen while the command line is parsed, run once the
/// configuration is loaded. @returns the process exit code.
using command = std::function<int(const command_context&)>;

/// Prints "catchup: error: WHAT" as one line on stderr (newlines folded,
/// so log scrapers see one record). @returns `code`.
int report_error(int code, const std::string& what);

/// Reports a failure of the engine: exit 2 for a configuration error (the
/// user's to fix before anything can run), 1 for everything else.
int report_failure(const error& failure);

/// The instant a --now gives: "" is 0 (the engine's clock); otherwise an
/// instant like 2026-11-22T18:00:00Z or Unix seconds.
/// @throws CLI::ValidationError for anything else.
std::int64_t parse_now(const std::string& text);

/// As parse_now, for the option named `option` (--until, ...), which the
/// error names.
std::int64_t parse_instant_option(const std::string& option,
                                  const std::string& text);

/// Opens the engine of `ctx`; `on_memory_sample` (may be empty) hears every
/// memory reading.
result<engine>
open_engine(const command_context& ctx,
            std::function<void(const memory_snapshot&)> on_memory_sample = {});

/// While it lives, SIGINT or SIGTERM stop the private database of `config`
/// if this process started it, before the process ends: otherwise an
/// interrupted command would leave the server it started running, and
/// `catchup db status` naming a process that is gone. Make it once the
/// engine (which owns the database) is open, and let the engine outlive it.
class database_interrupt_guard {
public:
  explicit database_interrupt_guard(const engine_config& config);
  ~database_interrupt_guard();
  database_interrupt_guard(const database_interrupt_guard&) = delete;
  database_interrupt_guard& operator=(const database_interrupt_guard&)
    = delete;
};

// -- the commands, by concern; each sets `run` when its command is chosen ----

/// `config show`.
void add_config_commands(CLI::App& cli, command& run);
/// `db start|status|stop|url`, `migrate`.
void add_db_commands(CLI::App& cli, command& run);
/// `demo`, `seed`, `generate`.
void add_generate_commands(CLI::App& cli, command& run);
/// `suggestions [accept|dismiss|snooze]`, `contact`.
void add_show_commands(CLI::App& cli, command& run);
/// `contacts show|set`, `groups ...`, `settings show|set`.
void add_steering_commands(CLI::App& cli, command& run);
/// `users add|list|show|delete` (app/users_commands.cpp).
void add_users_commands(CLI::App& cli, command& run);
/// `birthdays` (app/dates_commands.cpp).
void add_dates_commands(CLI::App& cli, command& run);
/// `import contacts|calendar`, `sync google`.
void add_import_commands(CLI::App& cli, command& run);
/// `serve`.
void add_serve_command(CLI::App& cli, command& run);
/// `enqueue`, `jobs list|show|retry|cancel`, `cluster status`.
void add_jobs_commands(CLI::App& cli, command& run);
/// `bench` (app/bench_command.cpp).
void add_bench_command(CLI::App& cli, command& run);

} // namespace catchup::app
