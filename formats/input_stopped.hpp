// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one error that ends a file reader (vCard, CSV, iCalendar) before the
// end of its input. Every other problem costs one item: the reader reports
// it and goes on at the next item. This one leaves no next item to go on
// to: a physical line that runs past the largest item without a line
// ending (/dev/zero, a binary file, a stream that never sends a newline)
// would otherwise be scanned for ever, at full speed, in bounded memory.

#include <cstddef>
#include <stdexcept>
#include <string>

namespace catchup {

class input_stopped : public std::runtime_error {
public:
  input_stopped(std::size_t line, const std::string& reason)
    : std::runtime_error(reason), line_(line) {
    // nop
  }

  /// The physical line (1-based) where reading stopped.
  std::size_t line() const noexcept {
    return line_;
  }

private:
  std::size_t line_;
};

/// A physical line longer than this many times the largest item ends the
/// reader. Lines between one and four items long still cost only their
/// item (reported, skipped), as before: a broken card or record followed by
/// good ones is an item problem; four items' worth of bytes without a
/// single line ending is not a file of the format at all.
inline constexpr std::size_t runaway_line_items = 4;

/// The bytes a physical line may run before the reader stops.
inline std::size_t runaway_line_bytes(std::size_t item_bytes_max) {
  return item_bytes_max * runaway_line_items;
}

/// "a line runs on past N bytes without a line ending; ...".
inline std::string runaway_line_reason(std::size_t item_bytes_max,
                                       const char* format_name) {
  return "a line runs on past "
         + std::to_string(runaway_line_bytes(item_bytes_max))
         + " bytes (four times sync.item_bytes_max) without a line ending, "
           "so no "
         + format_name
         + " item can hold it: this is not a text file of that format; "
           "the rest of the input is not read";
}

} // namespace catchup
