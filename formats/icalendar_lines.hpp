// SPDX-License-Identifier: Apache-2.0
#pragma once

// The text layer of the iCalendar reader (formats/icalendar.hpp), private to
// formats/: the stream cut into logical lines (a UTF-8 byte order mark
// dropped, folded lines joined) and each line sorted the way libical's
// parser would read it, so that only the lines an event needs reach
// libical. Nothing here uses libical.

#include <cstddef>
#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <string_view>

#include "formats/physical_lines.hpp"

namespace catchup::icalendar_detail {

inline char ascii_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

inline char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;
std::string upper(std::string_view s);

/// The first `c` outside double quotes, as libical's parser_get_next_char()
/// finds it: a quote toggles quoting unless after a backslash, and the
/// first character is never taken.
std::size_t find_unquoted(std::string_view line, char c) noexcept;

/// One content line as this reader sorts it.
struct content_line {
  enum class kind { other, begin, end };
  kind type = kind::other;
  /// As written: a view into the line, empty for a line libical finds no
  /// name in.
  std::string_view name;
  /// For BEGIN and END: the component name, upper case, trimmed.
  std::string component;
};

/// Splits a line the way libical does: the name ends at the first ';' or
/// ':' outside quotes (only the name is scanned, as every line goes
/// through here), and a line named BEGIN or END opens or closes the
/// component named after the colon.
content_line classify(std::string_view line);

/// Whether `s` is valid UTF-8 without NUL bytes (libical reads C strings).
bool is_clean_text(std::string_view s) noexcept;

/// A physical line with its folded continuations.
struct logical_line {
  std::string text;
  std::size_t number = 0;
  std::size_t bytes = 0;
  /// The first physical line over line_bytes_max, or 0.
  std::size_t overflow_line = 0;
};

/// Reads a stream as logical lines (RFC 5545 3.1): physical lines
/// (formats/physical_lines.hpp) of at most `line_bytes_max` bytes each, the
/// following ones that start with a space or tab joined to them, that
/// character removed. At most `component_bytes_max` of a logical line's
/// text is kept (a longer line is reported through its byte count), and a
/// physical line that runs on past four times that stops the reader
/// (`input_stopped`).
class logical_lines {
public:
  logical_lines(std::istream &in, std::size_t line_bytes_max,
                std::size_t component_bytes_max);
  logical_lines(const logical_lines &) = delete;
  logical_lines &operator=(const logical_lines &) = delete;

  /// Whether a line is left; reads it ahead if needed.
  bool peek();
  /// The line peek() read ahead.
  const logical_line &peeked() const noexcept {
    return next_line_;
  }
  /// Takes the line peek() read ahead; valid until the next take().
  logical_line &take();

  /// The last physical line read (1-based; 0 before the first).
  std::size_t line() const noexcept {
    return line_;
  }
  /// Bytes taken from the stream so far, the byte order mark included.
  std::uint64_t bytes_read() const noexcept {
    return bytes_;
  }

private:
  using physical_line = detail::physical_line;

  bool fill();
  bool read_line(physical_line &l);
  bool peek_physical();
  bool read_logical(logical_line &l);

  std::istream &in_;
  std::size_t line_bytes_max_;
  std::size_t component_bytes_max_;

  std::uint64_t bytes_ = 0;
  std::size_t line_ = 0;
  std::string buffer_;
  /// Where each chunk is read to before it joins `buffer_`.
  std::unique_ptr<char[]> chunk_;
  std::size_t position_ = 0;
  bool started_ = false;
  bool end_of_stream_ = false;
  physical_line look_;
  bool has_look_ = false;
  physical_line current_;
  logical_line next_line_;
  bool has_next_ = false;
  logical_line taken_;
};

} // namespace catchup::icalendar_detail
