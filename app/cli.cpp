// SPDX-License-Identifier: Apache-2.0
#include "app/cli.hpp"

#include <cstdio>

#include "app/signals.hpp"
#include "app/time_text.hpp"

namespace catchup::app {

std::string command_context::value_of(const std::string& key) const {
  for (const auto& s : settings)
    if (s.key == key)
      return s.value;
  return {};
}

std::string command_context::source_of(const std::string& key) const {
  for (const auto& s : settings)
    if (s.key == key)
      return s.source;
  return "unknown source";
}

int report_error(int code, const std::string& what) {
  // Multi-line details (server logs, initdb output) are folded.
  std::string line;
  for (char c : what)
    line += c == '\n' ? std::string{" | "} : std::string(1, c);
  std::fprintf(stderr, "catchup: error: %s\n", line.c_str());
  return code;
}

int report_failure(const error& failure) {
  return report_error(failure.code == error_code::invalid_config
                        ? exit_usage_error
                        : exit_runtime_error,
                      failure.message);
}

std::int64_t parse_now(const std::string& text) {
  return parse_instant_option("--now", text);
}

std::int64_t parse_instant_option(const std::string& option,
                                  const std::string& text) {
  if (text.empty())
    return 0;
  auto t = parse_instant(text);
  if (!t)
    throw CLI::ValidationError(option, "expected an instant like "
                                       "2026-11-22T18:00:00Z or Unix "
                                       "seconds, got " + text);
  return *t;
}

result<engine>
open_engine(const command_context& ctx,
            std::function<void(const memory_snapshot&)> on_memory_sample) {
  auto config = ctx.config;
  config.on_memory_sample = std::move(on_memory_sample);
  return engine::open(config);
}

database_interrupt_guard::database_interrupt_guard(
  const engine_config& config) {
  on_interrupt([config] {
    // Exiting anyway; the next run adopts or restarts the server.
    (void) admin::stop_database_if_started_here(config);
  });
}

database_interrupt_guard::~database_interrupt_guard() {
  on_interrupt({});
}

} // namespace catchup::app
