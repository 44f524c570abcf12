// SPDX-License-Identifier: Apache-2.0
// An input that never ends (/dev/zero, a peer that sends bytes for ever
// without a line ending) stops every file reader with an error naming the
// line, after a bounded number of bytes, instead of being scanned for ever.

#include <boost/test/unit_test.hpp>

#include <istream>
#include <optional>
#include <sstream>
#include <string>

#include "formats/contacts_csv.hpp"
#include "formats/icalendar.hpp"
#include "formats/input_stopped.hpp"
#include "formats/vcard.hpp"
#include "tests/support/endless_stream.hpp"

using namespace catchup;

namespace {

constexpr std::size_t item_bytes_max = 64 * 1024;
// What a reader may take from the source before it stops: the runaway
// bound and one buffer of each layer in between.
constexpr std::uint64_t bytes_read_max = 4 * item_bytes_max + 512 * 1024;

template <class Reader, class Item, class Error, class Limits>
std::optional<input_stopped> read_endless(char byte, Limits limits,
                                          std::uint64_t& served) {
  test::endless_buffer source{byte};
  std::istream in{&source};
  Reader reader{in, limits};
  Item item;
  std::optional<Error> error;
  try {
    while (reader.next(item, error)) {
      // items or item errors are fine; the reader must end
    }
  } catch (const input_stopped& e) {
    served = source.bytes_served();
    return e;
  }
  served = source.bytes_served();
  return std::nullopt;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(formats_endless_input)

BOOST_AUTO_TEST_CASE(a_vcard_reader_stops_on_an_endless_line) {
  vcard_limits limits;
  limits.card_bytes_max = item_bytes_max;
  for (char byte : {'\0', 'A'}) {
    std::uint64_t served = 0;
    auto stopped
      = read_endless<vcard_reader, vcard, vcard_error>(byte, limits, served);
    BOOST_REQUIRE(stopped);
    BOOST_TEST(stopped->line() == 1u);
    BOOST_TEST(contains(stopped->what(), "without a line ending"));
    BOOST_TEST(contains(stopped->what(), "vCard"));
    BOOST_TEST(served <= bytes_read_max);
  }
}

BOOST_AUTO_TEST_CASE(a_csv_reader_stops_on_an_endless_line) {
  csv_limits limits;
  limits.record_bytes_max = item_bytes_max;
  for (char byte : {'\0', 'A', '"'}) {
    std::uint64_t served = 0;
    auto stopped = read_endless<contacts_csv_reader, vcard, vcard_error>(
      byte, limits, served);
    BOOST_REQUIRE(stopped);
    BOOST_TEST(stopped->line() == 1u);
    BOOST_TEST(contains(stopped->what(), "CSV"));
    BOOST_TEST(served <= bytes_read_max);
  }
}

BOOST_AUTO_TEST_CASE(an_icalendar_reader_stops_on_an_endless_line) {
  icalendar_limits limits;
  limits.component_bytes_max = item_bytes_max;
  for (char byte : {'\0', 'A'}) {
    test::endless_buffer source{byte};
    std::istream in{&source};
    icalendar_reader reader{in, 0, 4102444800, limits};
    calendar_event_item item;
    std::optional<icalendar_error> error;
    std::optional<input_stopped> stopped;
    try {
      while (reader.next(item, error)) {
      }
    } catch (const input_stopped& e) {
      stopped = e;
    }
    BOOST_REQUIRE(stopped);
    BOOST_TEST(stopped->line() == 1u);
    BOOST_TEST(contains(stopped->what(), "iCalendar"));
    BOOST_TEST(source.bytes_served() <= bytes_read_max);
  }
}

BOOST_AUTO_TEST_CASE(a_line_of_up_to_four_items_costs_only_its_item) {
  // A broken card with a long line, then a good one: the good one is read.
  vcard_limits limits;
  limits.card_bytes_max = 1024;
  limits.line_bytes_max = 256;
  std::string text = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Long\r\nNOTE:"
                     + std::string(3000, 'x')
                     + "\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\n"
                       "FN:Good\r\nEND:VCARD\r\n";
  std::istringstream in{text};
  vcard_reader reader{in, limits};
  vcard card;
  std::optional<vcard_error> error;
  int good = 0, bad = 0;
  while (reader.next(card, error))
    error ? ++bad : ++good;
  BOOST_TEST(bad == 1);
  BOOST_TEST(good == 1);
}

BOOST_AUTO_TEST_SUITE_END()
