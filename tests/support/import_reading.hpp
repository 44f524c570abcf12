// SPDX-License-Identifier: Apache-2.0
#pragma once

// Helpers of the import reader tests (vCard, CSV): read a whole input into
// cards and errors, and find the real sample exports.

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "formats/vcard.hpp"

namespace catchup::test {

/// What one whole read gave: the good cards and the errors, in order, and
/// where the reader ended.
struct read_result {
  std::vector<vcard> cards;
  std::vector<vcard_error> errors;
  std::size_t lines = 0;
  std::uint64_t bytes = 0;
};

/// Reads all of `in` with a `Reader` (vcard_reader, contacts_csv_reader).
template <class Reader, class Limits>
read_result read_all(std::istream& in, Limits limits) {
  read_result result;
  Reader reader{in, limits};
  vcard card;
  std::optional<vcard_error> error;
  while (reader.next(card, error)) {
    if (error)
      result.errors.push_back(*error);
    else
      result.cards.push_back(card);
  }
  result.lines = reader.line();
  result.bytes = reader.bytes_read();
  return result;
}

template <class Reader, class Limits>
read_result read_text(const std::string& text, Limits limits) {
  std::istringstream in{text};
  return read_all<Reader>(in, limits);
}

/// The one item of `text`, which must read without an error.
template <class Reader, class Limits>
vcard read_one(const std::string& text, Limits limits) {
  auto r = read_text<Reader>(text, limits);
  BOOST_REQUIRE_EQUAL(r.errors.size(), 0u);
  BOOST_REQUIRE_EQUAL(r.cards.size(), 1u);
  return r.cards.front();
}

/// `real/<kind>` of the shared sample data: CUTEST_DATA_DIR (set by CTest),
/// else ../shared/data beside the project when a test is run by hand.
inline std::filesystem::path real_data_dir(const std::string& kind) {
  if (const char* dir = std::getenv("CUTEST_DATA_DIR"); dir && *dir)
    return std::filesystem::path{dir} / "real" / kind;
  auto project
    = std::filesystem::path{__FILE__}.parent_path().parent_path().parent_path();
  return project / ".." / "shared" / "data" / "real" / kind;
}

/// Reads the real sample `name` of `kind` whole.
template <class Reader, class Limits>
read_result read_real(const std::string& kind, const std::string& name,
                      Limits limits) {
  auto path = real_data_dir(kind) / name;
  std::ifstream in{path, std::ios::binary};
  BOOST_REQUIRE_MESSAGE(in, "cannot open " << path);
  return read_all<Reader>(in, limits);
}

} // namespace catchup::test
