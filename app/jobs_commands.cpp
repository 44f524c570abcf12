// SPDX-License-Identifier: Apache-2.0
// `catchup enqueue`, `catchup jobs list|show|retry|cancel` and
// `catchup cluster status`: the durable job queue and the nodes that work
// it.

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"

namespace catchup::app {

namespace {

nlohmann::json to_json(const admin::job_info& j) {
  return {{"id", j.id},
          {"kind", j.kind},
          {"user_id", j.user_id},
          {"payload", nlohmann::json::parse(j.payload_json, nullptr, false)},
          {"state", j.state},
          {"attempts", j.attempts},
          {"max_attempts", j.max_attempts},
          {"run_at_unix_ms", j.run_at_unix_ms},
          {"last_error", j.last_error},
          {"lease_owner", j.lease_owner},
          {"lease_expires_unix_ms", j.lease_expires_unix_ms},
          {"created_unix_ms", j.created_unix_ms},
          {"finished_unix_ms", j.finished_unix_ms}};
}

nlohmann::json to_json(const admin::cluster_node& n) {
  return nlohmann::json::parse(admin::cluster_node_json(n));
}

struct jobs_options {
  admin::job_request request;
  std::int64_t id = 0;
  std::string state;
  std::int64_t limit = 100;
  bool as_json = false;
};

/// `catchup enqueue KIND --user ID [--payload JSON]`: prints the job id
/// and whether it is new.
int enqueue_command(const command_context& ctx, const jobs_options& o) {
  auto r = admin::enqueue_job(ctx.config, o.request);
  if (!r)
    return report_failure(r.error());
  std::printf("job %lld %s\n", static_cast<long long>(r->id),
              r->created ? "enqueued" : "already pending (not enqueued again)");
  return exit_ok;
}

int jobs_list_command(const command_context& ctx, const jobs_options& o) {
  auto jobs = admin::list_jobs(ctx.config, o.state,
                               static_cast<std::size_t>(o.limit));
  if (!jobs)
    return report_failure(jobs.error());
  if (o.as_json) {
    auto out = nlohmann::json::array();
    for (auto& j : *jobs)
      out.push_back(to_json(j));
    std::cout << out.dump(2) << "\n";
    return exit_ok;
  }
  std::printf("%8s  %-13s  %-36s  %-9s  %8s  %s\n", "id", "kind", "user",
              "state", "attempts", "last error");
  for (auto& j : *jobs)
    std::printf("%8lld  %-13s  %-36s  %-9s  %4d/%-3d  %s\n",
                static_cast<long long>(j.id), j.kind.c_str(),
                j.user_id.c_str(), j.state.c_str(), j.attempts,
                j.max_attempts, j.last_error.c_str());
  return exit_ok;
}

int jobs_show_command(const command_context& ctx, const jobs_options& o) {
  auto job = admin::find_job(ctx.config, o.id);
  if (!job)
    return report_failure(job.error());
  std::cout << to_json(*job).dump(2) << "\n";
  return exit_ok;
}

int jobs_retry_or_cancel(const command_context& ctx, const jobs_options& o,
                         bool retry) {
  auto done = retry ? admin::retry_job(ctx.config, o.id)
                    : admin::cancel_job(ctx.config, o.id);
  if (!done)
    return report_failure(done.error());
  if (!*done) {
    std::fprintf(stderr,
                 "catchup: error: job %lld cannot be %s (%s)\n",
                 static_cast<long long>(o.id),
                 retry ? "retried" : "cancelled",
                 retry ? "only a failed or cancelled job can, and only when "
                         "no job of its kind and user is pending"
                       : "only a pending job can");
    return exit_runtime_error;
  }
  std::printf("job %lld %s\n", static_cast<long long>(o.id),
              retry ? "pending again" : "cancelled");
  return exit_ok;
}

/// `catchup cluster status [--json]`: every node the cluster knows, with
/// its state, pressure level, memory, jobs in flight and the age of its
/// last heartbeat.
int cluster_status_command(const command_context& ctx, bool as_json) {
  auto nodes = admin::cluster_nodes(ctx.config);
  if (!nodes)
    return report_failure(nodes.error());
  if (as_json) {
    auto out = nlohmann::json::array();
    for (auto& n : *nodes)
      out.push_back(to_json(n));
    std::cout << out.dump(2) << "\n";
    return exit_ok;
  }
  if (nodes->empty()) {
    std::printf("no node has joined the cluster (cluster.enabled = true on "
                "`catchup serve`)\n");
    return exit_ok;
  }
  std::printf("%-28s  %-21s  %-5s  %-8s  %10s  %10s  %5s  %10s\n", "node",
              "address", "state", "level", "heap MiB", "budget MiB", "jobs",
              "heartbeat");
  auto mib = [](std::int64_t b) { return static_cast<double>(b) / 1048576.0; };
  for (auto& n : *nodes)
    std::printf("%-28s  %-21s  %-5s  %-8s  %10.1f  %10.1f  %5lld  %7.1f s "
                "ago%s\n",
                n.id.c_str(), n.address.c_str(), n.state.c_str(),
                n.level.c_str(), mib(n.heap_bytes), mib(n.budget_bytes),
                static_cast<long long>(n.jobs_in_flight),
                static_cast<double>(n.heartbeat_age_ms) / 1000.0,
                n.down_reason.empty() ? ""
                                      : ("  (" + n.down_reason + ")").c_str());
  return exit_ok;
}

void add_enqueue_command(CLI::App& cli, command& run) {
  auto o = std::make_shared<jobs_options>();
  auto* enqueue = cli.add_subcommand("enqueue", "put a job on the queue");
  enqueue->add_option("kind", o->request.kind, "generate, sync_contacts or "
                                               "sync_calendar")
    ->required()
    ->check(CLI::IsMember({"generate", "sync_contacts", "sync_calendar"}));
  enqueue->add_option("--user", o->request.user_id, "user id")->required();
  enqueue->add_option("--payload", o->request.payload_json,
                      "JSON: generate {\"now\": T}; sync_* {\"path\": F} "
                      "or {\"google\": {...}}");
  enqueue->add_option("--max-attempts", o->request.max_attempts,
                      "attempts before the job stays failed")
    ->check(CLI::Range(1, 100));
  enqueue->callback([&run, o] {
    run = [o](const command_context& c) { return enqueue_command(c, *o); };
  });
}

void add_jobs_command(CLI::App& cli, command& run) {
  auto o = std::make_shared<jobs_options>();
  auto* jobs = cli.add_subcommand("jobs", "inspect and steer the job queue");
  jobs->require_subcommand(1);
  auto* list = jobs->add_subcommand("list", "list jobs, newest first");
  list->add_option("--state", o->state,
                   "pending, running, done, failed or cancelled")
    ->check(CLI::IsMember({"pending", "running", "done", "failed",
                           "cancelled"}));
  list->add_option("--limit", o->limit, "at most this many")
    ->check(CLI::Range(1, 100000));
  list->add_flag("--json", o->as_json, "print JSON");
  list->callback([&run, o] {
    run = [o](const command_context& c) { return jobs_list_command(c, *o); };
  });
  auto* show = jobs->add_subcommand("show", "show one job");
  show->add_option("id", o->id, "job id")->required();
  show->callback([&run, o] {
    run = [o](const command_context& c) { return jobs_show_command(c, *o); };
  });
  for (bool retry : {true, false}) {
    auto* sub = jobs->add_subcommand(
      retry ? "retry" : "cancel",
      retry ? "make a failed or cancelled job pending again"
            : "cancel a pending job");
    sub->add_option("id", o->id, "job id")->required();
    sub->callback([&run, o, retry] {
      run = [o, retry](const command_context& c) {
        return jobs_retry_or_cancel(c, *o, retry);
      };
    });
  }
}

void add_cluster_command(CLI::App& cli, command& run) {
  auto as_json = std::make_shared<bool>(false);
  auto* cluster_cmd = cli.add_subcommand("cluster", "inspect the cluster");
  cluster_cmd->require_subcommand(1);
  auto* status = cluster_cmd->add_subcommand(
    "status", "every node: state, pressure level, memory, jobs in flight, "
              "last heartbeat");
  status->add_flag("--json", *as_json, "print JSON");
  status->callback([&run, as_json] {
    run = [as_json](const command_context& c) {
      return cluster_status_command(c, *as_json);
    };
  });
}

} // namespace

void add_jobs_commands(CLI::App& cli, command& run) {
  add_enqueue_command(cli, run);
  add_jobs_command(cli, run);
  add_cluster_command(cli, run);
}

} // namespace catchup::app
