// SPDX-License-Identifier: Apache-2.0
#include "load_settings.hpp"

#include "convert.hpp"

namespace catchup::api {

result<config::configuration>
load_configuration(const engine_config& config) noexcept {
  try {
    config::config_input in;
    if (!config.config_file.empty())
      in.file = config.config_file;
    if (config.read_environment)
      in.environment = config::process_environment();
    if (!config.database_url.empty())
      in.flags.emplace_back("database.url", config.database_url);
    if (!config.data_dir.empty())
      in.flags.emplace_back("database.data_dir", config.data_dir);
    for (const auto& [key, value] : config.settings)
      in.flags.emplace_back(key, value);
    return config::load(in);
  } catch (...) {
    auto err = current_error();
    err.code = error_code::invalid_config;
    return err;
  }
}

result<config::settings> load_settings(const engine_config& config) noexcept {
  auto loaded = load_configuration(config);
  if (!loaded)
    return loaded.error();
  return std::move(loaded->values);
}

} // namespace catchup::api
