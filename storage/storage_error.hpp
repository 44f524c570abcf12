// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

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

/// Throws storage_error(invalid_input, why) unless `ok`: the one way the
/// store refuses an argument out of range, with the reason it gives.
inline void require_input(bool ok, const std::string& why) {
  if (!ok)
    throw storage_error(ec::invalid_input, why);
}

/// `ids` as a PostgreSQL bigint[] literal ("{1,2,3}"), to pass a list of
/// ids as one parameter.
inline std::string bigint_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i > 0)
      out += ',';
    out += std::to_string(ids[i]);
  }
  return out + "}";
}

} // namespace catchup::storage
