// SPDX-License-Identifier: Apache-2.0
#include "app/import_command.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actors/engine_core.hpp"
#include "app/signals.hpp"
#include "app/time_text.hpp"

namespace catchup::app {

namespace {

double mib(std::uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

double per_second(std::uint64_t items, double ms) {
  return ms > 0 ? static_cast<double>(items) * 1000.0 / ms : 0.0;
}

nlohmann::json to_json(const std::string& file, const import_report& r) {
  auto problems = nlohmann::json::array();
  for (auto& p : r.problems)
    problems.push_back(
      {{"where", p.where}, {"reason", p.reason}, {"excerpt", p.excerpt}});
  return {{"file", file},
          {"ok", r.ok()},
          {"error", r.error},
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

void print_summary(const std::string& file, const import_report& r) {
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
  if (r.skipped > r.problems.size())
    std::printf("%s: %llu more skipped items not listed\n", file.c_str(),
                static_cast<unsigned long long>(r.skipped - r.problems.size()));
}

} // namespace

namespace {

/// Prints progress and problems of one run; returns the reporter.
/// File problems already start with "file:line"; API problems ("page N
/// item K") get the label in front.
import_progress_fn reporter(const std::string& label, bool progress_lines,
                            bool label_problems) {
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  return [label, progress_lines, terminal, label_problems](
           const import_report& so_far,
           const std::vector<import_problem>& problems) {
    if (terminal && !progress_lines)
      std::fprintf(stderr, "\r\033[K");
    for (auto& p : problems)
      std::fprintf(stderr, "catchup: warning: %s%s%s\n",
                   label_problems ? label.c_str() : "",
                   label_problems ? ": " : "", p.text().c_str());
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

} // namespace

int run_google_sync(const config::settings& settings,
                    const google_sync_command_options& options) {
  google_credentials credentials;
  if (!options.credentials_file.empty()) {
    std::ifstream in{options.credentials_file};
    if (!in) {
      std::fprintf(stderr, "catchup: error: cannot read %s: %s\n",
                   options.credentials_file.c_str(), std::strerror(errno));
      return 2;
    }
    try {
      auto j = nlohmann::json::parse(in);
      credentials.client_id = j.value("client_id", "");
      credentials.client_secret = j.value("client_secret", "");
      credentials.refresh_token = j.value("refresh_token", "");
      credentials.access_token = j.value("access_token", "");
    } catch (const nlohmann::json::exception& e) {
      std::fprintf(stderr, "catchup: error: %s: not a credentials JSON "
                           "object: %s\n",
                   options.credentials_file.c_str(), e.what());
      return 2;
    }
  } else {
    credentials.client_id = env_or_empty("CATCHUP_GOOGLE_CLIENT_ID");
    credentials.client_secret = env_or_empty("CATCHUP_GOOGLE_CLIENT_SECRET");
    credentials.refresh_token = env_or_empty("CATCHUP_GOOGLE_REFRESH_TOKEN");
    credentials.access_token = env_or_empty("CATCHUP_GOOGLE_ACCESS_TOKEN");
  }
  if (credentials.access_token.empty() && credentials.refresh_token.empty()) {
    std::fprintf(stderr, "catchup: error: no Google credentials: give "
                         "--credentials FILE or set "
                         "CATCHUP_GOOGLE_REFRESH_TOKEN (with _CLIENT_ID and "
                         "_CLIENT_SECRET) or CATCHUP_GOOGLE_ACCESS_TOKEN\n");
    return 2;
  }
  engine_core e{settings};
  app::cluster_interrupt_guard interrupt_guard{e.private_cluster()};
  auto documents = nlohmann::json::array();
  bool both = !options.contacts && !options.calendar;
  for (auto what : {google_sync_request::kind::contacts,
                    google_sync_request::kind::calendar}) {
    bool is_contacts = what == google_sync_request::kind::contacts;
    if (!both && (is_contacts ? !options.contacts : !options.calendar))
      continue;
    google_sync_request request;
    request.user_id = options.user_id;
    request.what = what;
    request.calendar_id = options.calendar_id;
    request.credentials = credentials;
    request.strict = options.strict;
    request.now_unix_s = options.now_unix_s;
    auto label = is_contacts ? std::string{"google contacts"}
                             : "google calendar " + options.calendar_id;
    auto report = e.sync_google(request, reporter(label, options.progress_lines, true));
    if (::isatty(STDERR_FILENO) == 1 && !options.progress_lines)
      std::fprintf(stderr, "\r\033[K");
    if (options.as_json)
      documents.push_back(to_json(label, report));
    else
      print_summary(label, report);
    if (!report.ok()) {
      std::fprintf(stderr, "catchup: error: %s: %s\n", label.c_str(),
                   report.error.c_str());
      if (options.as_json)
        std::cout << documents.dump(2) << "\n";
      return 1;
    }
  }
  if (options.as_json)
    std::cout << documents.dump(2) << "\n";
  return 0;
}

int run_import(const config::settings& settings,
               const import_command_options& options) {
  engine_core e{settings};
  app::cluster_interrupt_guard interrupt_guard{e.private_cluster()};
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  auto documents = nlohmann::json::array();
  int exit_code = 0;
  for (auto& file : options.files) {
    import_request request;
    request.user_id = options.user_id;
    request.path = file;
    request.strict = options.strict;
    request.now_unix_s = options.now_unix_s;
    request.calendar_id = options.calendar_id;
    if (options.kind == "calendar") {
      request.what = import_request::kind::calendar;
    } else if (options.format == "vcard") {
      request.format = contact_format::vcard;
    } else if (options.format == "csv") {
      request.format = contact_format::csv;
    }
    auto report = e.import_file(
      request, reporter(file, options.progress_lines, false));
    if (terminal && !options.progress_lines)
      std::fprintf(stderr, "\r\033[K");
    if (options.as_json)
      documents.push_back(to_json(file, report));
    else
      print_summary(file, report);
    if (!report.ok()) {
      std::fprintf(stderr, "catchup: error: %s: %s\n", file.c_str(),
                   report.error.c_str());
      exit_code = 1;
      break;
    }
  }
  if (options.as_json)
    std::cout << documents.dump(2) << "\n";
  std::fflush(stdout);
  return exit_code;
}

} // namespace catchup::app
