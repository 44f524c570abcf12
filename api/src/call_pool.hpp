// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to api/: the threads that run the facade's asynchronous calls and
// callbacks. Not CAF's scheduler on purpose: a call blocks for as long as
// its operation runs (a generation, an import), and a callback may call
// the engine again, which on a scheduler thread would starve every actor.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace catchup::api {

class call_pool {
public:
  /// Starts `threads` threads; at most `queue_max` tasks wait for one.
  call_pool(std::size_t threads, std::size_t queue_max);
  ~call_pool();
  call_pool(const call_pool&) = delete;
  call_pool& operator=(const call_pool&) = delete;

  enum class refusal { none, full, stopped };

  /// Queues `task`; refused when the queue is full or the pool stopped.
  /// `bounded` false skips the queue limit, for the engine's own
  /// deliveries, which are bounded by their own coalescing.
  refusal post(std::function<void()> task, bool bounded = true);

  /// Refuses new tasks, runs the waiting ones, joins the threads.
  /// Idempotent; must not be called from a pool thread.
  void stop();

  /// True on one of this pool's threads.
  bool on_pool_thread() const noexcept;

private:
  void run();

  std::mutex mtx_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::size_t queue_max_;
  bool stopped_ = false;
  std::vector<std::thread> threads_;
  /// Fixed at construction, so on_pool_thread needs no lock.
  std::vector<std::thread::id> thread_ids_;
};

} // namespace catchup::api
