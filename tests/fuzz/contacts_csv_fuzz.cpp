// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the contacts CSV reader: reads every record of the
// input with the default limits and with tiny ones, so oversized records,
// field limits and resynchronisation are reached quickly too. Built and run
// by
//   ./dev.sh fuzz [SECONDS]
// (all three targets, into build-fuzz/, seeded with copies of the real
// sample CSV exports); by hand, from the repository root:
//   clang++ -std=c++17 -fsanitize=fuzzer,address,undefined -I.
//           tests/fuzz/contacts_csv_fuzz.cpp formats/contacts_csv.cpp
//           core/utf8.cpp -o /tmp/contacts_csv_fuzz
// and run it with real CSV exports copied outside the repository as seeds.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>

#include "formats/contacts_csv.hpp"
#include "formats/input_stopped.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const catchup::csv_limits limits :
       {catchup::csv_limits{}, catchup::csv_limits{128, 8}}) {
    std::istringstream in{text};
    catchup::contacts_csv_reader reader{in, limits};
    catchup::vcard card;
    std::optional<catchup::vcard_error> error;
    std::size_t calls = 0;
    for (;;) {
      try {
        if (!reader.next(card, error))
          break;
      } catch (const catchup::input_stopped &) {
        // A line without end: the one error that ends the reader, by design.
        break;
      }
      // Every call consumes input: never more records than bytes (+1).
      if (++calls > size + 1)
        __builtin_trap();
      if (error && error->excerpt.size() > 60)
        __builtin_trap();
    }
    if (reader.bytes_read() > size)
      __builtin_trap();
  }
  return 0;
}
