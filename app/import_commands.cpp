// SPDX-License-Identifier: Apache-2.0
// `catchup import contacts|calendar` and `catchup sync google`: imports
// page by page, each page one transaction, an interrupted run resuming.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"
#include "app/time_text.hpp"

namespace catchup::app {

namespace {

/// `catchup import contacts|calendar`.
struct import_options {
  /// "contacts" or "calendar".
  std::string kind;
  std::string user_id;
  std::vector<std::string> files;
  /// Contacts: "vcard", "csv" or "" (by extension).
  std::string format;
  bool strict = false;
  /// Calendar: the calendar id; "" = each file's name.
  std::string calendar_id;
  std::string now_text;
  std::int64_t now_unix_s = 0;
  bool as_json = false;
  /// One progress line per committed page on stderr, terminal or not (for
  /// logs and supervisors that watch the import).
  bool progress_lines = false;
};

/// `catchup sync google`.
struct google_sync_options {
  std::string user_id;
  bool contacts = false;
  bool calendar = false;
  std::string calendar_id = "primary";
  /// A JSON file {client_id, client_secret, refresh_token, access_token};
  /// "" reads CATCHUP_GOOGLE_CLIENT_ID, _CLIENT_SECRET, _REFRESH_TOKEN and
  /// _ACCESS_TOKEN from the environment.
  std::string credentials_file;
  bool strict = false;
  std::string now_text;
  std::int64_t now_unix_s = 0;
  bool as_json = false;
  bool progress_lines = false;
};

double mib(std::uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

double per_second(std::uint64_t items, double ms) {
  return ms > 0 ? static_cast<double>(items) * 1000.0 / ms : 0.0;
}

nlohmann::json to_json(const std::string& file, const import_outcome& outcome) {
  auto& r = outcome.summary;
  auto problems = nlohmann::json::array();
  for (auto& p : r.warnings)
    problems.push_back(
      {{"where", p.where}, {"reason", p.reason}, {"excerpt", p.excerpt}});
  return {{"file", file},
          {"ok", outcome.stopped.code == error_code::ok},
          {"error", outcome.stopped.message},
          {"items", r.items},
          {"resumed_items", r.resumed_items},
          {"inserted", r.inserted},
          {"updated", r.updated},
          {"deleted", r.deleted},
          {"skipped", r.skipped},
          {"outside_window", r.outside_window},
          {"window_from_unix_s", r.window_from_unix_s},
          {"window_to_unix_s", r.window_to_unix_s},
          {"last_contact_moved", r.last_contact_moved},
          {"swept", r.swept},
          {"pages", r.pages},
          {"bytes", r.bytes},
          {"wall_ms", r.wall_ms},
          {"items_per_s", per_second(r.items, r.wall_ms)},
          {"problems", problems}};
}

void print_summary(const std::string& file, const import_summary& r) {
  std::printf("%s: %llu items: %lld new, %lld updated, %lld removed, %llu "
              "skipped",
              file.c_str(), static_cast<unsigned long long>(r.items),
              static_cast<long long>(r.inserted),
              static_cast<long long>(r.updated),
              static_cast<long long>(r.deleted),
              static_cast<unsigned long long>(r.skipped));
  if (r.window_to_unix_s > 0)
    std::printf(", %llu outside the window %s .. %s",
                static_cast<unsigned long long>(r.outside_window),
                format_utc(r.window_from_unix_s).c_str(),
                format_utc(r.window_to_unix_s).c_str());
  if (r.last_contact_moved > 0)
    std::printf(", %lld last-contact dates moved forward",
                static_cast<long long>(r.last_contact_moved));
  std::printf("; %llu pages, %.1f MiB in %.0f ms (%.0f items/s)",
              static_cast<unsigned long long>(r.pages), mib(r.bytes),
              r.wall_ms, per_second(r.items, r.wall_ms));
  if (r.resumed_items > 0)
    std::printf("; resumed after %llu items",
                static_cast<unsigned long long>(r.resumed_items));
  std::printf("\n");
  if (r.swept > 0)
    std::printf("%s: %lld rows the source no longer has were removed\n",
                file.c_str(), static_cast<long long>(r.swept));
  if (r.skipped > r.warnings.size())
    std::printf("%s: %llu more skipped items not listed\n", file.c_str(),
                static_cast<unsigned long long>(r.skipped - r.warnings.size()));
}

/// "where: reason: «excerpt»".
std::string text_of(const import_warning& p) {
  auto out = p.where + ": " + p.reason;
  if (!p.excerpt.empty())
    out += ": \u00ab" + p.excerpt + "\u00bb";
  return out;
}

/// Prints progress and problems of one run; returns the reporter.
/// File problems already start with "file:line"; API problems ("page N
/// item K") get the label in front.
engine::import_page_fn reporter(const std::string& label, bool progress_lines,
                                bool label_problems) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  return [label, progress_lines, terminal, label_problems](
           const import_summary& so_far,
           const std::vector<import_warning>& problems) {
    if (terminal && !progress_lines)
      std::fprintf(stderr, "\r\033[K");
    for (auto& p : problems)
      std::fprintf(stderr, "catchup: warning: %s%s%s\n",
                   label_problems ? label.c_str() : "",
                   label_problems ? ": " : "", text_of(p).c_str());
    if (progress_lines) {
      std::fprintf(stderr, "progress: %s: %llu items, %llu pages\n",
                   label.c_str(),
                   static_cast<unsigned long long>(so_far.items
                                                   + so_far.resumed_items),
                   static_cast<unsigned long long>(so_far.pages));
      std::fflush(stderr);
    } else if (terminal) {
      std::fprintf(stderr, "%s: %llu items, %.0f items/s", label.c_str(),
                   static_cast<unsigned long long>(so_far.items),
                   per_second(so_far.items, so_far.wall_ms));
      if (so_far.bytes_total > 0)
        std::fprintf(stderr, ", %.1f of %.1f MiB", mib(so_far.bytes),
                     mib(so_far.bytes_total));
      std::fflush(stderr);
    }
  };
}

std::string env_or_empty(const char* name) {
  auto* value = std::getenv(name);
  return value ? value : "";
}

import_params params_of(const import_options& o) {
  import_params p;
  p.user_id = o.user_id;
  p.strict = o.strict;
  p.now_unix_s = o.now_unix_s;
  p.calendar_id = o.calendar_id;
  if (o.kind == "calendar")
    p.format = import_format::icalendar; // whatever the file is called
  else if (o.format == "vcard")
    p.format = import_format::vcard;
  else if (o.format == "csv")
    p.format = import_format::csv;
  else
    p.format = import_format::contacts_by_extension;
  return p;
}

/// Imports the files one after another; stops at the first that fails.
/// Progress goes to stderr when it is a terminal, every bad item to
/// stderr as "file:line: reason: «excerpt»", the summary to stdout.
/// @returns the exit code (0, or 1 if a file failed).
int import_command(const command_context& ctx, const import_options& o) {
  auto params = params_of(o);
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  auto documents = nlohmann::json::array();
  int exit_code = exit_ok;
  for (auto& file : o.files) {
    auto outcome = eng->import_file_outcome(
      file, params, reporter(file, o.progress_lines, false));
    if (!outcome)
      return report_failure(outcome.error());
    if (terminal && !o.progress_lines)
      std::fprintf(stderr, "\r\033[K");
    if (o.as_json)
      documents.push_back(to_json(file, *outcome));
    else
      print_summary(file, outcome->summary);
    if (outcome->stopped.code != error_code::ok) {
      std::fprintf(stderr, "catchup: error: %s: %s\n", file.c_str(),
                   outcome->stopped.message.c_str());
      exit_code = exit_runtime_error;
      break;
    }
  }
  if (o.as_json)
    std::cout << documents.dump(2) << "\n";
  std::fflush(stdout);
  return exit_code;
}

/// The credentials of `o`: its file, or the CATCHUP_GOOGLE_* variables;
/// empty with the reason printed (exit 2) when there are none.
bool read_credentials(const google_sync_options& o, google_sync_params& p) {
  if (!o.credentials_file.empty()) {
    std::ifstream in{o.credentials_file};
    if (!in) {
      std::fprintf(stderr, "catchup: error: cannot read %s: %s\n",
                   o.credentials_file.c_str(), std::strerror(errno));
      return false;
    }
    try {
      auto j = nlohmann::json::parse(in);
      p.client_id = j.value("client_id", "");
      p.client_secret = j.value("client_secret", "");
      p.refresh_token = j.value("refresh_token", "");
      p.access_token = j.value("access_token", "");
    } catch (const nlohmann::json::exception& e) {
      std::fprintf(stderr, "catchup: error: %s: not a credentials JSON "
                           "object: %s\n",
                   o.credentials_file.c_str(), e.what());
      return false;
    }
  } else {
    p.client_id = env_or_empty("CATCHUP_GOOGLE_CLIENT_ID");
    p.client_secret = env_or_empty("CATCHUP_GOOGLE_CLIENT_SECRET");
    p.refresh_token = env_or_empty("CATCHUP_GOOGLE_REFRESH_TOKEN");
    p.access_token = env_or_empty("CATCHUP_GOOGLE_ACCESS_TOKEN");
  }
  if (p.access_token.empty() && p.refresh_token.empty()) {
    std::fprintf(stderr, "catchup: error: no Google credentials: give "
                         "--credentials FILE or set "
                         "CATCHUP_GOOGLE_REFRESH_TOKEN (with _CLIENT_ID and "
                         "_CLIENT_SECRET) or CATCHUP_GOOGLE_ACCESS_TOKEN\n");
    return false;
  }
  return true;
}

/// Syncs contacts and/or one calendar (both when neither is chosen).
/// @returns the exit code (0, 1 if a sync failed, 2 for missing
/// credentials).
int google_sync_command(const command_context& ctx,
                        const google_sync_options& o) {
  google_sync_params params;
  params.user_id = o.user_id;
  params.calendar_id = o.calendar_id;
  params.strict = o.strict;
  params.now_unix_s = o.now_unix_s;
  if (!read_credentials(o, params))
    return exit_usage_error;
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto documents = nlohmann::json::array();
  bool both = !o.contacts && !o.calendar;
  for (auto what : {google_sync_kind::contacts, google_sync_kind::calendar}) {
    bool is_contacts = what == google_sync_kind::contacts;
    if (!both && (is_contacts ? !o.contacts : !o.calendar))
      continue;
    params.what = what;
    auto label = is_contacts ? std::string{"google contacts"}
                             : "google calendar " + o.calendar_id;
    auto outcome = eng->sync_google(params,
                                    reporter(label, o.progress_lines, true));
    if (!outcome)
      return report_failure(outcome.error());
    if (::isatty(STDERR_FILENO) == 1 && !o.progress_lines)
      std::fprintf(stderr, "\r\033[K");
    if (o.as_json)
      documents.push_back(to_json(label, *outcome));
    else
      print_summary(label, outcome->summary);
    if (outcome->stopped.code != error_code::ok) {
      std::fprintf(stderr, "catchup: error: %s: %s\n", label.c_str(),
                   outcome->stopped.message.c_str());
      if (o.as_json)
        std::cout << documents.dump(2) << "\n";
      return exit_runtime_error;
    }
  }
  if (o.as_json)
    std::cout << documents.dump(2) << "\n";
  return exit_ok;
}

void add_import_command(CLI::App& cli, command& run) {
  auto* import_cmd = cli.add_subcommand(
    "import", "import contacts (vCard, CSV) or calendars (iCalendar) from "
              "files, page by page; an interrupted import resumes");
  import_cmd->require_subcommand(1);
  for (std::string kind : {"contacts", "calendar"}) {
    auto o = std::make_shared<import_options>();
    o->kind = kind;
    auto* sub = import_cmd->add_subcommand(
      kind, kind == "contacts" ? "import contacts from .vcf or .csv files"
                               : "import calendar events from .ics files");
    sub->add_option("--user", o->user_id, "user id")->required();
    sub->add_option("files", o->files, "files to import")
      ->required()
      ->type_name("FILE...");
    if (kind == "contacts")
      sub->add_option("--format", o->format,
                      "vcard or csv (default: by extension)")
        ->check(CLI::IsMember({"vcard", "csv"}));
    else
      sub->add_option("--calendar-id", o->calendar_id,
                      "calendar the events are filed under (default: the "
                      "file's name)");
    sub->add_flag("--strict", o->strict,
                  "all or nothing: check the whole file first and write "
                  "nothing if any item is bad");
    sub->add_flag("--json", o->as_json, "print the reports as JSON");
    sub->add_flag("--progress", o->progress_lines,
                  "print a progress line per committed page, also when "
                  "stderr is not a terminal");
    sub->add_option("--now", o->now_text,
                    "the instant the calendar window is around (default: "
                    "the clock)");
    sub->callback([&run, o] {
      o->now_unix_s = parse_now(o->now_text);
      run = [o](const command_context& c) { return import_command(c, *o); };
    });
  }
}

void add_sync_command(CLI::App& cli, command& run) {
  auto o = std::make_shared<google_sync_options>();
  auto* sync_cmd = cli.add_subcommand("sync", "sync with an online account");
  sync_cmd->require_subcommand(1);
  auto* google = sync_cmd->add_subcommand(
    "google", "sync contacts (People API) and a calendar (Calendar API) of "
              "a Google account: full the first time, then incremental");
  google->add_option("--user", o->user_id, "user id")->required();
  google->add_flag("--contacts", o->contacts, "sync contacts");
  google->add_flag("--calendar", o->calendar, "sync the calendar");
  google->add_option("--calendar-id", o->calendar_id,
                     "Google calendar id (default: primary)");
  google->add_option("--credentials", o->credentials_file,
                     "JSON file with client_id, client_secret, "
                     "refresh_token (and access_token); default: the "
                     "CATCHUP_GOOGLE_* environment variables")
    ->type_name("FILE");
  google->add_flag("--strict", o->strict,
                   "stop at the first bad item instead of skipping it");
  google->add_flag("--json", o->as_json, "print the reports as JSON");
  google->add_flag("--progress", o->progress_lines,
                   "print a progress line per committed page");
  google->add_option("--now", o->now_text,
                     "the instant the calendar window is around (default: "
                     "the clock)");
  google->callback([&run, o] {
    o->now_unix_s = parse_now(o->now_text);
    run = [o](const command_context& c) { return google_sync_command(c, *o); };
  });
}

} // namespace

void add_import_commands(CLI::App& cli, command& run) {
  add_import_command(cli, run);
  add_sync_command(cli, run);
}

} // namespace catchup::app
