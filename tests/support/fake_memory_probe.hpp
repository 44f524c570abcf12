// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>

#include "core/memory.hpp"

namespace catchup::test {

/// A memory probe whose figures the test sets: either one value, or a
/// script of values taken one per sample (the last one then stays).
/// Thread-safe: the supervisor samples on its own thread.
class fake_memory_probe : public memory_probe {
public:
  /// From now on every sample reads `allocated_bytes`.
  void set(std::int64_t allocated_bytes) {
    std::lock_guard<std::mutex> guard{mtx_};
    script_.assign(1, allocated_bytes);
  }

  /// The next samples read these values in order; the last one stays.
  void script(std::deque<std::int64_t> values) {
    std::lock_guard<std::mutex> guard{mtx_};
    script_ = std::move(values);
  }

  memory_sample sample() override {
    std::lock_guard<std::mutex> guard{mtx_};
    ++samples_;
    auto bytes = script_.empty() ? 0 : script_.front();
    if (script_.size() > 1)
      script_.pop_front();
    return {bytes, bytes + resident_extra_bytes};
  }

  void release_free_memory() override {
    std::lock_guard<std::mutex> guard{mtx_};
    ++releases_;
  }

  std::int64_t samples() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return samples_;
  }

  std::int64_t releases() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return releases_;
  }

  /// Resident bytes reported above the allocated ones.
  static constexpr std::int64_t resident_extra_bytes = 1024;

private:
  mutable std::mutex mtx_;
  std::deque<std::int64_t> script_{0};
  std::int64_t samples_ = 0;
  std::int64_t releases_ = 0;
};

} // namespace catchup::test
