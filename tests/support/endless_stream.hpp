// SPDX-License-Identifier: Apache-2.0
#pragma once

// An input that never ends, like /dev/zero or a peer that sends bytes for
// ever: one byte repeated, counted, in a fixed buffer.

#include <cstdint>
#include <cstring>
#include <streambuf>

namespace catchup::test {

class endless_buffer : public std::streambuf {
public:
  explicit endless_buffer(char byte = '\0') {
    std::memset(chunk_, byte, sizeof chunk_);
  }

  /// Bytes handed to the reader so far.
  std::uint64_t bytes_served() const {
    return served_;
  }

protected:
  int_type underflow() override {
    served_ += sizeof chunk_;
    setg(chunk_, chunk_, chunk_ + sizeof chunk_);
    return traits_type::to_int_type(chunk_[0]);
  }

private:
  char chunk_[4096];
  std::uint64_t served_ = 0;
};

} // namespace catchup::test
