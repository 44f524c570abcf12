// SPDX-License-Identifier: Apache-2.0
#include "formats/icalendar_lines.hpp"

#include "core/utf8.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace catchup::icalendar_detail {
namespace {

/// Bytes read from the stream at a time: big enough for few reads, small
/// enough to stay cheap next to the limits.
constexpr std::size_t chunk_bytes = 64 * 1024;

/// What libical's make_segment() trims from a property name.
bool is_c_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
         c == '\f';
}

using text::trim;

} // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_upper(a[i]) != ascii_upper(b[i]))
      return false;
  return true;
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() &&
         iequals(s.substr(0, prefix.size()), prefix);
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = ascii_upper(c);
  return out;
}

std::size_t find_unquoted(std::string_view line, char c) noexcept {
  // Most lines have neither quotes nor backslashes before the character.
  const std::size_t plain = line.size() > 1 ? line.find(c, 1) : line.npos;
  if (plain != line.npos && std::memchr(line.data(), '"', plain) == nullptr &&
      std::memchr(line.data(), '\\', plain) == nullptr)
    return plain;
  bool quoted = false;
  for (std::size_t i = 1; i < line.size(); ++i) {
    if (line[i - 1] == '\\')
      continue;
    if (line[i] == '"')
      quoted = !quoted;
    else if (!quoted && line[i] == c)
      return i;
  }
  return std::string_view::npos;
}

content_line classify(std::string_view line) {
  content_line out;
  bool quoted = false;
  std::size_t name_end = std::string_view::npos;
  for (std::size_t i = 1; i < line.size(); ++i) {
    const char c = line[i];
    if (line[i - 1] == '\\')
      continue;
    if (c == '"') {
      quoted = !quoted;
    } else if (!quoted && (c == ';' || c == ':')) {
      name_end = i;
      break;
    }
  }
  if (name_end == std::string_view::npos)
    return out;
  std::string_view name = line.substr(0, name_end);
  while (!name.empty() && is_c_space(name.back()))
    name.remove_suffix(1);
  out.name = name;
  const bool begin = iequals(name, "BEGIN");
  if (begin || iequals(name, "END")) {
    out.type = begin ? content_line::kind::begin : content_line::kind::end;
    const std::size_t colon = find_unquoted(line, ':');
    if (colon != std::string_view::npos)
      for (char c : trim(line.substr(colon + 1)))
        out.component += ascii_upper(c);
  }
  return out;
}

bool is_clean_text(std::string_view s) noexcept {
  // ASCII, by far the most common, is checked first and fast.
  constexpr std::uint64_t ones = 0x0101010101010101u;
  constexpr std::uint64_t highs = 0x8080808080808080u;
  bool ascii = true;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    if (((v - ones) & ~v & highs) != 0)
      return false; // a zero byte
    ascii &= (v & highs) == 0;
  }
  for (; i < s.size(); ++i) {
    if (s[i] == '\0')
      return false;
    ascii &= static_cast<unsigned char>(s[i]) < 0x80;
  }
  return ascii || valid_utf8(s);
}

// -- logical lines ------------------------------------------------------------

logical_lines::logical_lines(std::istream &in, std::size_t line_bytes_max,
                             std::size_t component_bytes_max)
    : in_(in), line_bytes_max_(line_bytes_max),
      component_bytes_max_(component_bytes_max) {
}

/// Appends the next chunk to `buffer_`, without a leading UTF-8 byte order
/// mark; false at end of input.
bool logical_lines::fill() {
  // Read into an uninitialised chunk and append what came: resizing the
  // string by a whole chunk first would zero 64 KiB per read, however
  // small the input.
  if (!chunk_)
    chunk_.reset(new char[chunk_bytes]);
  while (!end_of_stream_) {
    in_.read(chunk_.get(), static_cast<std::streamsize>(chunk_bytes));
    const auto got =
        static_cast<std::size_t>(std::max<std::streamsize>(in_.gcount(), 0));
    bytes_ += got;
    buffer_.append(chunk_.get(), got);
    if (got == 0) {
      end_of_stream_ = true;
      return false;
    }
    if (!started_) {
      started_ = true;
      if (buffer_.compare(position_, 3, "\xEF\xBB\xBF") == 0)
        position_ += 3;
    }
    if (position_ < buffer_.size())
      return true;
  }
  return false;
}

/// Reads one physical line (formats/physical_lines.hpp).
bool logical_lines::read_line(physical_line &l) {
  return detail::read_physical_line(buffer_, position_, line_, l,
                                    line_bytes_max_, component_bytes_max_,
                                    "iCalendar", [this] { return fill(); });
}

bool logical_lines::peek_physical() {
  if (!has_look_)
    has_look_ = read_line(look_);
  return has_look_;
}

/// Reads one logical line: a physical line and the following ones that
/// start with a space or tab, that character removed (RFC 5545 3.1). At
/// most component_bytes_max of its text is kept; a longer line is
/// reported through its byte count.
bool logical_lines::read_logical(logical_line &l) {
  if (!peek_physical())
    return false;
  std::swap(current_, look_);
  has_look_ = false;
  const std::size_t keep = component_bytes_max_;
  l.number = current_.number;
  l.bytes = current_.bytes;
  l.overflow_line = current_.overflow ? current_.number : 0;
  std::swap(l.text, current_.text); // no copy: `current_` is refilled anyway
  if (l.text.size() > keep)
    l.text.resize(keep);
  while (peek_physical() && !look_.text.empty() &&
         (look_.text.front() == ' ' || look_.text.front() == '\t')) {
    std::swap(current_, look_);
    has_look_ = false;
    l.bytes += current_.bytes;
    if (current_.overflow && l.overflow_line == 0)
      l.overflow_line = current_.number;
    const std::size_t room = keep - std::min(keep, l.text.size());
    l.text.append(current_.text, 1, room);
  }
  return true;
}

bool logical_lines::peek() {
  if (!has_next_)
    has_next_ = read_logical(next_line_);
  return has_next_;
}

logical_line &logical_lines::take() {
  std::swap(taken_, next_line_);
  has_next_ = false;
  return taken_;
}

} // namespace catchup::icalendar_detail
