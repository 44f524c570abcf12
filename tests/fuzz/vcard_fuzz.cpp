// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the vCard reader: reads every card of the input with
// the default limits and with small ones, so oversized lines and cards are
// reached quickly too. Built and run by
//   ./dev.sh fuzz [SECONDS]
// (all three targets, into build-fuzz/, seeded with copies of the real
// sample vCards); by hand, from the repository root:
//   clang++ -std=c++17 -fsanitize=fuzzer,address,undefined -I.
//           tests/fuzz/vcard_fuzz.cpp formats/vcard.cpp core/utf8.cpp \
//           -o /tmp/vcard_fuzz
// and run it with real vCards copied outside the repository as seeds.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "formats/input_stopped.hpp"
#include "formats/vcard.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data,
                                      std::size_t size) {
  const std::string text(reinterpret_cast<const char *>(data), size);
  for (const catchup::vcard_limits limits :
       {catchup::vcard_limits{}, catchup::vcard_limits{64, 512}}) {
    std::istringstream in{text};
    catchup::vcard_reader reader{in, limits};
    catchup::vcard card;
    std::optional<catchup::vcard_error> error;
    std::size_t previous_line = 0;
    bool stopped = false;
    for (;;) {
      try {
        if (!reader.next(card, error))
          break;
      } catch (const catchup::input_stopped &) {
        // A line without end: the one error that ends the reader, by design.
        stopped = true;
        break;
      }
      // Progress is guaranteed: every call consumes at least one line.
      if (reader.line() <= previous_line && !error)
        __builtin_trap();
      previous_line = reader.line();
      if (error && error->excerpt.size() > 60)
        __builtin_trap();
    }
    if (stopped ? reader.bytes_read() > size : reader.bytes_read() != size)
      __builtin_trap();
  }
  return 0;
}
