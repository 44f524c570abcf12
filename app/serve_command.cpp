// SPDX-License-Identifier: Apache-2.0
// `catchup serve`: a long-running node. It takes jobs from the queue in
// PostgreSQL, schedules generation, serves /metrics, /livez, /readyz and
// /status, and on SIGTERM or SIGINT stops claiming, gives jobs in flight
// `node.shutdown_grace_ms` to finish, hands the rest back and exits 0.
// SIGHUP re-reads the configuration and applies its log level.

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <spdlog/spdlog.h>

#include <catchup/server.hpp>

#include "app/cli.hpp"
#include "app/signals.hpp"

namespace catchup::app {

namespace {

void reload_logging(const engine_config& config) {
  auto level = admin::configure_logging(config);
  if (level)
    spdlog::info("log level reloaded: {}", *level);
  else
    spdlog::error("reload failed, keeping the old settings: {}",
                  level.error().message);
}

int serve_command(const command_context& ctx) {
  auto node = server::start(ctx.config);
  if (!node)
    return report_failure(node.error());
  if (auto address = node->cluster_address(); !address.empty())
    std::printf("catchup serve: cluster endpoint %s\n", address.c_str());

  // The signal thread asks for the shutdown and waits for it; this thread
  // does it, so the engine (and the private cluster) close on the thread
  // that opened them.
  std::mutex mtx;
  std::condition_variable cv;
  bool stop_requested = false;
  bool stopped = false;
  on_hangup([config = ctx.config] { reload_logging(config); });
  on_interrupt_exit([&](int) {
    std::unique_lock<std::mutex> lock{mtx};
    stop_requested = true;
    cv.notify_all();
    cv.wait(lock, [&] { return stopped; });
    // The main thread exits the process with 0; wait for it.
    for (;;)
      cv.wait(lock);
    return 0;
  });
  // Ready only once the signal handlers are in place, so a supervisor
  // that signals right after this line is heard.
  std::printf("catchup serve: node %s ready\n", node->node_id().c_str());
  std::fflush(stdout);
  {
    std::unique_lock<std::mutex> lock{mtx};
    cv.wait(lock, [&] { return stop_requested; });
  }
  auto totals = node->stop();
  std::printf("catchup serve: stopped; %llu jobs completed, %llu handed "
              "back\n",
              static_cast<unsigned long long>(totals.jobs_completed),
              static_cast<unsigned long long>(totals.jobs_handed_back));
  node->close();
  std::fflush(stdout);
  spdlog::default_logger()->flush();
  {
    std::lock_guard<std::mutex> lock{mtx};
    stopped = true;
  }
  cv.notify_all();
  std::_Exit(0);
}

} // namespace

void add_serve_command(CLI::App& cli, command& run) {
  cli.add_subcommand("serve", "run as a node: take jobs from the queue, "
                              "schedule generation, serve /metrics /livez "
                              "/readyz /status; SIGTERM stops gracefully, "
                              "SIGHUP reloads the log level")
    ->callback([&run] { run = serve_command; });
}

} // namespace catchup::app
