// SPDX-License-Identifier: Apache-2.0
#include "formats/contact_import.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <string_view>

namespace catchup {

namespace {

std::string lower_ascii(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

/// The host of `url` in lower case without "www.", or "" when it has none.
std::string host_of(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    // "linkedin.com/in/x" without a scheme still names its site.
    if (url.find('.') == std::string_view::npos
        || url.find(' ') != std::string_view::npos)
      return {};
  } else {
    url.remove_prefix(scheme + 3);
  }
  auto end = url.find_first_of("/?#:");
  auto host = lower_ascii(url.substr(0, end));
  if (host.compare(0, 4, "www.") == 0)
    host.erase(0, 4);
  return host;
}

bool site_is(const std::string& host, std::string_view domain) {
  if (host == domain)
    return true;
  return host.size() > domain.size()
         && host.compare(host.size() - domain.size(), domain.size(), domain)
              == 0
         && host[host.size() - domain.size() - 1] == '.';
}

void place_url(const std::string& url, imported_contact& out) {
  auto host = host_of(url);
  auto set_first = [&](std::string& field) {
    if (field.empty())
      field = url;
    else
      out.other_profiles.emplace_back(host, url);
  };
  if (site_is(host, "linkedin.com"))
    set_first(out.linked_in);
  else if (site_is(host, "instagram.com"))
    set_first(out.instagram);
  else if (site_is(host, "x.com") || site_is(host, "twitter.com"))
    set_first(out.x_handle);
  else
    out.other_profiles.emplace_back(host.empty() ? "web" : host, url);
}

std::string first_of(const std::vector<std::string>& values) {
  for (auto& v : values)
    if (!v.empty())
      return v;
  return {};
}

} // namespace

std::string derived_contact_key(const std::string& name,
                                const std::string& email,
                                const std::string& phone) {
  // FNV-1a: stable across builds and platforms, unlike std::hash, so a key
  // written by one version finds its contact in the next.
  std::uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff; // separator, so ("ab","c") and ("a","bc") differ
    h *= 1099511628211ULL;
  };
  mix(name);
  mix(lower_ascii(email));
  std::string digits;
  for (char c : phone)
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '+')
      digits += c;
  mix(digits);
  char text[17];
  std::snprintf(text, sizeof text, "%016llx",
                static_cast<unsigned long long>(h));
  return std::string{"derived:"} + text;
}

bool to_imported_contact(const vcard& card, imported_contact& out,
                         std::string& reason) {
  out = imported_contact{};
  out.email = first_of(card.emails);
  out.phone = first_of(card.phones);
  if (!card.formatted_name.empty()) {
    out.name = card.formatted_name;
  } else if (!card.given_name.empty() || !card.family_name.empty()) {
    out.name = card.given_name;
    if (!card.given_name.empty() && !card.family_name.empty())
      out.name += ' ';
    out.name += card.family_name;
  } else if (!card.organization.empty()) {
    out.name = card.organization;
  } else if (!out.email.empty()) {
    out.name = out.email;
  } else if (!out.phone.empty()) {
    out.name = out.phone;
  } else {
    reason = "card has no name, organisation, e-mail or phone";
    return false;
  }
  out.key = card.uid.empty()
              ? derived_contact_key(out.name, out.email, out.phone)
              : card.uid;
  out.location = card.locality;
  out.organization = card.organization;
  out.notes = card.note;
  out.revision = card.revision;
  out.dates = card.dates;
  for (auto& url : card.urls)
    if (!url.empty())
      place_url(url, out);
  for (auto& group : card.categories) {
    if (group.empty()
        || std::find(out.groups.begin(), out.groups.end(), group)
             != out.groups.end())
      continue;
    out.groups.push_back(group);
  }
  return true;
}

} // namespace catchup
