// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace catchup::test {

/// Starts `n` threads released at the same instant (each runs f(i)), joins
/// them and rethrows the first exception one of them threw, so that
/// Boost.Test assertions stay on the calling thread.
inline void run_together(int n, const std::function<void(int)>& f) {
  std::atomic<int> ready{0};
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i)
    threads.emplace_back([&, i] {
      ready += 1;
      while (ready.load() < n)
        std::this_thread::yield();
      try {
        f(i);
      } catch (...) {
        errors[static_cast<std::size_t>(i)] = std::current_exception();
      }
    });
  for (auto& t : threads)
    t.join();
  for (auto& e : errors)
    if (e)
      std::rethrow_exception(e);
}

} // namespace catchup::test
