// SPDX-License-Identifier: Apache-2.0
#pragma once

// A streaming vCard reader for vCard 2.1, 3.0 (RFC 2425/2426) and 4.0
// (RFC 6350). It is written here because no Debian library fits: libbelcard
// 5.1 accepts only strict 4.0 and rejects Google's 3.0 exports, and
// libvformat/libvc are unmaintained. It is fuzzed by
// tests/fuzz/vcard_fuzz.cpp.
//
// Only the standard library and POSIX iconv (glibc) are used: iconv converts
// 2.1 CHARSET= values and whole UTF-16 inputs to UTF-8.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/contact_date.hpp"

namespace catchup {

/// Bounds on what one reader holds in memory, so a hostile or broken file
/// (a photo without folding, a card without END) cannot exhaust it.
struct vcard_limits {
  /// One physical line, without its line ending.
  std::size_t line_bytes_max = 64 * 1024;
  /// One card, from BEGIN:VCARD to END:VCARD, photos included.
  std::size_t card_bytes_max = 1 << 20;
};

/// Why a card was skipped (or a field of it left out), in a form fit for
/// "file:line: reason".
struct vcard_error {
  /// Physical line, 1-based.
  std::size_t line = 0;
  std::string reason;
  /// At most 60 bytes of the offending line; control bytes and invalid
  /// UTF-8 are replaced by '?', so it can go to a log or terminal as is.
  std::string excerpt;
};

/// The fields of one card that contact import needs; everything else
/// (photos, keys, X- properties other than X-SOCIALPROFILE and the
/// anniversary ones) is skipped. All strings are UTF-8, unescaped and
/// trimmed of surrounding blanks.
struct vcard {
  std::string uid;
  /// FN.
  std::string formatted_name;
  /// N's second and first components.
  std::string given_name;
  std::string family_name;
  /// ORG's first component (the organisation, without its units).
  std::string organization;
  std::string note;
  /// The first non-empty ADR locality (ADR's 4th component).
  std::string locality;
  /// REV, as written.
  std::string revision;
  std::vector<std::string> emails;
  /// TEL values; a 4.0 "tel:" URI prefix is removed.
  std::vector<std::string> phones;
  /// CATEGORIES split on unescaped commas.
  std::vector<std::string> categories;
  /// URL and X-SOCIALPROFILE values.
  std::vector<std::string> urls;
  /// BDAY and ANNIVERSARY (or X-ANNIVERSARY, X-MS-ANNIVERSARY,
  /// X-EVOLUTION-ANNIVERSARY): the first valid one of each kind.
  std::vector<contact_date> dates;
  /// The physical line (1-based) of BEGIN:VCARD.
  std::size_t first_line = 0;
  /// Fields left out of a card that was read (a malformed date): each
  /// names its line and field; the rest of the card stands.
  std::vector<vcard_error> warnings;
};

/// Reads cards one at a time from a stream, line by line: memory stays
/// bounded by `vcard_limits`, whatever the size of the input.
///
/// Handles CRLF and LF (and Apple's CR CR LF), folding by space or tab,
/// `itemN.` groups, case-insensitive names, 2.1 parameters without names,
/// quoted parameter values, 3.0/4.0 backslash escapes, quoted-printable
/// with soft line breaks, CHARSET= through iconv, a UTF-8 byte order mark,
/// and whole UTF-16 inputs (with or without byte order mark).
class vcard_reader {
public:
  explicit vcard_reader(std::istream &in, vcard_limits limits = {});
  ~vcard_reader();
  vcard_reader(const vcard_reader &) = delete;
  vcard_reader &operator=(const vcard_reader &) = delete;

  /// Reads the next card; false at end of input. A bad card is skipped:
  /// returns true with `error` set and the card empty, so the caller can
  /// report "file:line: reason" and go on. Reading resumes at the next
  /// BEGIN:VCARD. Input that does not start with BEGIN:VCARD gives one
  /// error "not a vCard file" at line 1, then end of input.
  bool next(vcard &out, std::optional<vcard_error> &error);

  /// The last physical line read (1-based; 0 before the first).
  std::size_t line() const noexcept;

  /// Bytes taken from the stream so far, before any transcoding.
  std::uint64_t bytes_read() const noexcept;

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace catchup
