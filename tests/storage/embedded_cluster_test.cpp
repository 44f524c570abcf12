// SPDX-License-Identifier: Apache-2.0
// The private PostgreSQL cluster: created on first start, shared and reused,
// stopped by its owner, restarted after a killed run's stale pid file, and a
// clear error when the binaries are missing. Each case uses its own real
// cluster in a temporary directory.

#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "storage/database.hpp"
#include "storage/embedded_cluster.hpp"
#include "storage/storage_error.hpp"
#include "tests/support/temp_dir.hpp"

using namespace catchup;
using namespace catchup::storage;
namespace fs = std::filesystem;

namespace catchup::storage {

std::ostream& operator<<(std::ostream& out, cluster_state state) {
  return out << to_string(state);
}

} // namespace catchup::storage

namespace {

struct fixture {
  test::temp_dir dir;

  embedded_cluster_options options() const {
    embedded_cluster_options opts;
    opts.data_dir = dir / "pg";
    return opts;
  }

  // Stops whatever a test left running, so no server outlives its test.
  ~fixture() {
    try {
      embedded_cluster{options()}.stop();
    } catch (...) {
      // nothing to stop
    }
  }

  static std::string error_of(const std::function<void()>& f) {
    try {
      f();
    } catch (const storage_error& e) {
      return e.what();
    }
    return "";
  }
};

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(storage_embedded_cluster, fixture)

BOOST_AUTO_TEST_CASE(first_start_creates_the_cluster_on_a_unix_socket) {
  embedded_cluster cluster{options()};
  BOOST_TEST(cluster.status().state == cluster_state::absent);
  BOOST_TEST(cluster.start());
  auto st = cluster.status();
  BOOST_TEST(st.state == cluster_state::running);
  BOOST_REQUIRE(st.pid.has_value());
  BOOST_TEST(st.owner == std::to_string(getpid()));
  BOOST_TEST(fs::exists(dir / "pg/.s.PGSQL.5432"));
  ping(cluster.url());
  // No TCP listener unless asked for.
  std::ifstream conf{dir / "pg/catchup.conf"};
  std::string first;
  std::getline(conf, first);
  BOOST_TEST(first == "listen_addresses = ''");
}

BOOST_AUTO_TEST_CASE(a_second_engine_reuses_the_running_server) {
  embedded_cluster first{options()};
  BOOST_TEST(first.start());
  auto pid = first.status().pid;
  {
    embedded_cluster second{options()};
    BOOST_TEST(!second.start());
    BOOST_TEST((second.status().pid == pid));
    ping(second.url());
  } // the second engine did not start it, so it must not stop it
  BOOST_TEST(first.status().state == cluster_state::running);
  ping(first.url());
}

BOOST_AUTO_TEST_CASE(the_owner_stops_the_server_when_it_goes_away) {
  {
    embedded_cluster cluster{options()};
    cluster.start();
  }
  embedded_cluster probe{options()};
  BOOST_TEST(probe.status().state == cluster_state::stopped);
}

BOOST_AUTO_TEST_CASE(a_detached_server_outlives_its_starter_until_stopped) {
  {
    embedded_cluster cluster{options()};
    BOOST_TEST(cluster.start_detached());
  }
  embedded_cluster cluster{options()};
  auto st = cluster.status();
  BOOST_TEST(st.state == cluster_state::running);
  BOOST_TEST(st.owner == "manual");
  {
    embedded_cluster user{options()};
    BOOST_TEST(!user.start());
  }
  BOOST_TEST(cluster.status().state == cluster_state::running);
  BOOST_TEST(cluster.stop());
  BOOST_TEST(cluster.status().state == cluster_state::stopped);
  BOOST_TEST(!cluster.stop());
}

BOOST_AUTO_TEST_CASE(restarts_after_a_stale_pid_file_naming_a_live_process) {
  {
    embedded_cluster cluster{options()};
    cluster.start();
  }
  // A killed run can leave postmaster.pid behind, and its PID may be reused
  // by an unrelated process: here, this test process.
  {
    std::ofstream pid_file{dir / "pg/postmaster.pid"};
    pid_file << getpid() << "\n" << (dir / "pg") << "\n";
  }
  embedded_cluster cluster{options()};
  BOOST_TEST(cluster.status().state == cluster_state::stopped);
  BOOST_TEST(cluster.start());
  ping(cluster.url());
}

BOOST_AUTO_TEST_CASE(restarts_after_the_server_was_killed) {
  embedded_cluster cluster{options()};
  cluster.start();
  auto pid = *cluster.status().pid;
  BOOST_REQUIRE_EQUAL(kill(static_cast<pid_t>(pid), SIGKILL), 0);
  // The postmaster is not our child; wait until the kernel has removed it.
  while (kill(static_cast<pid_t>(pid), 0) == 0)
    std::this_thread::yield();
  BOOST_TEST(fs::exists(dir / "pg/postmaster.pid"));
  BOOST_TEST(cluster.status().state == cluster_state::stopped);
  BOOST_TEST(cluster.start());
  ping(cluster.url());
}

BOOST_AUTO_TEST_CASE(a_server_left_by_a_dead_run_is_adopted_and_stopped) {
  {
    embedded_cluster cluster{options()};
    cluster.start_detached();
  }
  // Pretend a run that has exited started it: a PID that cannot be alive.
  {
    std::ofstream owner{dir / "pg/catchup.owner"};
    owner << 999999999 << "\n";
  }
  {
    embedded_cluster cluster{options()};
    BOOST_TEST(!cluster.start());
    BOOST_TEST(cluster.status().owner == std::to_string(getpid()));
  }
  BOOST_TEST(embedded_cluster{options()}.status().state
             == cluster_state::stopped);
}

BOOST_AUTO_TEST_CASE(missing_binaries_give_a_clear_error) {
  auto opts = options();
  opts.pg_bin_dir = dir / "no-such-bin";
  auto msg = error_of([&] { embedded_cluster{opts}; });
  BOOST_TEST(contains(msg, "PostgreSQL server binaries not found"));
  BOOST_TEST(contains(msg, opts.pg_bin_dir));
  fs::create_directories(dir / "empty-bin");
  opts.pg_bin_dir = dir / "empty-bin";
  msg = error_of([&] { embedded_cluster{opts}; });
  BOOST_TEST(contains(msg, "has no executable initdb, pg_ctl and postgres"));
}

BOOST_AUTO_TEST_CASE(refuses_a_non_empty_directory_without_a_cluster) {
  fs::create_directories(dir / "pg");
  std::ofstream{dir / "pg/precious.txt"} << "user data\n";
  embedded_cluster cluster{options()};
  auto msg = error_of([&] { cluster.start(); });
  BOOST_TEST(contains(msg, "the directory is not empty"));
  BOOST_TEST(fs::exists(dir / "pg/precious.txt"));
}

BOOST_AUTO_TEST_CASE(refuses_a_data_dir_too_long_for_a_unix_socket) {
  auto opts = options();
  opts.data_dir = dir / std::string(120, 'x');
  auto msg = error_of([&] { embedded_cluster{opts}; });
  BOOST_TEST(contains(msg, "too long for a unix socket"));
}

BOOST_AUTO_TEST_CASE(a_tcp_port_is_opened_only_when_asked) {
  auto opts = options();
  opts.tcp_port = 54329;
  embedded_cluster cluster{opts};
  cluster.start();
  // Over TCP the superuser needs the generated password: a TCP port does
  // not open the cluster to every local user.
  const auto password_file = cluster.password_file_path();
  BOOST_TEST(cluster.status().password_file == password_file);
  BOOST_TEST(((fs::status(password_file).permissions() & fs::perms::all)
              == (fs::perms::owner_read | fs::perms::owner_write)));
  std::string password;
  std::getline(std::ifstream{password_file}, password);
  BOOST_TEST(password.size() == 48u);
  auto refused = error_of([] {
    ping("postgresql://catchup@127.0.0.1:54329/catchup");
  });
  BOOST_TEST(contains(refused, "password"), refused);
  auto wrong = error_of([] {
    ping("postgresql://catchup:guess@127.0.0.1:54329/catchup");
  });
  BOOST_TEST(contains(wrong, "password authentication failed"), wrong);
  ping("postgresql://catchup:" + password + "@127.0.0.1:54329/catchup");
  // The socket, in the 0700 data directory, needs none.
  ping(cluster.url());
  BOOST_TEST(fs::exists(dir / "pg/.s.PGSQL.54329"));
  BOOST_TEST(((fs::status(dir / "pg").permissions() & fs::perms::all)
              == fs::perms::owner_all));
  cluster.stop();
  // A restart keeps the password.
  cluster.start();
  ping("postgresql://catchup:" + password + "@127.0.0.1:54329/catchup");
  cluster.stop();
}

BOOST_AUTO_TEST_SUITE_END()
