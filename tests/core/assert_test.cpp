// SPDX-License-Identifier: Apache-2.0
// CATCHUP_ASSERT: in a build without NDEBUG a broken invariant aborts with
// the condition, file:line and the reason; with NDEBUG neither operand is
// evaluated. The abort is observed in a forked child, whose stderr goes
// through a pipe and whose end is read with waitpid.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <string>
#include <sys/resource.h>
#include <sys/wait.h>
#include <type_traits>
#include <unistd.h>

#include "core/assert.hpp"

namespace {

#ifdef NDEBUG
constexpr bool assertions_on = false;
#else
constexpr bool assertions_on = true;
#endif

/// How a forked child that broke an invariant ended.
struct child_end {
  bool aborted = false;
  int exit_code = -1;
  std::string stderr_text;
};

// Runs `body` in a child process, its stderr captured; the child exits 0
// if `body` returns.
template <class Body>
child_end run_in_child(Body body) {
  int fds[2];
  BOOST_REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], STDERR_FILENO);
    // The abort ends the child as it would end the engine: Boost.Test's
    // handler would turn it into a failure and go on testing in the child.
    std::signal(SIGABRT, SIG_DFL);
    // An expected abort leaves no core file behind.
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    body();
    ::_exit(0);
  }
  ::close(fds[1]);
  child_end end;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    end.stderr_text.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  end.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  if (WIFEXITED(status))
    end.exit_code = WEXITSTATUS(status);
  return end;
}

} // namespace

BOOST_AUTO_TEST_SUITE(core_assert)

BOOST_AUTO_TEST_CASE(a_holding_invariant_passes_and_is_evaluated_only_when_on) {
  int evaluations = 0;
  CATCHUP_ASSERT(++evaluations == 1, "counts its evaluation");
  BOOST_TEST(evaluations == (assertions_on ? 1 : 0));
  // An expression of type void, usable wherever one is.
  static_assert(std::is_void_v<decltype(CATCHUP_ASSERT(true, "holds"))>);
}

BOOST_AUTO_TEST_CASE(a_broken_invariant_aborts_naming_where_and_why_when_on) {
  const child_end end = run_in_child([] {
    const int two = 2;
    CATCHUP_ASSERT(two + two == 5, "arithmetic still works");
  });
  if (assertions_on) {
    BOOST_TEST(end.aborted);
    BOOST_TEST(end.stderr_text.find("assert_test.cpp:") != std::string::npos,
               end.stderr_text);
    BOOST_TEST(end.stderr_text.find(
                 "assertion failed: two + two == 5 (arithmetic still works)")
                 != std::string::npos,
               end.stderr_text);
  } else {
    BOOST_TEST(!end.aborted);
    BOOST_TEST(end.exit_code == 0);
    BOOST_TEST(end.stderr_text.empty(), end.stderr_text);
  }
}

BOOST_AUTO_TEST_SUITE_END()
