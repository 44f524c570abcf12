// SPDX-License-Identifier: Apache-2.0
#pragma once

// The one exception the engine's actors layer throws on purpose: a code
// of messages/error_codes.hpp and a message saying what and why, which
// api/src/convert.cpp maps to catchup::error.

#include <stdexcept>
#include <string>

#include "messages/error_codes.hpp"

namespace catchup {

/// An error of the engine facade: a code and a message saying what and why.
class engine_error : public std::runtime_error {
public:
  engine_error(ec code, const std::string& what)
    : std::runtime_error(what), code_(code) {
    // nop
  }
  ec code() const noexcept {
    return code_;
  }

private:
  ec code_;
};

} // namespace catchup
