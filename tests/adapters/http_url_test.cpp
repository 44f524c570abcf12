// SPDX-License-Identifier: Apache-2.0
// The URL parser every outbound request goes through: what it accepts and
// how it splits it, what it refuses and why, and how a redirect's Location
// resolves against the URL it answered.

#include <boost/test/unit_test.hpp>

#include <string>

#include "adapters/http_url.hpp"

using namespace catchup;

namespace {

http_url parsed(const std::string& text) {
  std::string problem;
  auto url = parse_http_url(text, problem);
  BOOST_REQUIRE_MESSAGE(url, text << ": " << problem);
  return *url;
}

std::string refused(const std::string& text) {
  std::string problem;
  auto url = parse_http_url(text, problem);
  BOOST_CHECK_MESSAGE(!url, text << " was accepted");
  return problem;
}

http_url resolved(const std::string& base, const std::string& location) {
  std::string problem;
  auto url = resolve_location(parsed(base), location, problem);
  BOOST_REQUIRE_MESSAGE(url, location << ": " << problem);
  return *url;
}

} // namespace

BOOST_AUTO_TEST_SUITE(adapters_http_url)

BOOST_AUTO_TEST_CASE(urls_split_into_scheme_host_port_path_and_query) {
  auto url = parsed("HTTPS://Example.COM/v1/a%20b?x=1&y=2#frag");
  BOOST_TEST(url.scheme == "https");
  BOOST_TEST(url.host == "example.com");
  BOOST_TEST(url.port == 443);
  BOOST_TEST(url.path == "/v1/a%20b");
  BOOST_TEST(url.query == "x=1&y=2");
  BOOST_TEST(url.target() == "/v1/a%20b?x=1&y=2");
  BOOST_TEST(url.authority() == "example.com:443");
  BOOST_TEST(url.text_without_query() == "https://example.com:443/v1/a%20b");

  auto plain = parsed("http://127.0.0.1:8080");
  BOOST_TEST(plain.port == 8080);
  BOOST_TEST(plain.target() == "/");
  BOOST_TEST(parsed("http://host?q").path.empty());
  BOOST_TEST(parsed("http://host?q").query == "q");

  auto v6 = parsed("http://[::1]:9000/x");
  BOOST_TEST(v6.host == "::1");
  BOOST_TEST(v6.authority() == "[::1]:9000");
}

BOOST_AUTO_TEST_CASE(what_is_no_http_url_is_refused_with_the_reason) {
  BOOST_TEST(refused("example.com/path") == "not an absolute URL");
  BOOST_TEST(refused("ftp://example.com") == "the scheme must be https (or http)");
  BOOST_TEST(refused("https://user:secret@example.com")
             == "credentials in the URL are not accepted");
  BOOST_TEST(refused("https://exa mple.com").find("blank") != std::string::npos);
  BOOST_TEST(refused("https://example.com/a\r\nHost: x").find("control")
             != std::string::npos);
  for (const char* bad :
       {"https://", "https://:80", "https://host:", "https://host:0",
        "https://host:65536", "https://host:123456", "https://host:8x",
        "https://[::1", "https://[]:80", "https://[::g]",
        "https://h%41st"})
    BOOST_TEST(!refused(bad).empty(), bad);
}

BOOST_AUTO_TEST_CASE(a_location_resolves_against_the_url_it_answered) {
  const std::string base = "https://api.example/v1/items/list?page=2";
  BOOST_TEST(resolved(base, "https://other.example/x").text()
             == "https://other.example:443/x");
  BOOST_TEST(resolved(base, "//cdn.example/y?z").text()
             == "https://cdn.example:443/y?z");
  BOOST_TEST(resolved(base, "/root?q=1").text()
             == "https://api.example:443/root?q=1");
  BOOST_TEST(resolved(base, "next?page=3").text()
             == "https://api.example:443/v1/items/next?page=3");
  BOOST_TEST(resolved(base, "/search?u=http://x").host == "api.example");

  std::string problem;
  BOOST_TEST(!resolve_location(parsed(base), "", problem));
  BOOST_TEST(!resolve_location(parsed(base), "gopher://x/", problem));
}

BOOST_AUTO_TEST_SUITE_END()
