// SPDX-License-Identifier: Apache-2.0
#pragma once

// How an imported card (vCard, CSV row or Google person, all read as
// `vcard`) becomes the fields of one contact: which name it goes by, which
// key finds it again on the next import, and where its profile links go.

#include <string>
#include <utility>
#include <vector>

#include "core/vcard.hpp"

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
  /// Where the item starts in its input: the card's first physical line
  /// (files, 1-based) or its index within its page (API), for errors.
  std::size_t position = 0;
};

/// Maps `card` to the contact fields. The name is FN, else "given family",
/// else the organisation, else the first e-mail, else the first phone.
/// @returns false with `reason` set when the card has none of these, so
/// there is nothing to show the contact as.
bool to_imported_contact(const vcard& card, imported_contact& out,
                         std::string& reason);

/// The key of a card without UID (see `imported_contact::key`).
std::string derived_contact_key(const std::string& name,
                                const std::string& email,
                                const std::string& phone);

} // namespace catchup
