// SPDX-License-Identifier: Apache-2.0
#include "tests/support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <sys/stat.h>

namespace catchup::test {

temp_dir::temp_dir() {
  // Short paths: a unix socket path must fit in 107 bytes.
  char pattern[] = "/tmp/cu-XXXXXX";
  if (mkdtemp(pattern) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  chmod(pattern, 0755);
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code err;
  std::filesystem::remove_all(path_, err);
}

} // namespace catchup::test
