// SPDX-License-Identifier: Apache-2.0
#include "app/signals.hpp"

#include <csignal>
#include <cstdlib>
#include <mutex>
#include <pthread.h>
#include <thread>

#include <spdlog/spdlog.h>

namespace catchup::app {

namespace {

std::mutex cleanup_mutex;
std::function<void()> cleanup_fn;

} // namespace

void install_signal_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread{[set] {
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::warn("interrupted by signal {}, cleaning up", sig);
    {
      std::lock_guard<std::mutex> guard{cleanup_mutex};
      if (cleanup_fn)
        cleanup_fn();
    }
    spdlog::default_logger()->flush();
    std::_Exit(128 + sig);
  }}.detach();
}

void on_interrupt(std::function<void()> cleanup) {
  std::lock_guard<std::mutex> guard{cleanup_mutex};
  cleanup_fn = std::move(cleanup);
}

} // namespace catchup::app
