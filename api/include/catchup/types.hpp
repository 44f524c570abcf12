// SPDX-License-Identifier: Apache-2.0
#pragma once

/// @file
/// The values the public API takes and returns: plain structs of standard
/// types, copyable, with no behaviour and no engine internals. Times are
/// Unix seconds (UTC); sizes are bytes; durations say their unit.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catchup/availability.hpp"
#include "catchup/error.hpp"
#include "catchup/export.hpp"

namespace catchup {

// -- users --------------------------------------------------------------------

/// A user of the host program, mirrored into the engine (see
/// engine::put_user). The engine needs little: who, which zone, when free.
struct user_profile {
  /// The user's id (a UUID). Empty: the user is found by `email` and
  /// created with a new id when there is none.
  std::string id;
  /// Unique per user; required to create one.
  std::string email;
  /// Unset fields keep what is stored (a new user gets "", "UTC", true),
  /// so a profile with only an email is also a lookup.
  std::optional<std::string> name;
  /// IANA zone ("Europe/Berlin"); suggested slots are in it.
  std::optional<std::string> timezone;
  /// Inactive users are left out of `generate_all` and scheduled runs.
  std::optional<bool> active;
  /// Replaces the user's windows when set (empty: the engine's default,
  /// weekdays 18:00-21:00 and weekends 10:00-20:00); unset leaves them. At
  /// most 168 windows.
  std::optional<std::vector<availability_window>> availability;
  // -- what steers the user's suggestions (unset: keep; see user_settings) --
  /// The cadence of contacts with none of their own or of their groups:
  /// 1..3650 days (a new user: 30).
  std::optional<std::int32_t> default_cadence_days;
  /// How long a dismissed contact is held back: 1..3650 days; 0: one
  /// cadence period of the contact (a new user's).
  std::optional<std::int32_t> dismiss_cooldown_days;
  /// Slot policy and run size; 0: the engine's configured value. Days
  /// ahead searched for slots 1..90, slot length 15..480 minutes, slots on
  /// one day 1..24, suggestions per run 1..1000 (never more than the
  /// pressure level allows).
  std::optional<std::int32_t> slot_horizon_days;
  std::optional<std::int32_t> slot_minutes;
  std::optional<std::int32_t> slots_per_day;
  std::optional<std::int32_t> suggestions_per_run;
};

/// What steers a user's suggestions, as in effect: the user's own values,
/// else the engine's.
struct user_settings {
  std::string user_id;
  std::string timezone;
  std::int32_t default_cadence_days = 30;
  /// 0: one cadence period of the dismissed contact.
  std::int32_t dismiss_cooldown_days = 0;
  std::int32_t slot_horizon_days = 14;
  std::int32_t slot_minutes = 60;
  std::int32_t slots_per_day = 2;
  std::int32_t suggestions_per_run = 50;
  /// The windows in effect; `default_availability` when the user has none.
  std::vector<availability_window> availability;
  bool default_availability = true;
};

/// A change to one contact's settings; unset fields stay as they are.
struct contact_update {
  /// A class ("weekly"), a number of days ("45", "45d", "every 45 days",
  /// 1..3650) or "none" (inherit from groups, else the user's default).
  std::optional<std::string> cadence;
  /// "inner", "close", "active", "casual" or "none".
  std::optional<std::string> importance;
  std::optional<bool> archived;
  /// Paused until this instant (must be in the future); 0 resumes now.
  std::optional<std::int64_t> paused_until_unix_s;
};

/// A group of a user's contacts.
struct group_info {
  std::string id;
  std::string name;
  /// The cadence members without their own inherit (the shortest of
  /// their groups' wins); 0: none.
  std::int32_t cadence_days = 0;
  std::int64_t members = 0;
};

/// A user as the engine stores it, with how much the engine holds for them
/// (see engine::users and engine::user).
struct user_info {
  /// The user's id (a UUID).
  std::string id;
  std::string email;
  std::string name;
  /// IANA zone ("Europe/Berlin").
  std::string timezone;
  /// Inactive users are left out of `generate_all` and scheduled runs.
  bool active = true;
  /// When the user was created, Unix seconds.
  std::int64_t created_at_unix_s = 0;
  /// The user's contacts, archived ones included.
  std::int64_t contacts = 0;
  /// The user's suggestions that are pending at the engine's "now" (a
  /// snooze that has passed counts as pending).
  std::int64_t pending_suggestions = 0;
};

// -- suggestions --------------------------------------------------------------

/// Where a suggestion is in its life.
enum class suggestion_status : std::uint8_t {
  pending,
  accepted,
  dismissed,
  snoozed,
  expired,
};

/// "pending", "accepted", ...
CATCHUP_API const char* to_string(suggestion_status status) noexcept;

/// One suggestion: catch up with this contact in this free slot.
struct suggestion {
  std::string id;
  std::string contact_id;
  std::string contact_name;
  /// 1 = most overdue contact of its generation.
  std::int32_t rank = 0;
  /// How overdue the contact is; higher first.
  double priority = 0;
  /// The free slot, [start, end), Unix seconds.
  std::int64_t slot_start_unix_s = 0;
  std::int64_t slot_end_unix_s = 0;
  /// The user's zone when the slot was chosen, for display.
  std::string slot_timezone;
  /// A sentence a person can read: why this contact, why now.
  std::string reason;
  suggestion_status status = suggestion_status::pending;
};

/// What one user's generation did, in figures: the part every report of a
/// generation carries, on every side of the engine.
struct generation_figures {
  std::string user_id;
  std::string generation_id;
  /// Contacts streamed (in batches; never all at once).
  std::int64_t contacts_read = 0;
  std::int64_t suggestions = 0;
  std::int64_t free_slots = 0;
  /// True when memory pressure lowered the suggestion cap.
  bool partial = false;
  /// True when the user is paused (nothing was generated).
  bool paused = false;
  /// Things a person should know (a contact without a usable zone, ...).
  std::vector<std::string> warnings;
  double wall_ms = 0;
  /// Batches the contacts were streamed in.
  std::int64_t batches = 0;
};

/// What one user's generation did, with the suggestions it made.
struct generation_summary : generation_figures {
  /// The new pending suggestions, best first.
  std::vector<suggestion> items;
};

/// Totals of a run over many users. Each user's summary goes to the run's
/// callback as the user finishes instead, so a run's memory does not grow
/// with its number of users.
struct run_totals {
  std::int64_t users = 0;
  /// Users whose generation failed (their summary's warnings say why).
  std::int64_t failed = 0;
  std::int64_t partial = 0;
  std::int64_t paused = 0;
  std::int64_t contacts_read = 0;
  std::int64_t suggestions = 0;
  /// Times critical memory pressure held the run's remaining users.
  std::int64_t breaker_holds = 0;
  double wall_ms = 0;
};

/// A user's answer to a suggestion.
enum class suggestion_action : std::uint8_t {
  /// They will catch up in the slot: the contact counts as contacted now.
  accept,
  /// Not this one; `reason` may say why.
  dismiss,
  /// Ask again at `snooze_until_unix_s`.
  snooze,
};

/// Answers one pending suggestion (see engine::respond).
struct suggestion_response {
  std::string user_id;
  std::string suggestion_id;
  suggestion_action action = suggestion_action::accept;
  /// Snooze: when to ask again; after "now", at most 90 days ahead.
  std::int64_t snooze_until_unix_s = 0;
  /// Dismiss: why, in the user's words (may be empty).
  std::string reason;
  /// Dismiss: the user met the contact recently, so the contact counts as
  /// contacted now.
  bool met_recently = false;
  /// "Now"; 0 means the engine's clock (engine_config::clock_unix_ms).
  std::int64_t now_unix_s = 0;
};

// -- contacts -------------------------------------------------------------------

/// A contact's yearly date, as imported.
struct contact_date_info {
  /// "birthday" or "anniversary".
  std::string kind;
  /// 1..12 and 1..31 (Feb 29 allowed).
  int month = 0;
  int day = 0;
  /// Unset when the source gave no year.
  std::optional<int> year;
};

/// One contact of a user, as the engine stores it (see engine::contact).
struct contact_info {
  std::string id;
  std::string name;
  /// When the user last caught up with the contact; unset: never.
  std::optional<std::int64_t> last_contact_unix_s;
  /// How often the user wants to catch up: "daily", "weekly", "biweekly",
  /// "monthly", "quarterly", "yearly", "flexible" or "na"; empty: no
  /// preference.
  std::string frequency;
  /// Ids of the contact's groups.
  std::vector<std::string> group_ids;
  bool archived = false;
  std::string email;
  std::string phone;
  std::string location;
  std::string organization;
  /// The contact's own "every N days" cadence; 0: none (a named class is
  /// in `frequency`).
  std::int32_t cadence_days = 0;
  /// The shortest cadence among the contact's groups; 0: none.
  std::int32_t group_cadence_days = 0;
  /// The cadence in effect, in days: the contact's own (`frequency` or
  /// `cadence_days`), else its groups', else the user's default.
  std::int32_t effective_cadence_days = 30;
  /// Where `effective_cadence_days` comes from: "contact", "group" or
  /// "default".
  std::string cadence_source;
  /// The Dunbar circle: "inner", "close", "active", "casual" or "" (none).
  /// It weighs the days overdue: inner 2x, close 1.5x, active 1.25x, none
  /// 1x, casual 0.75x.
  std::string importance;
  /// When the contact was added (first import or creation); a contact
  /// never contacted is due one cadence after it.
  std::int64_t added_unix_s = 0;
  /// Not suggested before this instant; unset: not paused.
  std::optional<std::int64_t> paused_until_unix_s;
  /// The contact's birthday and anniversary, as imported (engine::contact
  /// fills them; for_each_contact leaves them empty).
  std::vector<contact_date_info> dates;
};

/// A birthday or anniversary that comes soon (see engine::upcoming_dates).
struct upcoming_date {
  std::string contact_id;
  std::string contact_name;
  /// "birthday" or "anniversary".
  std::string kind;
  /// The day it next falls on, in the user's time zone: "YYYY-MM-DD". A
  /// Feb 29 date falls on Feb 28 in a year without it.
  std::string date;
  /// Days from the user's local today: 0 is today.
  int days_until = 0;
  /// The age the contact turns, or the years of the anniversary, when the
  /// year is known.
  std::optional<int> years;
};

// -- imports ------------------------------------------------------------------

/// Formats an import reads.
enum class import_format : std::uint8_t {
  /// Chosen by the file name's extension (.vcf/.vcard, .csv, .ics).
  by_extension,
  vcard,
  csv,
  icalendar,
  /// Contacts, vCard or CSV by the file name's extension (.vcf/.vcard or
  /// .csv); a file of any other name is refused rather than read as a
  /// calendar.
  contacts_by_extension,
};

/// One import of contacts or calendar events for a user.
struct import_params {
  std::string user_id;
  import_format format = import_format::by_extension;
  /// All or nothing: a file is checked whole before the first write and
  /// nothing is written if any item is bad; a stream (read once) stops at
  /// the first bad item, the pages before it committed.
  bool strict = false;
  /// Calendars: the calendar the events are filed under; empty means the
  /// file's (or stream's) name.
  std::string calendar_id;
  /// "Now" (0: the engine's clock): new contacts count as added at it (a
  /// contact never contacted is due one cadence later); a calendar import
  /// keeps events in a window around it, and events ended by then move
  /// contacts' last contact date.
  std::int64_t now_unix_s = 0;
};

/// One item an import skipped (or, when strict, stopped at).
struct import_warning {
  /// "file:line" (or "name:line" for a stream).
  std::string where;
  std::string reason;
  /// A short, printable piece of the item.
  std::string excerpt;
};

/// What an import did. Pages are committed one at a time: a file import
/// that stopped (a crash, a strict failure) resumes after its last
/// committed page when run again.
struct import_summary {
  /// Items read, bad ones included.
  std::uint64_t items = 0;
  /// Items a resumed file import skipped because an earlier run
  /// committed them.
  std::uint64_t resumed_items = 0;
  std::int64_t inserted = 0;
  std::int64_t updated = 0;
  std::int64_t deleted = 0;
  /// Bad items.
  std::uint64_t skipped = 0;
  /// Contacts whose last contact date a past calendar event moved.
  std::int64_t last_contact_moved = 0;
  std::uint64_t pages = 0;
  std::uint64_t bytes = 0;
  double wall_ms = 0;
  /// The first bad items (at most 100).
  std::vector<import_warning> warnings;
  /// Calendars: events read but outside the window the import keeps
  /// (`window_from_unix_s` to `window_to_unix_s`, both 0 for contacts),
  /// which are not imported.
  std::uint64_t outside_window = 0;
  std::int64_t window_from_unix_s = 0;
  std::int64_t window_to_unix_s = 0;
  /// Rows a full sync removed because the source no longer has them.
  std::int64_t swept = 0;
  /// The input's size when known (a file's), else 0: with `bytes`, how far
  /// a running import got.
  std::uint64_t bytes_total = 0;
};

/// How an import that ran ended (see engine::import_file_outcome). A run
/// commits page by page, so one that stopped early still did something.
struct import_outcome {
  /// What the run did: up to where it stopped, or, for a strict file
  /// import that found a bad item, what its check read (nothing written).
  import_summary summary;
  /// `error_code::ok` when the run read its whole input; otherwise why it
  /// stopped: invalid_input (a bad item stopped a strict run) or
  /// database_error. The pages before it are committed, and a rerun of the
  /// unchanged file resumes after them.
  error stopped;
};

/// What a Google sync reads.
enum class google_sync_kind : std::uint8_t {
  /// The account's contacts (People API).
  contacts,
  /// One of the account's calendars (Calendar API).
  calendar,
};

/// One sync with a Google account (see engine::sync_google). The first
/// sync is full; later ones fetch the changes since the stored sync token.
struct google_sync_params {
  std::string user_id;
  google_sync_kind what = google_sync_kind::contacts;
  /// Calendars: the Google calendar id.
  std::string calendar_id = "primary";
  /// OAuth client and tokens: a refresh token (with client id and secret)
  /// lets the engine renew the access token; an access token alone works
  /// until it expires.
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
  std::string access_token;
  /// Stop at the first bad item instead of skipping it.
  bool strict = false;
  /// "Now" (0: the engine's clock): the calendar window is around it, and
  /// events ended by then move contacts' last contact date.
  std::int64_t now_unix_s = 0;
};

// -- job dispatcher -------------------------------------------------------------

/// What an engine's job dispatcher did (see engine::dispatcher). Totals
/// count from the engine's opening, across stops and starts.
struct dispatcher_figures {
  /// Jobs claimed from the queue.
  std::uint64_t claimed = 0;
  /// Jobs finished successfully.
  std::uint64_t completed = 0;
  /// Attempts that failed (a job may fail several before it succeeds).
  std::uint64_t failed = 0;
  /// Jobs handed back to the queue when the dispatcher stopped.
  std::uint64_t released = 0;
  /// Jobs running now.
  std::uint64_t in_flight = 0;
};

// -- memory and metrics ---------------------------------------------------------

/// How close the engine is to its memory budget. Batches shrink (100, 50,
/// 25 contacts) and suggestion caps fall (50, 25, 10) as it rises; at
/// critical, new work is refused until it falls.
enum class memory_level : std::uint8_t {
  normal,
  elevated,
  high,
  critical,
};

/// "normal", "elevated", "high", "critical".
CATCHUP_API const char* to_string(memory_level level) noexcept;

/// One memory reading.
struct memory_snapshot {
  memory_level level = memory_level::normal;
  /// Heap in use, from the allocator.
  std::int64_t heap_bytes = 0;
  /// Resident set of the process.
  std::int64_t resident_bytes = 0;
  /// The budget the level refers to (memory.budget_bytes, else the cgroup
  /// limit, else physical memory).
  std::int64_t budget_bytes = 0;
  /// heap_bytes in percent of budget_bytes.
  double used_percent = 0;
};

/// What kind of figure a metric is (as in Prometheus).
enum class metric_type : std::uint8_t {
  /// A total that only grows.
  counter,
  /// A value that goes up and down.
  gauge,
  /// Observations counted into buckets.
  histogram,
};

/// One metric at one moment.
struct metric_reading {
  /// The Prometheus name, e.g. "catchup_generations_total".
  std::string name;
  std::string help;
  metric_type type = metric_type::counter;
  /// A counter's total or a gauge's value; 0 for a histogram.
  double value = 0;
  /// Histogram only: the finite upper bounds of the buckets (+Inf is not
  /// listed).
  std::vector<double> upper_bounds;
  /// Histogram only: observations per bucket, not cumulative; the last one
  /// is the +Inf bucket.
  std::vector<std::uint64_t> bucket_counts;
  /// Histogram only: observations and their sum.
  std::uint64_t count = 0;
  double sum = 0;
};

/// The engine's metrics at one moment.
struct metrics_snapshot {
  /// Every metric in the Prometheus text exposition format, ready to
  /// serve on a host's own /metrics.
  std::string prometheus_text;
  memory_snapshot memory;
  /// Generations finished and failed since the engine opened.
  std::int64_t generations = 0;
  std::int64_t generations_failed = 0;
  /// Jobs the dispatcher finished and failed since it started.
  std::int64_t jobs_done = 0;
  std::int64_t jobs_failed = 0;
  std::int64_t jobs_in_flight = 0;
  /// Every metric of the engine one by one, by name (the dispatcher's job
  /// figures are the jobs_* fields above).
  std::vector<metric_reading> readings;
  /// The highest resident set of the process so far (0 where the system
  /// does not say).
  std::int64_t peak_resident_bytes = 0;
};

} // namespace catchup
