// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdexcept>
#include <string>

#include "messages/error_codes.hpp"

namespace catchup::storage {

/// The one exception type that leaves `storage/`. It carries an engine error
/// code so that actors can turn it into a `caf::error` without inspecting
/// libpqxx types, which never appear outside this folder.
class storage_error : public std::runtime_error {
public:
  storage_error(ec code, const std::string& what)
    : std::runtime_error(what), code_(code) {
    // nop
  }

  /// The classification of the failure (retryable or not, and why).
  ec code() const noexcept {
    return code_;
  }

private:
  ec code_;
};

} // namespace catchup::storage
