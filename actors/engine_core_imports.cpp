// SPDX-License-Identifier: Apache-2.0
// The engine's imports (engine_core.hpp): seeding demo data, files and
// streams of contacts or calendars, and syncs with Google accounts, each
// run by one sync actor page by page.
#include "actors/engine_core.hpp"

#include <cstdint>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "actors/engine_core_impl.hpp"
#include "actors/importer.hpp"
#include "actors/memory_supervisor.hpp"
#include "adapters/google_client.hpp"
#include "adapters/import_sources.hpp"
#include "storage/import_store.hpp"
#include "storage/seed.hpp"
#include "storage/storage_error.hpp"

namespace catchup {

namespace {

/// The line and item limits every file or stream is read with.
file_limits read_limits_of(const config::sync_settings& sync) {
  file_limits limits;
  limits.line_bytes_max = static_cast<std::size_t>(sync.line_bytes_max);
  limits.item_bytes_max = static_cast<std::size_t>(sync.item_bytes_max);
  return limits;
}

/// What every import starts from: strict or lenient, its "now", the
/// engine's flag that stops running imports, the indexed-field limit.
import_options import_options_of(const engine_core::impl& d, bool strict,
                                 std::int64_t now_unix_s) {
  import_options options;
  options.strict = strict;
  options.now_unix_s = now_unix_s;
  options.cancelled = d.imports_cancelled;
  options.fields.indexed_field_bytes_max
    = static_cast<std::size_t>(d.cfg.sync.indexed_field_bytes_max);
  return options;
}

} // namespace

import_report engine_core::impl::run_import(
  storage::import_target target, std::unique_ptr<page_source> source,
  const import_options& options, import_progress_fn progress) {
  // An unknown user is the caller's mistake, said before any page runs
  // (the sync actor would only report it as a failed run).
  try {
    storage::import_store{db->url()}.check_user(target.user_id);
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
  std::promise<import_report> finished;
  auto result = finished.get_future();
  auto sized = options;
  sized.policy = policy; // pages shrink by the engine's table
  spawn_import(*sys, db->url(), std::move(target), std::move(source),
               std::move(sized), cache, supervisor, std::move(progress),
               [&finished](import_report report) {
                 finished.set_value(std::move(report));
               });
  return result.get();
}

storage::seed_report engine_core::seed(const storage::seed_options& options) {
  auto& d = *impl_;
  try {
    auto report = wrap_operation("seed", *d.gauge, *d.probe, [&] {
      try {
        return storage::seed(d.db->url(), options);
      } catch (...) {
        invalidate({}); // users seeded before the failure were committed
        throw;
      }
    });
    invalidate({});
    return report;
  } catch (const memory_refused& e) {
    throw engine_error(ec::memory_critical, e.what());
  }
}

std::vector<std::string>
engine_core::seeded_users(const storage::seed_options& options) {
  return storage::seeded_users(impl_->db->url(), options);
}

import_report engine_core::import_file(const import_request& request,
                                  import_progress_fn progress) {
  auto& d = *impl_;
  d.refuse_at_critical("import");
  const file_limits limits = read_limits_of(d.cfg.sync);
  storage::import_target target;
  target.user_id = request.user_id;
  const auto now_unix_s = d.clock.or_now_unix_s(request.now_unix_s);
  target.now_unix_s = now_unix_s;
  import_options options = import_options_of(d, request.strict, now_unix_s);
  std::unique_ptr<page_source> source;
  try {
    target.resource = std::filesystem::absolute(request.path).lexically_normal();
  } catch (const std::exception& e) {
    throw engine_error(ec::invalid_input,
                       "cannot resolve " + request.path + ": " + e.what());
  }
  // Opened twice for a strict run: once to validate, once to import.
  auto open_source = [&]() -> std::unique_ptr<page_source> {
    try {
      if (request.what == import_request::kind::contacts) {
        auto format = request.format ? request.format
                                     : contact_format_of(request.path);
        if (!format)
          throw engine_error(ec::invalid_input,
                             request.path + ": unknown contacts format (use a "
                             ".vcf or .csv file, or name the format)");
        target.source = *format == contact_format::vcard ? "vcard" : "csv";
        target.state_source = target.source;
        options.page_items_max
          = static_cast<std::size_t>(d.cfg.sync.contacts_page_items);
        return open_contact_file(request.path, *format, limits);
      } else {
        target.source = "ical";
        target.state_source = "ical";
        target.calendar_id
          = request.calendar_id.empty()
              ? std::filesystem::path(request.path).filename().string()
              : request.calendar_id;
        options.page_items_max
          = static_cast<std::size_t>(d.cfg.sync.events_page_items);
        constexpr std::int64_t day_s = 86400;
        options.window_from_unix_s
          = now_unix_s - d.cfg.sync.calendar_past_days * day_s;
        options.window_to_unix_s
          = now_unix_s + d.cfg.sync.calendar_future_days * day_s;
        return open_calendar_file(request.path, options.window_from_unix_s,
                                  options.window_to_unix_s, limits);
      }
    } catch (const engine_error&) {
      throw;
    } catch (const std::exception& e) {
      throw engine_error(ec::invalid_input, e.what());
    }
  };
  source = open_source();
  if (request.strict) {
    // All or nothing: the whole file is read and checked before the first
    // write, so a bad item anywhere leaves the database as it was.
    import_report checked;
    std::optional<import_problem> problem;
    try {
      auto check = open_source();
      problem = first_problem(*check, options, checked.items);
    } catch (const std::exception& e) {
      checked.error
        = std::string{e.what()} + " (--strict: nothing was written)";
      return checked;
    }
    if (problem) {
      checked.skipped = 1;
      checked.problems.push_back(*problem);
      checked.error = "stopped at a bad item (--strict: nothing was "
                      "written): " + problem->text();
      return checked;
    }
  }
  return d.run_import(std::move(target), std::move(source), options,
                      std::move(progress));
}

import_report engine_core::import_stream(const import_request& request,
                                         std::unique_ptr<std::istream> in,
                                         import_progress_fn progress) {
  auto& d = *impl_;
  d.refuse_at_critical("import");
  const auto& name = request.path;
  if (name.empty())
    throw engine_error(ec::invalid_input, "a stream import needs a name");
  const file_limits limits = read_limits_of(d.cfg.sync);
  storage::import_target target;
  target.user_id = request.user_id;
  // Its own sync_state row per name, apart from a file at the same path.
  // No stored cursor makes a run skip items: a stream never resumes (see
  // open_contact_stream), so the importer starts every run over.
  target.resource = "stream:" + name;
  const auto now_unix_s = d.clock.or_now_unix_s(request.now_unix_s);
  target.now_unix_s = now_unix_s;
  import_options options = import_options_of(d, request.strict, now_unix_s);
  std::unique_ptr<page_source> source;
  try {
    if (request.what == import_request::kind::contacts) {
      // A stream has no extension to tell the format by.
      if (!request.format)
        throw engine_error(ec::invalid_input,
                           name + ": a stream's contacts format must be "
                                  "named (vcard or csv)");
      target.source = *request.format == contact_format::vcard ? "vcard"
                                                               : "csv";
      target.state_source = target.source;
      options.page_items_max
        = static_cast<std::size_t>(d.cfg.sync.contacts_page_items);
      source = open_contact_stream(std::move(in), name, *request.format,
                                   limits);
    } else {
      target.source = "ical";
      target.state_source = "ical";
      target.calendar_id
        = request.calendar_id.empty()
            ? std::filesystem::path(name).filename().string()
            : request.calendar_id;
      if (target.calendar_id.empty())
        target.calendar_id = name;
      options.page_items_max
        = static_cast<std::size_t>(d.cfg.sync.events_page_items);
      constexpr std::int64_t day_s = 86400;
      options.window_from_unix_s
        = now_unix_s - d.cfg.sync.calendar_past_days * day_s;
      options.window_to_unix_s
        = now_unix_s + d.cfg.sync.calendar_future_days * day_s;
      source = open_calendar_stream(std::move(in), name,
                                    options.window_from_unix_s,
                                    options.window_to_unix_s, limits);
    }
  } catch (const engine_error&) {
    throw;
  } catch (const std::exception& e) {
    throw engine_error(ec::invalid_input, e.what());
  }
  return d.run_import(std::move(target), std::move(source), options,
                      std::move(progress));
}

import_report engine_core::sync_google(const google_sync_request& request,
                                  import_progress_fn progress) {
  auto& d = *impl_;
  d.refuse_at_critical("sync");
  const bool contacts = request.what == google_sync_request::kind::contacts;
  storage::import_target target;
  target.user_id = request.user_id;
  target.source = "google";
  target.state_source = contacts ? "google_contacts" : "google_calendar";
  if (!contacts) {
    target.resource = request.calendar_id;
    target.calendar_id = request.calendar_id;
  }
  const auto now_unix_s = d.clock.or_now_unix_s(request.now_unix_s);
  target.now_unix_s = now_unix_s;
  import_options options = import_options_of(d, request.strict, now_unix_s);
  options.page_items_max = static_cast<std::size_t>(
    contacts ? d.cfg.sync.contacts_page_items : d.cfg.sync.events_page_items);
  std::string sync_token;
  try {
    storage::import_store store{d.db->url()};
    store.check_user(request.user_id);
    sync_token = store.read_progress(target).sync_token;
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
  google_client_options client_options;
  client_options.endpoints.people_base_url = d.cfg.sync.google_people_url;
  client_options.endpoints.calendar_base_url = d.cfg.sync.google_calendar_url;
  client_options.endpoints.token_url = d.cfg.sync.google_token_url;
  auto client = std::make_shared<google_client>(request.credentials,
                                                client_options);
  constexpr std::int64_t day_s = 86400;
  if (!contacts) {
    options.window_from_unix_s
      = now_unix_s - d.cfg.sync.calendar_past_days * day_s;
    options.window_to_unix_s
      = now_unix_s + d.cfg.sync.calendar_future_days * day_s;
  }
  google_paging_limits paging;
  paging.pages_max = static_cast<std::uint64_t>(d.cfg.sync.google_pages_max);
  paging.empty_pages_in_a_row_max
    = static_cast<std::uint64_t>(d.cfg.sync.google_empty_pages_max);
  auto source
    = contacts
        ? open_google_contacts(client, sync_token, paging)
        : open_google_calendar(
          client, request.calendar_id, sync_token,
          now_unix_s - d.cfg.sync.calendar_past_days * day_s,
          now_unix_s + d.cfg.sync.calendar_future_days * day_s, paging);
  return d.run_import(std::move(target), std::move(source), options,
                      std::move(progress));
}

} // namespace catchup
