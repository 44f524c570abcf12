// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace catchup::test {

/// A child process (no shell) whose stdout and stderr lines the test reads
/// as they come, to wait for what it says instead of sleeping.
class child_process {
public:
  explicit child_process(std::vector<std::string> argv);
  ~child_process(); // kills (SIGKILL) and reaps it if still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Waits until a line satisfies `match` (lines seen earlier count) or
  /// `timeout` passes; returns the line, or "" on timeout or end of output.
  std::string wait_for_line(const std::function<bool(const std::string&)>& match,
                            std::chrono::milliseconds timeout);

  /// Sends `signal`.
  void signal(int signal);

  /// Waits for the exit (at most `timeout`, then SIGKILL); returns the exit
  /// status, or 128 + signal.
  int wait(std::chrono::milliseconds timeout);

  /// Everything it printed so far.
  std::string output() const;

private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool closed_ = false;
  bool reaped_ = false;
  int status_ = 0;
};

} // namespace catchup::test
