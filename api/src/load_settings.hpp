// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to api/: an engine_config becomes validated settings the same
// way the binary's flags and config file do, so a key means one thing
// everywhere and a bad value fails with the same message.

#include "catchup/engine.hpp"
#include "catchup/error.hpp"
#include "config/config.hpp"
#include "config/settings.hpp"

namespace catchup::api {

/// The effective configuration of `config`, each value with its source.
/// @returns it, or invalid_config naming the key, value, source and why.
result<config::configuration>
load_configuration(const engine_config& config) noexcept;

/// The settings of `load_configuration`.
result<config::settings> load_settings(const engine_config& config) noexcept;

} // namespace catchup::api
