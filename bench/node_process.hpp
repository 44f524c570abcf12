// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace catchup::bench {

/// A `catchup serve` child whose stdout and stderr lines the bench reads as
/// they come, to wait for what it says. Destroying it kills (SIGKILL) and
/// reaps it unless it has exited, so no exit path of the bench leaves a
/// node behind; and the kernel kills it should the bench die without
/// unwinding (PR_SET_PDEATHSIG).
class node_process {
public:
  /// Starts `argv` (no shell). Call from the main thread: the death signal
  /// fires when the thread that forked ends, not the process.
  /// @throws std::runtime_error if no pipe or process can be made.
  node_process(std::string owner, const std::vector<std::string>& argv);
  ~node_process();
  node_process(const node_process&) = delete;
  node_process& operator=(const node_process&) = delete;

  const std::string& owner() const {
    return owner_;
  }

  /// Waits until a line contains `part` (lines printed earlier count) or
  /// `timeout` passes; false on timeout or when the node's output ended.
  bool wait_for(const std::string& part, std::chrono::milliseconds timeout);

  /// The last line containing `part`, or "".
  std::string find_line(const std::string& part) const;

  /// True once the node's output ended (it exited, as a rule).
  bool output_closed() const;

  void signal(int sig);

  /// Waits up to `timeout` for the exit, then SIGKILLs it; returns the exit
  /// status, or 128 + signal.
  int wait(std::chrono::milliseconds timeout);

  /// Its last `n` lines, for error messages.
  std::string tail(std::size_t n) const;

private:
  void forget();
  void read_output();
  // Under mtx_.
  void keep(std::string line);

  std::string owner_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::thread reader_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::string> lines_;
  // Lines dropped from the front of lines_.
  std::size_t dropped_ = 0;
  bool closed_ = false;
  bool reaped_ = false;
  int status_ = 0;
};

/// SIGKILLs every node_process alive now. For an interrupt's cleanup: the
/// signal thread ends the process without unwinding, so no destructor runs.
void kill_live_nodes() noexcept;

/// The path of this process's executable (what its nodes run).
std::string own_executable();

} // namespace catchup::bench
