// SPDX-License-Identifier: Apache-2.0
#include "storage/embedded_cluster.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <sys/file.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "storage/storage_error.hpp"
#include "storage/process.hpp"

namespace fs = std::filesystem;

namespace catchup::storage {

namespace {

// The unix socket's port number when no TCP port is configured. The socket
// lives in the data directory, so it never collides with a system server.
constexpr int default_socket_port = 5432;

// sockaddr_un::sun_path holds 108 bytes including the terminating NUL.
constexpr std::size_t socket_path_bytes_max = 107;

constexpr const char* superuser = "catchup";
constexpr const char* database_name = "catchup";
constexpr const char* owner_file = "catchup.owner";
constexpr const char* settings_file = "catchup.conf";
constexpr const char* log_file = "server.log";
constexpr const char* hba_file = "catchup_hba.conf";
constexpr const char* password_file = "catchup.password";
/// Random bytes of the superuser's password (hex-encoded in its file).
constexpr std::size_t password_random_bytes = 24;

[[noreturn]] void fail(const std::string& what) {
  throw storage_error(ec::db_unavailable, what);
}

bool is_executable(const fs::path& p) {
  return access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p);
}

bool has_server_binaries(const fs::path& dir) {
  return is_executable(dir / "initdb") && is_executable(dir / "pg_ctl")
         && is_executable(dir / "postgres");
}

// Finds initdb/pg_ctl: the configured directory, else the newest Debian
// versioned directory, else PATH.
std::string find_bin_dir(const std::string& configured) {
  if (!configured.empty()) {
    if (has_server_binaries(configured))
      return fs::absolute(configured).string();
    fail("PostgreSQL server binaries not found: database.pg_bin_dir = "
         + configured + " has no executable initdb, pg_ctl and postgres");
  }
  std::vector<std::pair<int, fs::path>> candidates;
  std::error_code err;
  for (auto& entry : fs::directory_iterator("/usr/lib/postgresql", err)) {
    auto name = entry.path().filename().string();
    if (!name.empty()
        && std::all_of(name.begin(), name.end(), ::isdigit))
      candidates.emplace_back(std::stoi(name), entry.path() / "bin");
  }
  std::sort(candidates.rbegin(), candidates.rend());
  for (auto& [version, dir] : candidates)
    if (version >= 15 && has_server_binaries(dir))
      return dir.string();
  if (auto* path = std::getenv("PATH")) {
    std::stringstream in{path};
    std::string dir;
    while (std::getline(in, dir, ':'))
      if (!dir.empty() && has_server_binaries(dir))
        return dir;
  }
  fail("PostgreSQL server binaries not found: no initdb, pg_ctl and postgres "
       "in /usr/lib/postgresql/<version>/bin (version 15 or later) or on "
       "PATH; install them with 'apt-get install postgresql-15', set "
       "database.pg_bin_dir, or set database.url to use an existing server");
}

std::optional<run_as> service_user_for(const std::string& name) {
  if (geteuid() != 0)
    return std::nullopt;
  auto* pw = getpwnam(name.c_str());
  if (pw == nullptr)
    fail("catchup runs as root, and PostgreSQL refuses to run as root, but "
         "the service user '" + name + "' (database.service_user) does not "
         "exist; create it with 'useradd --system " + name
         + "' or choose another user");
  return run_as{pw->pw_uid, pw->pw_gid, name};
}

std::string read_first_line(const fs::path& p) {
  std::ifstream in{p};
  std::string line;
  std::getline(in, line);
  return line;
}

bool process_alive(std::int64_t pid) {
  return pid > 0
         && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// The directory a process runs in; a postmaster and all its children run in
// their data directory, which tells ours apart from a recycled PID.
std::string process_cwd(std::int64_t pid) {
  std::error_code err;
  auto target = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", err);
  return err ? std::string{} : target.string();
}

std::string process_name(std::int64_t pid) {
  return read_first_line("/proc/" + std::to_string(pid) + "/comm");
}

// Holds an exclusive lock on a file beside the data directory, so that two
// processes never initialise, start or stop the same cluster at once.
class dir_lock {
public:
  dir_lock(const std::string& data_dir, std::chrono::milliseconds timeout) {
    auto path = data_dir + ".lock";
    fs::create_directories(fs::path{path}.parent_path());
    fd_ = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
      fail("cannot open lock file " + path + ": " + std::strerror(errno));
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        close(fd_);
        fail("timed out waiting for lock file " + path
             + " (another catchup process is starting or stopping the "
               "cluster)");
      }
      // flock has no timed wait; another process holds it for seconds at
      // most, so a short poll costs nothing.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~dir_lock() {
    close(fd_);
  }
  dir_lock(const dir_lock&) = delete;
  dir_lock& operator=(const dir_lock&) = delete;

private:
  int fd_ = -1;
};

void chown_to(const fs::path& p, const std::optional<run_as>& user) {
  if (user && chown(p.c_str(), user->uid, user->gid) != 0)
    fail("cannot hand " + p.string() + " to user " + user->name + ": "
         + std::strerror(errno));
}

// Clears what a killed server left in its data directory.
void clear_leftovers(const std::string& data_dir) {
  auto pid_file = fs::path{data_dir} / "postmaster.pid";
  if (fs::exists(pid_file)) {
    // A killed run left the pid file behind, and its PID may now belong to
    // another process, which would make PostgreSQL refuse to start.
    spdlog::warn("removing stale {} (PID {} is not a PostgreSQL server for "
                 "this directory)", pid_file.string(),
                 read_first_line(pid_file));
    fs::remove(pid_file);
  }
  // Backends of a killed postmaster linger for a moment and still hold its
  // shared memory; they run in our data directory and serve no one now.
  for (auto& entry : fs::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit))
      continue;
    auto pid = std::stoll(name);
    if (process_cwd(pid) == data_dir && process_name(pid) == "postgres")
      kill(static_cast<pid_t>(pid), SIGKILL);
  }
}

// Writes the server's settings and client authentication files, rewritten
// on every start, and hands them to the service user.
void write_server_settings(const std::string& data_dir, bool tcp, int port,
                           const std::optional<run_as>& user) {
  fs::path dir{data_dir};
  {
    std::ofstream conf{dir / settings_file, std::ios::trunc};
    conf << "listen_addresses = '" << (tcp ? "localhost" : "") << "'\n"
         << "port = " << port << "\n"
         << "unix_socket_directories = '" << data_dir << "'\n"
         << "unix_socket_permissions = 0700\n"
         << "hba_file = '" << (dir / hba_file).string() << "'\n"
         << "password_encryption = 'scram-sha-256'\n"
         << "timezone = 'UTC'\n"
         << "log_timezone = 'UTC'\n";
    if (!conf)
      fail("cannot write " + (dir / settings_file).string());
  }
  chown_to(dir / settings_file, user);
  {
    // A TCP port (database.tcp_port) must not open the cluster to every
    // local user: over TCP the superuser's password is required, and a
    // role without one cannot log in over TCP at all.
    std::ofstream hba{dir / hba_file, std::ios::trunc};
    hba << "# Written by the catchup engine on every start.\n"
        << "# The socket is in the 0700 data directory: its owner only.\n"
        << "local all all trust\n"
        << "# TCP: the password in " << password_file << " (mode 0600).\n"
        << "host all all 127.0.0.1/32 scram-sha-256\n"
        << "host all all ::1/128 scram-sha-256\n";
    if (!hba)
      fail("cannot write " + (dir / hba_file).string());
  }
  chown_to(dir / hba_file, user);
}

bool user_can_write(const std::string& dir, const run_as& user) {
  auto probe = run_process({"/usr/bin/test", "-w", dir}, user,
                           std::chrono::seconds(10));
  return probe.exit_code == 0;
}

// The server runs as the service user, so every parent directory of the
// data directory must let that user through. A private home such as /root
// (mode 0700) does not; rather than fail, grant that one user search
// permission (x only: it can pass through, not list or read) with a POSIX
// ACL on exactly the directories that block it, and say so in the log.
void ensure_reachable(const std::string& data_dir, const run_as& user) {
  if (user_can_write(data_dir, user))
    return;
  std::string setfacl;
  for (auto* candidate : {"/usr/bin/setfacl", "/bin/setfacl"})
    if (access(candidate, X_OK) == 0)
      setfacl = candidate;
  std::vector<fs::path> blocking;
  for (auto p = fs::path{data_dir}.parent_path(); p != p.root_path();
       p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0)
      continue;
    bool passes = (st.st_mode & S_IXOTH) != 0
                  || (st.st_uid == user.uid && (st.st_mode & S_IXUSR) != 0)
                  || (st.st_gid == user.gid && (st.st_mode & S_IXGRP) != 0);
    if (!passes)
      blocking.push_back(p);
  }
  if (!setfacl.empty()) {
    for (auto& dir : blocking) {
      auto r = run_process({setfacl, "-m", "u:" + user.name + ":x",
                            dir.string()},
                           std::nullopt, std::chrono::seconds(10));
      if (r.exit_code == 0)
        spdlog::warn("granted user {} search permission (ACL u:{}:x) on {} "
                     "so that it can reach the data directory {}",
                     user.name, user.name, dir.string(), data_dir);
    }
  }
  if (!user_can_write(data_dir, user))
    fail("user " + user.name + " (database.service_user) cannot reach "
         + data_dir + ": a parent directory is not searchable by it"
         + (setfacl.empty() ? " and setfacl (package acl) is not installed"
                            : "")
         + "; choose a database.data_dir it can reach, or run catchup as "
           "an ordinary user");
}

} // namespace

const char* to_string(cluster_state state) {
  switch (state) {
    case cluster_state::absent: return "absent";
    case cluster_state::stopped: return "stopped";
    case cluster_state::running: return "running";
  }
  return "unknown";
}

std::string uri_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0x0F];
    }
  }
  return out;
}

embedded_cluster::embedded_cluster(embedded_cluster_options options)
  : options_(std::move(options)) {
  if (options_.data_dir.empty())
    fail("database.data_dir is empty");
  data_dir_ = fs::weakly_canonical(fs::absolute(options_.data_dir)).string();
  bin_dir_ = find_bin_dir(options_.pg_bin_dir);
  auto port = options_.tcp_port > 0 ? options_.tcp_port : default_socket_port;
  auto socket = data_dir_ + "/.s.PGSQL." + std::to_string(port);
  if (socket.size() > socket_path_bytes_max)
    fail("the data directory path is too long for a unix socket ("
         + std::to_string(socket.size()) + " bytes, at most "
         + std::to_string(socket_path_bytes_max) + "): " + socket
         + "; choose a shorter database.data_dir");
}

embedded_cluster::~embedded_cluster() {
  if (!owned_)
    return;
  try {
    stop();
  } catch (const std::exception& e) {
    spdlog::error("cannot stop the private PostgreSQL cluster in {}: {}",
                  data_dir_, e.what());
  }
}

std::string embedded_cluster::url() const {
  auto port = options_.tcp_port > 0 ? options_.tcp_port : default_socket_port;
  return std::string{"postgresql:///"} + database_name
         + "?host=" + uri_encode(data_dir_) + "&port=" + std::to_string(port)
         + "&user=" + superuser;
}

std::optional<std::int64_t> embedded_cluster::running_pid() const {
  auto line = read_first_line(fs::path{data_dir_} / "postmaster.pid");
  if (line.empty())
    return std::nullopt;
  std::int64_t pid = 0;
  try {
    pid = std::stoll(line);
  } catch (...) {
    return std::nullopt;
  }
  if (!process_alive(pid))
    return std::nullopt;
  auto cwd = process_cwd(pid);
  if (!cwd.empty())
    return cwd == data_dir_ ? std::optional{pid} : std::nullopt;
  // Without permission to read its cwd, trust the process name.
  return process_name(pid) == "postgres" ? std::optional{pid} : std::nullopt;
}

cluster_status embedded_cluster::status() const {
  cluster_status result;
  result.data_dir = data_dir_;
  result.url = url();
  if (!fs::exists(fs::path{data_dir_} / "PG_VERSION"))
    return result;
  if (fs::exists(password_file_path()))
    result.password_file = password_file_path();
  result.pid = running_pid();
  result.state = result.pid ? cluster_state::running : cluster_state::stopped;
  if (result.pid)
    result.owner = read_owner();
  return result;
}

void embedded_cluster::write_owner(const std::string& owner) {
  auto path = fs::path{data_dir_} / owner_file;
  std::ofstream out{path, std::ios::trunc};
  out << owner << '\n';
  if (!out)
    fail("cannot write " + path.string());
}

std::string embedded_cluster::read_owner() const {
  return read_first_line(fs::path{data_dir_} / owner_file);
}

std::string embedded_cluster::log_tail() const {
  std::ifstream in{fs::path{data_dir_} / log_file};
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > 8)
      lines.erase(lines.begin());
  }
  std::string out;
  for (auto& l : lines)
    out += "\n  " + l;
  return out;
}

void embedded_cluster::initdb() {
  auto user = service_user_for(options_.service_user);
  fs::path dir{data_dir_};
  std::error_code err;
  fs::create_directories(dir, err);
  if (err)
    fail("cannot create data directory " + data_dir_ + ": " + err.message());
  if (!fs::is_empty(dir))
    fail("cannot create a PostgreSQL cluster in " + data_dir_
         + ": the directory is not empty and holds no cluster (no "
           "PG_VERSION); empty it or choose another database.data_dir");
  fs::permissions(dir, fs::perms::owner_all, err);
  chown_to(dir, user);
  if (user)
    ensure_reachable(data_dir_, *user);
  auto result = run_process(
    // The socket lives in the 0700 data directory, so only its owner (and
    // root) reaches it: trust there. TCP needs the password (see
    // ensure_password); catchup_hba.conf, rewritten on every start, says the
    // same for clusters made before.
    {bin_dir_ + "/initdb", "-D", data_dir_, "-U", superuser,
     "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
     "--locale=C", "--no-instructions"},
    user, options_.start_timeout);
  if (result.exit_code != 0 || result.timed_out)
    fail("initdb failed for " + data_dir_
         + (result.timed_out ? " (timed out)" : "") + ":\n" + result.output);
  // Our settings live in their own file, rewritten on every start, so a
  // changed TCP port takes effect without editing postgresql.conf.
  std::ofstream conf{dir / "postgresql.conf", std::ios::app};
  conf << "\n# Settings of the catchup engine, rewritten on every start.\n"
       << "include_if_exists = '" << settings_file << "'\n";
  if (!conf)
    fail("cannot append to " + (dir / "postgresql.conf").string());
  spdlog::info("created a private PostgreSQL cluster in {}", data_dir_);
}

void embedded_cluster::create_database() {
  auto port = options_.tcp_port > 0 ? options_.tcp_port : default_socket_port;
  auto admin_url = std::string{"postgresql:///postgres?host="}
                   + uri_encode(data_dir_) + "&port=" + std::to_string(port)
                   + "&user=" + superuser;
  try {
    pqxx::connection conn{admin_url};
    pqxx::nontransaction tx{conn};
    auto exists = tx.exec_params(
      "SELECT 1 FROM pg_database WHERE datname = $1", database_name);
    if (exists.empty())
      tx.exec0(std::string{"CREATE DATABASE "} + database_name);
    ensure_password(tx);
  } catch (const pqxx::sql_error& e) {
    // Another process may have created it between our check and CREATE.
    if (e.sqlstate() != "42P04")
      fail(std::string{"cannot create the engine's database: "} + e.what());
  } catch (const std::exception& e) {
    fail(std::string{"cannot connect to the private cluster: "} + e.what());
  }
}

std::string embedded_cluster::password_file_path() const {
  return (fs::path{data_dir_} / password_file).string();
}

// Gives the superuser a random password, once, and writes it to a 0600
// file in the data directory for clients that connect over TCP. A cluster
// made before (trust on TCP) gets one on its next start.
void embedded_cluster::ensure_password(pqxx::transaction_base& tx) {
  auto path = password_file_path();
  if (!read_first_line(path).empty())
    return;
  unsigned char random[password_random_bytes];
  {
    std::ifstream urandom{"/dev/urandom", std::ios::binary};
    urandom.read(reinterpret_cast<char*>(random), sizeof random);
    if (!urandom)
      fail("cannot read /dev/urandom for the cluster's password");
  }
  static const char* hex = "0123456789abcdef";
  std::string password;
  for (unsigned char c : random) {
    password += hex[c >> 4];
    password += hex[c & 0x0F];
  }
  // Created 0600 before a byte is written, so the password is never
  // readable by others, not even for a moment.
  ::unlink(path.c_str());
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    fail("cannot create " + path + ": " + std::strerror(errno));
  auto line = password + "\n";
  bool written = ::write(fd, line.data(), line.size())
                 == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!written)
    fail("cannot write " + path + ": " + std::strerror(errno));
  chown_to(path, service_user_for(options_.service_user));
  tx.exec0(std::string{"ALTER ROLE "} + superuser + " PASSWORD "
           + tx.quote(password));
  spdlog::info("the private cluster's superuser password is in {} (0600)",
               path);
}

bool embedded_cluster::start() {
  return start_impl(false);
}

bool embedded_cluster::start_detached() {
  return start_impl(true);
}

bool embedded_cluster::start_impl(bool detached) {
  dir_lock lock{data_dir_, options_.start_timeout};
  auto self = std::to_string(getpid());
  if (!fs::exists(fs::path{data_dir_} / "PG_VERSION"))
    initdb();
  if (auto pid = running_pid()) {
    auto owner = read_owner();
    if (detached) {
      write_owner("manual");
      owned_ = false;
    } else if (owner != "manual" && !owner.empty()
               && !process_alive(std::stoll(owner))) {
      // The run that started this server died without stopping it: adopt
      // the server so that it is stopped when we are done.
      spdlog::info("adopting the PostgreSQL server (PID {}) left running by "
                   "process {}", *pid, owner);
      write_owner(self);
      owned_ = true;
    }
    create_database();
    return false;
  }
  auto user = service_user_for(options_.service_user);
  if (user)
    ensure_reachable(data_dir_, *user);
  clear_leftovers(data_dir_);
  auto port = options_.tcp_port > 0 ? options_.tcp_port : default_socket_port;
  write_server_settings(data_dir_, options_.tcp_port > 0, port, user);
  fs::path dir{data_dir_};
  auto timeout_s = std::max<std::int64_t>(
    1, std::chrono::duration_cast<std::chrono::seconds>(options_.start_timeout)
         .count());
  auto result = run_process({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-l",
                             (dir / log_file).string(), "-w", "-t",
                             std::to_string(timeout_s), "-s", "start"},
                            user,
                            options_.start_timeout + std::chrono::seconds(5));
  if (result.exit_code != 0 || result.timed_out)
    fail("cannot start PostgreSQL in " + data_dir_ + ": pg_ctl "
         + (result.timed_out ? "timed out" : "failed") + ": " + result.output
         + "\nserver log (" + (dir / log_file).string() + "):" + log_tail());
  write_owner(detached ? "manual" : self);
  owned_ = !detached;
  spdlog::info("started PostgreSQL in {} ({})", data_dir_,
               options_.tcp_port > 0 ? "unix socket and localhost:"
                                         + std::to_string(port)
                                     : std::string{"unix socket only"});
  create_database();
  return true;
}

bool embedded_cluster::stop() {
  dir_lock lock{data_dir_, options_.start_timeout};
  owned_ = false;
  if (!running_pid())
    return false;
  auto user = service_user_for(options_.service_user);
  auto timeout_s = std::max<std::int64_t>(
    1, std::chrono::duration_cast<std::chrono::seconds>(options_.start_timeout)
         .count());
  auto result = run_process({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m",
                             "fast", "-w", "-t", std::to_string(timeout_s),
                             "-s", "stop"},
                            user,
                            options_.start_timeout + std::chrono::seconds(5));
  if (result.exit_code != 0 || result.timed_out)
    fail("cannot stop PostgreSQL in " + data_dir_ + ": " + result.output);
  std::error_code err;
  fs::remove(fs::path{data_dir_} / owner_file, err);
  spdlog::info("stopped PostgreSQL in {}", data_dir_);
  return true;
}

} // namespace catchup::storage
