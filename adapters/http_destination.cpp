// SPDX-License-Identifier: Apache-2.0
#include "adapters/http_destination.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace catchup {

namespace {

constexpr std::uint32_t ipv4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

struct ipv4_range {
  std::uint32_t first;
  int prefix_bits;
  const char* kind;
};

// IANA's IPv4 special-purpose registry, less the ranges that are meant to
// be reached (none of its "globally reachable" ones are listed).
constexpr ipv4_range ipv4_special[] = {
  {ipv4(0, 0, 0, 0), 8, "unspecified"},
  {ipv4(10, 0, 0, 0), 8, "private"},
  {ipv4(100, 64, 0, 0), 10, "shared (carrier-grade NAT)"},
  {ipv4(127, 0, 0, 0), 8, "loopback"},
  {ipv4(169, 254, 0, 0), 16, "link-local"},
  {ipv4(172, 16, 0, 0), 12, "private"},
  {ipv4(192, 0, 0, 0), 24, "reserved"},
  {ipv4(192, 0, 2, 0), 24, "documentation"},
  {ipv4(192, 168, 0, 0), 16, "private"},
  {ipv4(198, 18, 0, 0), 15, "reserved"},
  {ipv4(198, 51, 100, 0), 24, "documentation"},
  {ipv4(203, 0, 113, 0), 24, "documentation"},
  {ipv4(224, 0, 0, 0), 4, "multicast"},
  {ipv4(240, 0, 0, 0), 4, "reserved"},
};

std::optional<std::string> ipv4_kind(std::uint32_t address) {
  for (const auto& range : ipv4_special) {
    const std::uint32_t mask = ~std::uint32_t{0} << (32 - range.prefix_bits);
    if ((address & mask) == range.first)
      return std::string{range.kind};
  }
  return std::nullopt;
}

std::uint32_t ipv4_at(const std::array<std::uint8_t, 16>& b, std::size_t i) {
  return (std::uint32_t{b[i]} << 24) | (std::uint32_t{b[i + 1]} << 16)
         | (std::uint32_t{b[i + 2]} << 8) | std::uint32_t{b[i + 3]};
}

bool starts_with(const std::array<std::uint8_t, 16>& b,
                 std::initializer_list<std::uint8_t> prefix) {
  return std::equal(prefix.begin(), prefix.end(), b.begin());
}

std::optional<std::string> ipv6_kind(const std::array<std::uint8_t, 16>& b) {
  const bool zero_96 = std::all_of(b.begin(), b.begin() + 12,
                                   [](std::uint8_t x) { return x == 0; });
  if (zero_96) {
    const auto low = ipv4_at(b, 12);
    if (low == 0)
      return std::string{"unspecified"};
    if (low == 1)
      return std::string{"loopback"};
    // ::a.b.c.d, IPv4-compatible addresses, deprecated since 2006.
    return std::string{"reserved"};
  }
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses
  // reach their IPv4 address; 6to4 (2002:a.b.c.d::) too.
  if (starts_with(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff})
      || starts_with(b, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0}))
    return ipv4_kind(ipv4_at(b, 12));
  if (starts_with(b, {0x20, 0x02}))
    return ipv4_kind(ipv4_at(b, 2));
  if (b[0] == 0xff)
    return std::string{"multicast"};
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
    return std::string{"link-local"};
  // fc00::/7 unique local, and fec0::/10, the site-local addresses it
  // replaced.
  if ((b[0] & 0xfe) == 0xfc || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0))
    return std::string{"private"};
  if (starts_with(b, {0x20, 0x01, 0x0d, 0xb8}))
    return std::string{"documentation"};
  // Everything outside 2000::/3, global unicast, is reserved or special.
  if ((b[0] & 0xe0) != 0x20)
    return std::string{"reserved"};
  return std::nullopt;
}

std::string address_text(const sockaddr* address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &v4->sin_addr, buffer, sizeof buffer);
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    inet_ntop(AF_INET6, &v6->sin6_addr, buffer, sizeof buffer);
  }
  return buffer;
}

} // namespace

std::optional<std::string> special_address_kind(std::string_view address) {
  const std::string text{address};
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1)
    return ipv4_kind(ntohl(v4.s_addr));
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &v6, bytes.size());
    return ipv6_kind(bytes);
  }
  return std::nullopt;
}

bool names_address_literally(std::string_view host) {
  const std::string text{host};
  in_addr v4{};
  in6_addr v6{};
  return host == "localhost" || inet_pton(AF_INET, text.c_str(), &v4) == 1
         || inet_pton(AF_INET6, text.c_str(), &v6) == 1;
}

resolved_host resolve_host(const std::string& host, int port) {
  resolved_host out;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* list = nullptr;
  const auto service = std::to_string(port);
  const int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &list);
  if (rc != 0) {
    out.problem = gai_strerror(rc);
    return out;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner{list,
                                                           freeaddrinfo};
  for (const addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    auto text = address_text(entry->ai_addr);
    if (!text.empty()
        && std::find(out.addresses.begin(), out.addresses.end(), text)
             == out.addresses.end())
      out.addresses.push_back(std::move(text));
  }
  if (out.addresses.empty())
    out.problem = "no IPv4 or IPv6 address";
  return out;
}

std::optional<std::string>
destination_problem(const http_destination_policy& policy,
                    const std::string& host,
                    const std::vector<std::string>& addresses) {
  if (policy.private_allowed)
    return std::nullopt;
  const auto& allowed = policy.private_hosts_allowed;
  if (std::find(allowed.begin(), allowed.end(), host) != allowed.end())
    return std::nullopt;
  for (const auto& address : addresses) {
    auto kind = special_address_kind(address);
    if (!kind)
      continue;
    const auto article
      = std::string{"aeiou"}.find((*kind)[0]) == std::string::npos ? "a "
                                                                    : "an ";
    if (address == host)
      return address + " is " + article + *kind + " address";
    return "it resolves to " + address + ", " + article + *kind + " address";
  }
  return std::nullopt;
}

} // namespace catchup
