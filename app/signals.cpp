// SPDX-License-Identifier: Apache-2.0
#include "app/signals.hpp"

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <pthread.h>
#include <string>
#include <thread>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace catchup::app {

namespace {

std::mutex cleanup_mutex;
std::atomic<bool> interrupted{false};
std::function<int(int)> cleanup_fn;
std::function<void()> hangup_fn;

} // namespace

void install_signal_thread() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread{[set] {
    int sig = 0;
    for (;;) {
      sigwait(&set, &sig);
      if (sig != SIGHUP)
        break;
      std::function<void()> reload;
      {
        std::lock_guard<std::mutex> guard{cleanup_mutex};
        reload = hangup_fn;
      }
      if (reload)
        reload();
    }
    interrupted = true;
    spdlog::warn("interrupted by signal {}, cleaning up", sig);
    // The cleanup (a graceful shutdown may take its grace period) runs on
    // a thread of its own, so a second SIGINT or SIGTERM still ends the
    // process at once.
    std::thread{[sig] {
      int code = 128 + sig;
      std::function<int(int)> cleanup;
      {
        std::lock_guard<std::mutex> guard{cleanup_mutex};
        cleanup = cleanup_fn;
      }
      if (cleanup) {
        auto chosen = cleanup(sig);
        if (chosen >= 0)
          code = chosen;
      }
      spdlog::default_logger()->flush();
      std::fflush(stdout);
      std::_Exit(code);
    }}.detach();
    for (;;) {
      sigwait(&set, &sig);
      if (sig == SIGHUP)
        continue;
      spdlog::warn("signal {} during the shutdown: exiting now", sig);
      spdlog::default_logger()->flush();
      std::_Exit(128 + sig);
    }
  }}.detach();
}

void on_interrupt(std::function<void()> cleanup) {
  std::lock_guard<std::mutex> guard{cleanup_mutex};
  if (!cleanup) {
    cleanup_fn = nullptr;
    return;
  }
  cleanup_fn = [cleanup = std::move(cleanup)](int) {
    cleanup();
    return -1;
  };
}

void on_interrupt_exit(std::function<int(int)> shutdown) {
  std::lock_guard<std::mutex> guard{cleanup_mutex};
  cleanup_fn = std::move(shutdown);
}

int finish(int exit_code) {
  if (interrupted.load()) {
    // The signal thread cleans up and ends the process with its own code;
    // returning from main now would race it (and exit with this one).
    for (;;)
      std::this_thread::sleep_for(std::chrono::hours(1));
  }
  return exit_code;
}

void on_hangup(std::function<void()> reload) {
  std::lock_guard<std::mutex> guard{cleanup_mutex};
  hangup_fn = std::move(reload);
}

} // namespace catchup::app
