// SPDX-License-Identifier: Apache-2.0
#include "call_pool.hpp"

namespace catchup::api {

call_pool::call_pool(std::size_t threads, std::size_t queue_max)
  : queue_max_(queue_max) {
  threads_.reserve(threads);
  std::lock_guard<std::mutex> guard{mtx_};
  for (std::size_t i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { run(); });
    thread_ids_.push_back(threads_.back().get_id());
  }
}

bool call_pool::on_pool_thread() const noexcept {
  auto self = std::this_thread::get_id();
  for (const auto& id : thread_ids_)
    if (id == self)
      return true;
  return false;
}

call_pool::~call_pool() {
  stop();
}

call_pool::refusal call_pool::post(std::function<void()> task, bool bounded) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return refusal::stopped;
    if (bounded && tasks_.size() >= queue_max_)
      return refusal::full;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return refusal::none;
}

void call_pool::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopped_ = true;
    threads.swap(threads_); // a second stop finds nothing to join
  }
  wake_.notify_all();
  for (auto& t : threads)
    t.join();
}

void call_pool::run() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> guard{mtx_};
      wake_.wait(guard, [this] { return stopped_ || !tasks_.empty(); });
      // Waiting tasks still run after stop: each one completes its
      // caller's future or callback (with `closed`, as the engine is
      // closing by then).
      if (tasks_.empty())
        return;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    try {
      task();
    } catch (...) {
      // Tasks complete their promise or callback themselves; a throwing
      // callback must not take the pool thread down.
    }
  }
}

} // namespace catchup::api
