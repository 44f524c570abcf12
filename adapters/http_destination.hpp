// SPDX-License-Identifier: Apache-2.0
#pragma once

// Where the engine's outbound requests may go. A URL that reaches the
// engine from outside (a webhook someone registered, a redirect a server
// sent) must not turn the engine into a way into its own network: the
// loopback, private, link-local and other special-purpose ranges are
// refused unless the caller allows them. Names are resolved here and every
// address they resolve to is checked, so a name that also resolves into a
// private range is refused as a whole; the connection then goes to one of
// the addresses checked, never to a second resolution's answer.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace catchup {

/// Which destinations a client may connect to.
struct http_destination_policy {
  /// Loopback, private, link-local, shared (CGNAT), multicast, reserved
  /// and unspecified addresses: refused unless true.
  bool private_allowed = false;
  /// Hosts (lower case, as in the URL; IPv6 without brackets) that may be
  /// reached at such an address all the same, because whoever configured
  /// them named them on purpose (a local test server, an emulator).
  std::vector<std::string> private_hosts_allowed;
};

/// Why `address` (an IPv4 or IPv6 literal) is not a public unicast
/// address: "loopback", "private", "link-local", "shared (carrier-grade
/// NAT)", "multicast", "reserved", "unspecified", or "documentation";
/// nothing for a public address. IPv4-mapped IPv6 addresses are judged by
/// their IPv4 address. std::nullopt as well for a text that is no address.
std::optional<std::string> special_address_kind(std::string_view address);

/// True when `host` is an IPv4 or IPv6 literal (no brackets), or
/// "localhost", which always means the loopback (RFC 6761).
bool names_address_literally(std::string_view host);

/// The addresses `host` resolves to, as literals, in the resolver's order
/// (one each). Blocks for as long as the system's resolver takes.
struct resolved_host {
  std::vector<std::string> addresses;
  /// Why resolving failed (the resolver's message); empty on success.
  std::string problem;
};
resolved_host resolve_host(const std::string& host, int port);

/// Why `policy` refuses connecting to `host` at `addresses` ("resolves to
/// 10.0.0.7, a private address"), or nothing when it allows them all.
std::optional<std::string>
destination_problem(const http_destination_policy& policy,
                    const std::string& host,
                    const std::vector<std::string>& addresses);

} // namespace catchup
