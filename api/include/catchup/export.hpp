// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// Symbol visibility of the engine library: it exports the declarations
/// marked CATCHUP_API and nothing else, so its private dependencies
/// (libpqxx, spdlog, libical, ...) never clash with a host's own copies.

#if defined(__GNUC__) || defined(__clang__)
#  define CATCHUP_API __attribute__((visibility("default")))
#else
#  define CATCHUP_API
#endif
