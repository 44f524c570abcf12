// SPDX-License-Identifier: Apache-2.0
#include "bench/bench_support.hpp"

#include <cstdio>

namespace catchup::bench {

failure::failure(catchup::error err)
  : std::runtime_error(err.message), error_(std::move(err)) {
  // nop
}

void checked(result<void> r) {
  if (!r)
    throw failure(r.error());
}

bench_settings::bench_settings(const engine_config& config)
  : all_(checked(admin::effective_settings(config))) {
  // nop
}

std::string bench_settings::value(const std::string& key) const {
  for (const auto& s : all_)
    if (s.key == key)
      return s.value;
  return {};
}

std::string bench_settings::source(const std::string& key) const {
  for (const auto& s : all_)
    if (s.key == key)
      return s.source;
  return "unknown source";
}

std::int64_t bench_settings::integer(const std::string& key) const {
  return std::stoll(value(key));
}

engine_config bench_config(const engine_config& config) {
  auto out = config;
  bench_settings settings{config};
  if (settings.value("database.url").empty()
      && settings.source("database.data_dir") == "built-in default")
    out.data_dir = ".catchup/bench-pg";
  return out;
}

void say(const std::string& line) {
  std::fprintf(stderr, "%s\n", line.c_str());
}

} // namespace catchup::bench
