// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one parser of the URLs the engine sends requests to: configured
// endpoints, the targets of redirects, later webhooks. Strict on purpose:
// only absolute http:// and https:// URLs, no user information (a password
// in a URL ends up in logs), no blanks or control characters, a host that is
// a DNS name or an IP literal and a port in 1..65535. The path and query are
// kept as written: the caller percent-encodes them, exactly once.

#include <optional>
#include <string>
#include <string_view>

namespace catchup {

/// An absolute http(s) URL in parts.
struct http_url {
  /// "https" or "http", lower case.
  std::string scheme;
  /// A DNS name or an IPv4 literal as written, or an IPv6 literal without
  /// its brackets.
  std::string host;
  /// The port connected to: the URL's, else 443 or 80.
  int port = 0;
  /// "" or "/...", as written.
  std::string path;
  /// What follows '?', without it; empty for none.
  std::string query;

  bool https() const noexcept {
    return scheme == "https";
  }
  /// "host:port" ("[v6]:port"): what errors name and connections are
  /// pooled by, with the scheme (see `origin`).
  std::string authority() const;
  /// "scheme://host:port".
  std::string origin() const;
  /// The request target: the path ("/" when empty) and the query.
  std::string target() const;
  /// origin() + target().
  std::string text() const;
  /// The URL without its query, which may carry secrets: what an error
  /// message may quote.
  std::string text_without_query() const;
};

/// Parses `text` as an absolute http:// or https:// URL. A fragment is
/// dropped (it is never sent). Returns nothing and sets `problem` to the
/// reason (one phrase, without the URL) when `text` is not one.
std::optional<http_url> parse_http_url(std::string_view text,
                                       std::string& problem);

/// Where a redirect's Location header points, resolved against the URL it
/// answered (absolute, scheme-relative "//host/path", absolute path or a
/// path relative to the base's directory). Returns nothing and sets
/// `problem` when the result is not a URL `parse_http_url` accepts.
std::optional<http_url> resolve_location(const http_url& base,
                                         std::string_view location,
                                         std::string& problem);

} // namespace catchup
