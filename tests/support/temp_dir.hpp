// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

namespace catchup::test {

/// A fresh directory under /tmp, removed with everything in it on
/// destruction. Mode 0755, so that PostgreSQL's service user can pass
/// through it when the tests run as root.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  /// `path() + "/" + name`.
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

private:
  std::string path_;
};

} // namespace catchup::test
