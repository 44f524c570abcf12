// SPDX-License-Identifier: Apache-2.0
#pragma once

// How an imported card (vCard, CSV row or Google person, all read as
// `vcard`) becomes the fields of one contact: which name it goes by, which
// key finds it again on the next import, and where its profile links go.

#include <string>
#include <utility>
#include <vector>

#include "core/imported_contact.hpp"
#include "formats/vcard.hpp"

namespace catchup {

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
