// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace catchup::app {

/// `catchup import contacts|calendar`.
struct import_command_options {
  /// "contacts" or "calendar".
  std::string kind;
  std::string user_id;
  std::vector<std::string> files;
  /// Contacts: "vcard", "csv" or "" (by extension).
  std::string format;
  bool strict = false;
  /// Calendar: the calendar id; "" = each file's name.
  std::string calendar_id;
  std::int64_t now_unix_s = 0;
  bool as_json = false;
  /// One progress line per committed page on stderr, terminal or not (for
  /// logs and supervisors that watch the import).
  bool progress_lines = false;
};

/// `catchup sync google`.
struct google_sync_command_options {
  std::string user_id;
  bool contacts = false;
  bool calendar = false;
  std::string calendar_id = "primary";
  /// A JSON file {client_id, client_secret, refresh_token, access_token};
  /// "" reads CATCHUP_GOOGLE_CLIENT_ID, _CLIENT_SECRET, _REFRESH_TOKEN and
  /// _ACCESS_TOKEN from the environment.
  std::string credentials_file;
  bool strict = false;
  std::int64_t now_unix_s = 0;
  bool as_json = false;
  bool progress_lines = false;
};

/// Syncs contacts and/or one calendar (both when neither is chosen).
/// @returns the process exit code (0, 1 if a sync failed, 2 for missing
/// credentials).
int run_google_sync(const config::settings& settings,
                    const google_sync_command_options& options);

/// Imports the files one after another; stops at the first that fails.
/// Progress goes to stderr when it is a terminal, every bad item to
/// stderr as "file:line: reason: «excerpt»", the summary to stdout.
/// @returns the process exit code (0, or 1 if a file failed).
int run_import(const config::settings& settings,
               const import_command_options& options);

} // namespace catchup::app
