// SPDX-License-Identifier: Apache-2.0
#pragma once

// The page-by-page producers behind a sync actor: files and streams (vCard,
// CSV, iCalendar) and the Google APIs. Each one reads only as far as the
// page it is asked for, so a sync holds one page at a time whatever its
// input's size, and each one can say where it is (a JSON cursor) and
// resume there (streams excepted, see open_contact_stream).

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/calendar_event.hpp"
#include "formats/contact_import.hpp"

namespace catchup {

/// One item an import skipped (or, with --strict, stopped at).
struct import_problem {
  /// "file:line" or "page N item K".
  std::string where;
  std::string reason;
  /// A short, printable piece of the item.
  std::string excerpt;
  /// "where: reason: «excerpt»".
  std::string text() const;
};

/// One page read from a source: contacts or events, keys the source
/// removed, and the items that could not be read.
struct source_page {
  std::vector<imported_contact> contacts;
  std::vector<std::string> deleted_keys;
  std::vector<calendar_event_item> events;
  std::vector<import_problem> problems;
  /// Fields left out of items that were read (a malformed birthday): the
  /// items are imported all the same, so these are reported but neither
  /// skip an item nor stop a strict import.
  std::vector<import_problem> field_warnings;
  /// Items taken from the source, bad ones included.
  std::uint64_t items = 0;
  void clear();
};

/// A source of pages. Not thread-safe; owned by one sync actor.
class page_source {
public:
  virtual ~page_source();

  /// Reads the next page of at most `items_max` items into `page` (cleared
  /// first). @returns false at the end of the source (page empty).
  /// @throws std::runtime_error when the source as a whole fails (a file
  /// that cannot be read, an API that refuses), with what and why.
  virtual bool next_page(std::size_t items_max, source_page& page) = 0;

  /// Where a rerun resumes after every page returned so far (JSON).
  virtual std::string cursor() const = 0;

  /// Moves to `cursor` from an earlier, interrupted run of the same source.
  /// @returns false when it no longer applies (the file changed) or the
  /// source cannot resume (a stream): the run then starts from the
  /// beginning.
  virtual bool resume(const std::string& cursor) = 0;

  /// Items taken so far in this run, resumed ones included.
  virtual std::uint64_t items_done() const = 0;

  /// Input bytes read so far and in total (0 when unknown).
  virtual std::uint64_t bytes_done() const = 0;
  virtual std::uint64_t bytes_total() const = 0;

  /// The sync token to store when the run completes (Google), if any.
  virtual std::optional<std::string> sync_token() const;

  /// True when this run reads the whole source (not only changes since a
  /// sync token): rows it did not see are then removed at the end.
  virtual bool full_sync() const;

  /// Where an item of the last page returned is, from its `position`
  /// ("name:line" for files and streams, "page N item K" for APIs).
  virtual std::string locate(std::size_t position) const;

  /// Items read but left out because they lie outside the import's
  /// window (calendars); 0 for sources without one.
  virtual std::uint64_t items_outside_window() const;
};

/// Contact file formats.
enum class contact_format { vcard, csv };

/// "vcard" for .vcf/.vcard, "csv" for .csv (case-insensitive).
std::optional<contact_format> contact_format_of(const std::string& path);

/// Bounds of file readers (see vcard_limits, csv_limits).
struct file_limits {
  std::size_t line_bytes_max = 64 * 1024;
  std::size_t item_bytes_max = 1 << 20;
};

/// Checks that `path` is a regular file this process can read.
/// @throws std::runtime_error naming the file and why not.
void check_import_file(const std::string& path);

/// Opens a contacts file. @throws std::runtime_error naming the file and
/// the reason when it cannot be opened.
std::unique_ptr<page_source>
open_contact_file(const std::string& path, contact_format format,
                  file_limits limits = {});

/// Opens an iCalendar file; events are kept (and recurrences expanded)
/// inside [window_from, window_to).
std::unique_ptr<page_source>
open_calendar_file(const std::string& path, std::int64_t window_from_unix_s,
                   std::int64_t window_to_unix_s, file_limits limits = {});

/// Reads contacts from a stream (an upload, a pipe) like a file: problems
/// are located as "name:line". A stream cannot be resumed: its cursor()
/// still counts the items done, but resume() always returns false, since
/// the stream cannot be read again from its start and nothing tells
/// whether it carries the items of the run that wrote the cursor (skipping
/// them could drop others). bytes_total() is 0 (unknown).
/// @throws std::invalid_argument for a null stream, std::runtime_error
/// naming `name` for a stream that already failed.
std::unique_ptr<page_source>
open_contact_stream(std::unique_ptr<std::istream> in, std::string name,
                    contact_format format, file_limits limits = {});

/// Reads iCalendar events from a stream like `open_calendar_file`, with
/// the stream rules of `open_contact_stream`.
std::unique_ptr<page_source>
open_calendar_stream(std::unique_ptr<std::istream> in, std::string name,
                     std::int64_t window_from_unix_s,
                     std::int64_t window_to_unix_s, file_limits limits = {});

} // namespace catchup

namespace catchup {

class google_client;

/// Bounds on one Google listing, against a server that never ends it: a
/// page token seen before in the run ends it with an error at once (the
/// listing loops), and so does one page past `pages_max` or more than
/// `empty_pages_in_a_row_max` empty pages in a row. The pages before the
/// error are kept, as with any error of the source.
struct google_paging_limits {
  std::uint64_t pages_max = 20000;
  std::uint64_t empty_pages_in_a_row_max = 100;
};

/// Google People connections, page by page: a full sync, or, with a
/// stored `sync_token`, the changes since (deleted people become deleted
/// keys). An expired sync token (HTTP 400 EXPIRED_SYNC_TOKEN) restarts as a
/// full sync. The API wants the same page size on every page of a listing,
/// so the size of the first page (clamped to 1..1000) holds for the run.
std::unique_ptr<page_source>
open_google_contacts(std::shared_ptr<google_client> client,
                     std::string sync_token, google_paging_limits limits = {});

/// Google Calendar events of `calendar_id`, page by page (singleEvents, so
/// recurring events arrive as instances): a full sync of [window_from,
/// window_to), or the changes since `sync_token` (cancelled events become
/// removals). An expired token (HTTP 410) restarts as a full sync.
std::unique_ptr<page_source>
open_google_calendar(std::shared_ptr<google_client> client,
                     std::string calendar_id, std::string sync_token,
                     std::int64_t window_from_unix_s,
                     std::int64_t window_to_unix_s,
                     google_paging_limits limits = {});

} // namespace catchup
