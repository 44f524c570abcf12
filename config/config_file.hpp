// SPDX-License-Identifier: Apache-2.0
#pragma once

// A reader for the engine's INI-style config file:
//
//   # comment            ; comment
//   [database]
//   url = "postgresql:///catchup?host=/srv/pg"
//   [memory]
//   max_heap_percent = 75
//
// Written here rather than taken from CAF or CLI11 because both accept a key
// they do not know, or a value of the wrong type, without a word (CAF 0.17)
// or let the file override the environment (CLI11); every error here names
// file:line.

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace catchup::config {

/// One `key = value` line of a config file.
struct file_value {
  /// Full dotted key: section plus key ("database.url").
  std::string key;
  std::string value;
  /// 1-based line number.
  std::size_t line = 0;
};

/// Parses a config file's text. `file_name` is used in error messages only.
/// @throws config_error with "file:line: reason".
std::vector<file_value> parse_config_text(std::istream& in,
                                          const std::string& file_name);

/// Opens and parses `path`.
/// @throws config_error if the file cannot be read or is malformed.
std::vector<file_value> parse_config_file(const std::string& path);

} // namespace catchup::config
