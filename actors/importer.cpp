// SPDX-License-Identifier: Apache-2.0
#include "actors/importer.hpp"

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/pressure.hpp"
#include "core/utf8.hpp"
#include "messages/atoms.hpp"
#include "storage/storage_error.hpp"

namespace catchup {

namespace {

using clock_type = std::chrono::steady_clock;

const std::string& item_key(const imported_contact& c) {
  return c.key;
}
const std::string& item_key(const calendar_event_item& e) {
  return e.external_id;
}

/// Rows an import writes before it refreshes the planner's statistics (and
/// again at its end): a bulk import changes a user's share of a table
/// faster than autovacuum notices, and stale figures turn lookups into
/// scans. Refreshing costs about a tenth of a second.
constexpr std::int64_t statistics_rows_min = 20000;

/// While paused at critical pressure, how often the run checks whether it
/// was cancelled or has waited breaker_wait_max.
constexpr std::chrono::seconds paused_check_interval{1};

struct import_state {
  std::string url;
  storage::import_target target;
  std::unique_ptr<page_source> source;
  import_options options;
  cache_actor cache;
  memory_supervisor_actor supervisor;
  import_progress_fn progress;
  std::function<void(import_report)> done;

  std::unique_ptr<storage::import_store> store;
  import_report report;
  source_page page;
  pressure_level level = pressure_level::normal;
  bool paused = false;
  clock_type::time_point paused_at;
  clock_type::time_point started = clock_type::now();
  /// The database time this run (or the run it resumes) began, for the
  /// sweep of a full sync; kept in the stored cursor.
  std::int64_t started_unix_us = 0;
  bool calendar = false;
  bool ended = false;
  /// Rows written since the planner's statistics were last refreshed.
  std::int64_t rows_since_statistics = 0;

  /// The stored cursor: the source's own and the run's start mark.
  storage::page_cursor cursor() const {
    return {nlohmann::json{{"source", nlohmann::json::parse(source->cursor())},
                           {"started_us", started_unix_us}}
              .dump(),
            static_cast<std::int64_t>(source->items_done())};
  }

  /// Items of the next page at the current level: the policy table's
  /// import share of the configured page size (0 at critical: no page).
  std::size_t page_items() const {
    return options.policy.import_page_items(level, options.page_items_max);
  }
};

// True when `e` says the database was out of reach or in conflict, not
// that the input or the job is wrong. A commit whose outcome is unknown
// (the connection died during it) counts too: a page and its cursor commit
// together, and merging is idempotent, so a rerun settles it.
bool database_transient(const std::exception& e) {
  auto* storage = dynamic_cast<const storage::storage_error*>(&e);
  return storage != nullptr
         && (storage->code() == ec::db_unavailable
             || storage->code() == ec::db_conflict
             || storage->code() == ec::db_outcome_unknown);
}

void finish(caf::event_based_actor* self, import_state& st,
            const std::string& error, bool transient = false) {
  if (st.ended)
    return;
  st.ended = true;
  st.report.error = error;
  st.report.error_transient = transient;
  if (st.store) {
    try {
      if (error.empty()) {
        auto full = st.source->full_sync();
        // Items the run skipped were not marked as seen: sweeping would
        // delete rows the source still has.
        if (full && st.target.source == "google" && st.report.skipped == 0)
          st.report.swept = st.store->sweep_unseen(
            st.target, st.started_unix_us, st.options.window_from_unix_s,
            st.options.window_to_unix_s);
        else if (full && st.target.source == "google")
          spdlog::warn("full sync of {} for user {}: {} items skipped, so "
                       "rows it did not see are kept",
                       st.target.state_source, st.target.user_id,
                       st.report.skipped);
        st.store->finish(st.target, true, st.source->sync_token(), {}, full);
        if (st.rows_since_statistics >= statistics_rows_min / 20)
          st.store->refresh_statistics(st.target);
      } else {
        st.store->finish(st.target, false, std::nullopt, error, false);
      }
    } catch (const std::exception& e) {
      if (st.report.error.empty()) {
        st.report.error = e.what();
        st.report.error_transient = database_transient(e);
      }
    }
  }
  if (st.report.swept > 0)
    caf::anon_send(st.cache, atom::invalidate::value,
                   static_cast<std::uint8_t>(cache_contacts | cache_calendar),
                   st.target.user_id);
  st.report.wall_ms = std::chrono::duration<double, std::milli>(
                        clock_type::now() - st.started)
                        .count();
  if (st.source)
    st.report.outside_window = st.source->items_outside_window();
  st.report.window_from_unix_s = st.options.window_from_unix_s;
  st.report.window_to_unix_s = st.options.window_to_unix_s;
  if (st.source) {
    st.report.bytes = st.source->bytes_done();
    st.report.bytes_total = st.source->bytes_total();
  }
  if (st.done)
    st.done(st.report);
  self->quit();
}

void keep_problems(import_state& st) {
  st.report.skipped += st.page.problems.size();
  for (auto& p : st.page.problems) {
    if (st.report.problems.size() >= st.options.problems_kept_max)
      break;
    st.report.problems.push_back(p);
  }
}

// Fields left out of items that are imported all the same (a malformed
// birthday): reported with the page's problems, but they skip nothing and
// do not stop a strict run.
void keep_field_warnings(import_state& st) {
  for (auto& w : st.page.field_warnings) {
    if (st.report.problems.size() < st.options.problems_kept_max)
      st.report.problems.push_back(w);
    st.page.problems.push_back(std::move(w));
  }
  st.page.field_warnings.clear();
}

// Takes every item whose fields cannot be stored (field_check.hpp) out of
// the page, as a problem of its own: the page's other items are written.
template <class Item, class Check>
void screen_items(std::vector<Item>& items, const page_source& source,
                  std::vector<import_problem>& problems, Check check) {
  std::size_t kept = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (auto why = check(items[i])) {
      problems.push_back({source.locate(items[i].position), *why,
                          printable_excerpt(item_key(items[i]))});
      continue;
    }
    if (kept != i)
      items[kept] = std::move(items[i]);
    ++kept;
  }
  items.resize(kept);
}

void screen(source_page& page, const page_source& source,
            const field_limits& limits) {
  screen_items(page.contacts, source, page.problems,
               [&](const imported_contact& c) {
                 return contact_field_problem(c, limits);
               });
  screen_items(page.events, source, page.problems,
               [&](const calendar_event_item& e) {
                 return event_field_problem(e, limits);
               });
}

// Critical pressure, like the generation circuit breaker: no new page
// until pressure falls, and give up (resumably) after breaker_wait_max.
void pause(caf::event_based_actor* self, import_state& st) {
  st.paused = true;
  st.paused_at = clock_type::now();
  spdlog::warn("import of {} for user {} paused: memory pressure {}",
               st.target.resource, st.target.user_id, to_string(st.level));
  self->delayed_send(self, paused_check_interval, atom::retry::value);
}

// Items the database still refused were left out alone (lenient runs
// only; a strict one rolled the page back): each is a problem of the page.
void note_refused(
  import_state& st,
  const std::vector<storage::page_outcome::item_failure>& failed) {
  for (auto& failure : failed) {
    import_problem problem;
    if (st.calendar) {
      const auto& e = st.page.events.at(failure.index);
      problem = {st.source->locate(e.position), failure.reason,
                 printable_excerpt(e.external_id)};
    } else {
      const auto& c = st.page.contacts.at(failure.index);
      problem = {st.source->locate(c.position), failure.reason,
                 printable_excerpt(c.key)};
    }
    st.report.skipped += 1;
    if (st.report.problems.size() < st.options.problems_kept_max)
      st.report.problems.push_back(problem);
    st.page.problems.push_back(std::move(problem));
  }
}

// Writes the page with the cursor after it, in one transaction, and counts
// what it did. @throws what the store throws.
void merge_page(import_state& st) {
  auto cursor = st.cursor();
  auto outcome
    = st.calendar
        ? st.store->merge_events(st.target, st.page.events, cursor,
                                 st.options.now_unix_s, !st.options.strict)
        : st.store->merge_contacts(st.target, st.page.contacts,
                                   st.page.deleted_keys, cursor,
                                   !st.options.strict);
  note_refused(st, outcome.failed);
  st.report.inserted += outcome.inserted;
  st.report.updated += outcome.updated;
  st.report.deleted += outcome.deleted;
  st.report.last_contact_moved += outcome.last_contact_moved;
  // New and removed rows change a user's share of a table; updates
  // (last contact dates included) hardly change what the planner needs.
  st.rows_since_statistics += outcome.inserted + outcome.deleted;
  if (st.rows_since_statistics >= statistics_rows_min) {
    st.store->refresh_statistics(st.target);
    st.rows_since_statistics = 0;
  }
}

// A page is written and committed: reads after it see it, the report and
// the progress callback learn of it, and the next page follows.
void page_written(caf::event_based_actor* self, import_state& st) {
  // A calendar page may also have moved contacts' last contact dates.
  caf::anon_send(st.cache, atom::invalidate::value,
                 static_cast<std::uint8_t>(
                   st.calendar ? cache_calendar | cache_contacts
                               : cache_contacts),
                 st.target.user_id);
  st.report.pages += 1;
  st.report.bytes = st.source->bytes_done();
  st.report.bytes_total = st.source->bytes_total();
  st.report.wall_ms = std::chrono::duration<double, std::milli>(
                        clock_type::now() - st.started)
                        .count();
  if (st.progress)
    st.progress(st.report, st.page.problems);
  self->send(self, atom::next::value);
}

void step(caf::event_based_actor* self, import_state& st) {
  if (st.ended || st.paused)
    return;
  if (st.options.cancelled && st.options.cancelled->load()) {
    finish(self, st,
           "stopped: the engine is shutting down; a rerun resumes after item "
             + std::to_string(st.source->items_done()));
    return;
  }
  auto items = st.page_items();
  if (items == 0) {
    pause(self, st);
    return;
  }
  if (st.report.page_items_min == 0 || items < st.report.page_items_min)
    st.report.page_items_min = items;
  bool more = false;
  try {
    more = st.source->next_page(items, st.page);
  } catch (const std::exception& e) {
    finish(self, st, e.what());
    return;
  }
  if (!more) {
    finish(self, st, {});
    return;
  }
  screen(st.page, *st.source, st.options.fields);
  st.report.items += st.page.items;
  keep_problems(st);
  if (st.options.strict && !st.page.problems.empty()) {
    // The page is not merged: the cursor stays before it, so a rerun
    // after fixing the input starts at this page.
    finish(self, st,
           "stopped at a bad item (--strict): "
             + st.page.problems.front().text());
    return;
  }
  keep_field_warnings(st);
  try {
    merge_page(st);
  } catch (const std::exception& e) {
    finish(self, st, e.what(), database_transient(e));
    return;
  }
  page_written(self, st);
}

void start(import_state& st) {
  st.store = std::make_unique<storage::import_store>(
    st.url, st.options.statement_timeout_ms);
  st.store->check_user(st.target.user_id);
  auto progress = st.store->read_progress(st.target);
  bool resumed = false;
  if (progress.exists && progress.status != "succeeded"
      && !progress.resume_cursor.empty()) {
    try {
      auto stored = nlohmann::json::parse(progress.resume_cursor);
      auto mark = stored.at("started_us").get<std::int64_t>();
      if (st.source->resume(stored.at("source").dump())) {
        st.started_unix_us = mark;
        st.report.resumed_items = st.source->items_done();
        resumed = true;
      } else if (st.source->items_done() > 0) {
        throw std::runtime_error("the source no longer matches the "
                                 "interrupted run's cursor");
      }
    } catch (const nlohmann::json::exception&) {
      // A cursor this version cannot read: start over (merging is
      // idempotent, so that only costs time).
    }
  }
  if (!resumed) {
    st.started_unix_us = st.store->now_unix_us();
    st.store->begin(st.target, st.cursor());
  } else {
    spdlog::info("resuming the import of {} for user {} after {} items",
                 st.target.resource, st.target.user_id,
                 st.report.resumed_items);
  }
}

caf::behavior import_actor(caf::event_based_actor* self,
                           std::shared_ptr<import_state> st) {
  // Whatever ends the actor (an exception, an exit message), the caller
  // waiting for the report gets one.
  self->attach_functor([st](const caf::error& reason) {
    if (st->ended)
      return;
    st->ended = true;
    st->report.error = "the import stopped unexpectedly ("
                       + caf::to_string(reason)
                       + "); a rerun resumes after its last committed page";
    if (st->done)
      st->done(st->report);
  });
  try {
    start(*st);
  } catch (const std::exception& e) {
    finish(self, *st, e.what(), database_transient(e));
    return {};
  }
  if (st->supervisor) {
    // The supervisor sends its current level before it replies, so the
    // first page is already sized by it.
    self
      ->request(st->supervisor, caf::infinite, atom::subscribe::value,
                caf::actor_cast<caf::actor>(self))
      .then([=](std::uint64_t) { self->send(self, atom::next::value); },
            [=](const caf::error&) {
              // Unmonitored then, like the engine's other workers.
              self->send(self, atom::next::value);
            });
  } else {
    self->send(self, atom::next::value);
  }
  return {
    [=](atom::next) { step(self, *st); },
    [=](atom::pressure, const memory_status& status) {
      st->level = status.level;
      if (st->paused && st->page_items() > 0) {
        st->paused = false;
        spdlog::info("import of {} for user {} resumed: memory pressure {}",
                     st->target.resource, st->target.user_id,
                     to_string(status.level));
        self->send(self, atom::next::value);
      }
    },
    [=](atom::retry) {
      if (!st->paused || st->ended)
        return;
      if (st->options.cancelled && st->options.cancelled->load())
        finish(self, *st,
               "stopped: the engine is shutting down; a rerun resumes after "
               "item "
                 + std::to_string(st->source->items_done()));
      else if (clock_type::now() - st->paused_at
               >= st->options.breaker_wait_max)
        finish(self, *st,
               "memory pressure stayed critical for "
                 + std::to_string(st->options.breaker_wait_max.count())
                 + " ms; stopped after item "
                 + std::to_string(st->source->items_done())
                 + " (a rerun resumes there)");
      else
        self->delayed_send(self, paused_check_interval, atom::retry::value);
    },
  };
}

} // namespace

std::optional<import_problem> first_problem(page_source& source,
                                            const import_options& options,
                                            std::uint64_t& items) {
  source_page page;
  while (source.next_page(options.page_items_max, page)) {
    items += page.items;
    screen(page, source, options.fields);
    if (!page.problems.empty())
      return page.problems.front();
  }
  return std::nullopt;
}

void spawn_import(caf::actor_system& sys, std::string database_url,
                  storage::import_target target,
                  std::unique_ptr<page_source> source, import_options options,
                  cache_actor cache, memory_supervisor_actor supervisor,
                  import_progress_fn progress,
                  std::function<void(import_report)> done) {
  auto st = std::make_shared<import_state>();
  st->url = std::move(database_url);
  st->target = std::move(target);
  st->calendar = !st->target.calendar_id.empty();
  st->source = std::move(source);
  st->options = options;
  st->cache = std::move(cache);
  st->supervisor = std::move(supervisor);
  st->progress = std::move(progress);
  st->done = std::move(done);
  sys.spawn<caf::detached>(import_actor, st);
}

} // namespace catchup
