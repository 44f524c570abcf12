// SPDX-License-Identifier: Apache-2.0
#include "adapters/http_url.hpp"

#include <algorithm>

namespace catchup {

namespace {

bool is_ascii_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9');
}

bool is_hex_digit(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
         || (c >= 'A' && c <= 'F');
}

std::string ascii_lowercase(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  return out;
}

// Splits "host[:port]" or "[v6][:port]" into `url`; false when either part
// is not valid. IPv6 literals as httplib reads them: hex digits and colons.
bool split_host_port(std::string_view s, http_url& url) {
  std::string_view host = s;
  std::string_view port;
  bool has_port = false;
  if (!s.empty() && s.front() == '[') {
    const auto close = s.find(']');
    if (close == std::string_view::npos || close == 1)
      return false;
    host = s.substr(1, close - 1);
    for (char c : host)
      if (!(c == ':' || is_hex_digit(c)))
        return false;
    const auto rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':')
        return false;
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    const auto colon = s.find(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      has_port = true;
    }
    if (host.empty())
      return false;
    for (char c : host)
      if (!(is_ascii_alnum(c) || c == '-' || c == '.' || c == '_'))
        return false;
  }
  if (has_port && (port.empty() || port.size() > 5))
    return false;
  int number = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return false;
    number = number * 10 + (c - '0');
  }
  if (has_port && (number < 1 || number > 65535))
    return false;
  url.host = ascii_lowercase(host);
  url.port = has_port ? number : (url.https() ? 443 : 80);
  return true;
}

} // namespace

std::string http_url::authority() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string http_url::origin() const {
  return scheme + "://" + authority();
}

std::string http_url::target() const {
  std::string out = path.empty() ? "/" : path;
  if (!query.empty())
    out += "?" + query;
  return out;
}

std::string http_url::text() const {
  return origin() + target();
}

std::string http_url::text_without_query() const {
  return origin() + (path.empty() ? "/" : path);
}

std::optional<http_url> parse_http_url(std::string_view text,
                                       std::string& problem) {
  auto fail = [&](const char* why) -> std::optional<http_url> {
    problem = why;
    return std::nullopt;
  };
  for (char c : text)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return fail("a URL holds no blank or control character");
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos)
    return fail("not an absolute URL");
  http_url url;
  url.scheme = ascii_lowercase(text.substr(0, scheme_end));
  if (url.scheme != "https" && url.scheme != "http")
    return fail("the scheme must be https (or http)");
  auto rest = text.substr(scheme_end + 3);
  if (const auto hash = rest.find('#'); hash != std::string_view::npos)
    rest = rest.substr(0, hash);
  const auto authority_end = rest.find_first_of("/?");
  const auto authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos)
    return fail("credentials in the URL are not accepted");
  if (!split_host_port(authority, url))
    return fail("the host or port is not valid");
  if (authority_end != std::string_view::npos) {
    auto path_and_query = rest.substr(authority_end);
    const auto question = path_and_query.find('?');
    url.path = std::string{path_and_query.substr(0, question)};
    if (question != std::string_view::npos)
      url.query = std::string{path_and_query.substr(question + 1)};
  }
  return url;
}

std::optional<http_url> resolve_location(const http_url& base,
                                         std::string_view location,
                                         std::string& problem) {
  if (location.empty()) {
    problem = "the Location header is empty";
    return std::nullopt;
  }
  if (location.find("://") != std::string_view::npos
      && location.find("://") < location.find_first_of("/?#"))
    return parse_http_url(location, problem);
  if (location.substr(0, 2) == "//")
    return parse_http_url(base.scheme + ":" + std::string{location}, problem);
  std::string path;
  if (location.front() == '/') {
    path = std::string{location};
  } else {
    // Relative to the base's directory: "b?x" from "/a/c" is "/a/b?x".
    const auto slash = base.path.rfind('/');
    path = (slash == std::string::npos ? std::string{"/"}
                                       : base.path.substr(0, slash + 1))
           + std::string{location};
  }
  return parse_http_url(base.origin() + path, problem);
}

} // namespace catchup
