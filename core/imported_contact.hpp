// SPDX-License-Identifier: Apache-2.0
#pragma once

// The fields of one contact as an import writes them, whatever it was read
// from (a vCard, a CSV row, a Google person): what storage merges and what
// the field check screens. Reading and mapping live in formats/.

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/contact_date.hpp"

namespace catchup {

/// The contact fields an import writes. It never writes what the user
/// keeps in the app (last contact date, frequency, archive, circle).
struct imported_contact {
  /// What finds the contact again on the next import of its source: the
  /// card's UID or Google resource name; for a card without one,
  /// "derived:" and a stable hash of its name, first e-mail and first phone
  /// (so re-importing the same file updates instead of duplicating, and a
  /// card whose e-mail changed becomes a new contact).
  std::string key;
  std::string name;
  /// The first e-mail and phone of the card: the contact row has one of
  /// each; the rest are not kept.
  std::string email;
  std::string phone;
  std::string linked_in;
  std::string instagram;
  std::string x_handle;
  /// Other profile links as (site, URL), site being the host without
  /// "www." ("github.com"), or "web" for a link without a host.
  std::vector<std::pair<std::string, std::string>> other_profiles;
  std::string location;
  std::string organization;
  std::string notes;
  std::string revision;
  /// Group names (CATEGORIES / Google contact groups), deduplicated.
  std::vector<std::string> groups;
  /// Birthday and anniversary, at most one of each kind. An import writes
  /// the kinds given and leaves a stored date of a kind not given alone.
  std::vector<contact_date> dates;
  /// Where the item starts in its input: the card's first physical line
  /// (files, 1-based) or its index within its page (API), for errors.
  std::size_t position = 0;
};

} // namespace catchup
