// SPDX-License-Identifier: Apache-2.0
#include "storage/process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

constexpr std::size_t output_bytes_max = 64 * 1024;

// The child's side of run_process: the pipe as stdout and stderr, /dev/null
// as stdin, the service user, then the program. Only async-signal-safe
// calls: the parent may have other threads.
[[noreturn]] void exec_child(int write_fd, std::vector<char*>& args,
                             const std::optional<run_as>& user) {
  setpgid(0, 0);
  // The parent may block signals (the CLI handles them in one thread);
  // the mask survives exec, and a server must receive its stop signals.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  dup2(write_fd, STDOUT_FILENO);
  dup2(write_fd, STDERR_FILENO);
  int devnull = open("/dev/null", O_RDONLY);
  if (devnull >= 0)
    dup2(devnull, STDIN_FILENO);
  if (user) {
    if (setgroups(0, nullptr) != 0 || setgid(user->gid) != 0
        || setuid(user->uid) != 0) {
      const char msg[] = "cannot switch to the service user\n";
      (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
      _exit(126);
    }
  }
  execv(args[0], args.data());
  const char msg[] = "cannot execute program\n";
  (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
  _exit(127);
}

// Reads the child's output (its first output_bytes_max bytes are kept)
// until the pipe closes, or kills its process group at the deadline.
void collect_output(int read_fd, pid_t pid, std::chrono::milliseconds timeout,
                    process_result& result) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0) {
      // The whole process group: pg_ctl forks helpers of its own.
      kill(-pid, SIGKILL);
      result.timed_out = true;
      return;
    }
    pollfd pfd{read_fd, POLLIN, 0};
    auto ready = poll(&pfd, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0)
      continue;
    auto n = read(read_fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return; // EOF: the child (and whatever inherited the pipe) is done
    if (result.output.size() < output_bytes_max)
      result.output.append(buf, static_cast<std::size_t>(n));
  }
}

// Waits for the child; its exit code, or 128 + the signal that ended it.
int wait_exit_code(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    // retry
  }
  if (WIFEXITED(status))
    return WEXITSTATUS(status);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return 0;
}

} // namespace

process_result run_process(const std::vector<std::string>& argv,
                           const std::optional<run_as>& user,
                           std::chrono::milliseconds timeout) {
  if (argv.empty())
    throw storage_error(ec::invalid_input, "run_process: empty command");
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0)
    throw storage_error(ec::db_unavailable,
                        std::string{"cannot create pipe: "}
                          + std::strerror(errno));
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  auto pid = fork();
  if (pid < 0) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    throw storage_error(ec::db_unavailable,
                        std::string{"cannot fork: "} + std::strerror(errno));
  }
  if (pid == 0)
    exec_child(pipe_fds[1], args, user);
  close(pipe_fds[1]);
  process_result result;
  collect_output(pipe_fds[0], pid, timeout, result);
  close(pipe_fds[0]);
  result.exit_code = wait_exit_code(pid);
  return result;
}

} // namespace catchup::storage
