// SPDX-License-Identifier: Apache-2.0
#pragma once

// A streaming reader of contact CSV exports (RFC 4180): Google Contacts in
// its legacy and current layouts, Outlook and Thunderbird. It produces the
// same `vcard` records as `vcard_reader`, so contact import treats a CSV
// export and a vCard export alike. Only the standard library is used.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>

#include "formats/vcard.hpp"

namespace catchup {

/// Bounds on what one reader holds in memory, so a hostile or broken file
/// (an unclosed quote, a row of a million commas) cannot exhaust it.
struct csv_limits {
  /// One record, all its physical lines and separators included.
  std::size_t record_bytes_max = 256 * 1024;
  /// Fields in one record, the header included.
  std::size_t fields_max = 512;
};

/// Reads contacts one row at a time from a stream, through a fixed-size
/// buffer: memory stays bounded by `csv_limits`, whatever the size of the
/// input.
///
/// The first record is the header; its names are matched case-insensitively
/// against the Google (legacy `Name,Given Name,…,E-mail 1 - Value` and
/// current `First Name,Middle Name,Last Name,…,Labels`), Outlook and
/// Thunderbird column names. Unknown columns are ignored. Handles commas and
/// CRLF inside quoted fields (a CRLF inside a field becomes LF), `""`
/// escapes, CRLF and LF record ends and a UTF-8 byte order mark. Google's
/// ` ::: ` lists are split (several e-mails in one cell, group membership);
/// the `* ` that marks a primary value and the implicit "My Contacts" group
/// are removed.
///
/// `formatted_name` is the `Name` or `Display Name` column; when that is
/// empty, the given, middle and family names joined by spaces. `uid` and
/// `revision` stay empty: no CSV layout carries them.
class contacts_csv_reader {
public:
  explicit contacts_csv_reader(std::istream &in, csv_limits limits = {});
  ~contacts_csv_reader();
  contacts_csv_reader(const contacts_csv_reader &) = delete;
  contacts_csv_reader &operator=(const contacts_csv_reader &) = delete;

  /// Reads the next contact; false at end of input. Rows with neither a
  /// name nor an e-mail (blank rows, trailing empty lines) are skipped
  /// silently. A bad row is skipped: returns true with `error` set and the
  /// contact empty, so the caller can report "file:line: reason" and go on.
  ///
  /// A row whose fields are not valid UTF-8 gives an error naming the
  /// physical line of the first bad byte. A row larger than
  /// `record_bytes_max` or with more than `fields_max` fields gives an error
  /// at its first line; the reader then resynchronises by skipping the rest
  /// of that row as its quotes say (so a quoted line break does not end it)
  /// and resumes after the row's end. If a quote is still open after another
  /// `record_bytes_max` bytes, it is taken as stray and reading resumes after
  /// the next physical line break instead, so one unmatched quote cannot
  /// swallow the rest of the file.
  ///
  /// A header that maps no name or e-mail column gives one error "not a
  /// contacts CSV file (no name or e-mail column)" at line 1, then end of
  /// input.
  bool next(vcard &out, std::optional<vcard_error> &error);

  /// The last physical line read (1-based; 0 before the first).
  std::size_t line() const noexcept;

  /// Bytes taken from the stream so far, the byte order mark included.
  std::uint64_t bytes_read() const noexcept;

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace catchup
