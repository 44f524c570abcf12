// SPDX-License-Identifier: Apache-2.0
// catchup::result<T> as the documentation uses it: the loop over
// `*engine.suggestions(user)` iterates a value that lives as long as the
// loop, never a reference into the destroyed temporary (AddressSanitizer
// would report the read).

#include <boost/test/unit_test.hpp>

#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <catchup/catchup.hpp>

namespace {

using names = catchup::result<std::vector<std::string>>;

names make_names() {
  // Longer than any small-string buffer: the characters live on the heap.
  return std::vector<std::string>{std::string(40, 'a'), std::string(40, 'b')};
}

names make_failure() {
  return catchup::error{catchup::error_code::not_found, "no such user"};
}

} // namespace

BOOST_AUTO_TEST_SUITE(api_result)

BOOST_AUTO_TEST_CASE(a_temporary_result_hands_out_its_value_not_a_reference) {
  static_assert(!std::is_reference_v<decltype(*make_names())>);
  static_assert(!std::is_reference_v<decltype(make_names().value())>);
  // A named result still hands out references, no copies.
  static_assert(std::is_lvalue_reference_v<decltype(*std::declval<names&>())>);
  std::string joined;
  for (auto& s : *make_names())
    joined += s;
  BOOST_TEST(joined == std::string(40, 'a') + std::string(40, 'b'));
  std::size_t count = 0;
  for (auto& s : make_names().value())
    count += s.size();
  BOOST_TEST(count == 80u);
}

BOOST_AUTO_TEST_CASE(a_failed_result_says_why_and_falls_back) {
  auto r = make_failure();
  BOOST_TEST(!r.ok());
  BOOST_TEST(r.error().message == "no such user");
  BOOST_TEST(r.value_or({"x"}).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
