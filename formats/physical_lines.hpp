// SPDX-License-Identifier: Apache-2.0
#pragma once

// The physical-line splitter the vCard and iCalendar readers share: lines
// ended by LF (a CR before it dropped), each kept up to a byte limit with
// the rest flagged as overflow, and a line that runs past four items'
// bytes without an ending stops the reader (`input_stopped`). The reader
// owns the buffer it fills (it may transcode or strip a byte order mark
// first); this only cuts it.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "core/assert.hpp"
#include "formats/input_stopped.hpp"

namespace catchup::detail {

struct physical_line {
  std::string text;
  /// 1-based.
  std::size_t number = 0;
  /// Raw bytes taken, line ending included.
  std::size_t bytes = 0;
  /// Longer than the line limit; `text` holds its start only.
  bool overflow = false;
};

/// Cuts the next physical line of `buffer` (from `position`) into `l`,
/// counting it in `line`, and calls `fill()` (which appends to `buffer` and
/// returns false at the end of input) when the buffer runs out. Keeps at most `line_bytes_max` (+2 for CR CR while
/// cutting) of the text. @returns false at the end of input.
/// @throws input_stopped on a line longer than
/// `runaway_line_bytes(item_bytes_max)` without an ending.
template <class Fill>
bool read_physical_line(std::string& buffer, std::size_t& position,
                        std::size_t& line, physical_line& l,
                        std::size_t line_bytes_max, std::size_t item_bytes_max,
                        const char* format, Fill&& fill) {
  l.text.clear();
  l.overflow = false;
  l.bytes = 0;
  const std::size_t cap = line_bytes_max + 2;
  bool any = false;
  for (;;) {
    CATCHUP_ASSERT(position <= buffer.size(),
                   "the read position stays within the buffer");
    if (position >= buffer.size()) {
      buffer.clear();
      position = 0;
      if (!fill())
        break;
    }
    const char* start = buffer.data() + position;
    const std::size_t available = buffer.size() - position;
    const void* newline = std::memchr(start, '\n', available);
    const std::size_t segment
      = newline != nullptr ? static_cast<std::size_t>(
          static_cast<const char*>(newline) - start)
                           : available;
    any = true;
    const std::size_t room = cap - std::min(cap, l.text.size());
    if (segment > room) {
      l.text.append(start, room);
      l.overflow = true;
    } else {
      l.text.append(start, segment);
    }
    CATCHUP_ASSERT(l.text.size() <= cap, "a line keeps at most its cap");
    l.bytes += segment;
    if (newline != nullptr) {
      position += segment + 1;
      l.bytes += 1;
      break;
    }
    position += segment;
    // No item can hold a line this long: stop rather than scan an endless
    // one (/dev/zero) for ever.
    if (l.bytes > runaway_line_bytes(item_bytes_max))
      throw input_stopped(line + 1,
                          runaway_line_reason(item_bytes_max, format));
  }
  CATCHUP_ASSERT(position <= buffer.size(),
                 "the read position stays within the buffer");
  if (!any)
    return false;
  while (!l.text.empty() && l.text.back() == '\r')
    l.text.pop_back();
  if (l.text.size() > line_bytes_max) {
    l.overflow = true;
    l.text.resize(line_bytes_max);
  }
  CATCHUP_ASSERT(l.text.size() <= line_bytes_max,
                 "a line keeps at most line_bytes_max bytes");
  l.number = ++line;
  return true;
}

} // namespace catchup::detail
