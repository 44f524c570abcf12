// SPDX-License-Identifier: Apache-2.0
// The engine's job queue and worker (engine_core.hpp): checking and
// enqueueing jobs, running one, and starting and stopping the worker with
// its cluster membership.
#include "actors/engine_core.hpp"

#include <chrono>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <utility>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/cluster.hpp"
#include "actors/dispatcher.hpp"
#include "actors/engine_core_impl.hpp"
#include "adapters/import_sources.hpp"
#include "storage/job_queue.hpp"
#include "storage/storage_error.hpp"

namespace catchup {

void engine_core::check_job(const std::string& kind,
                            const std::string& payload_json) {
  auto bad = [&](const std::string& why) {
    return engine_error(ec::invalid_input, "cannot enqueue " + kind + ": " + why);
  };
  nlohmann::json payload;
  try {
    payload = nlohmann::json::parse(payload_json.empty() ? std::string{"{}"}
                                                         : payload_json);
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string{"the payload is not JSON: "} + e.what());
  }
  if (!payload.is_object())
    throw bad("the payload is not a JSON object");
  if (kind == "generate")
    return;
  if (kind != "sync_contacts" && kind != "sync_calendar")
    throw bad("unknown kind (generate, sync_contacts or sync_calendar)");
  if (payload.contains("google")) {
    if (!payload.at("google").is_object())
      throw bad("\"google\" is not an object of credentials");
    return;
  }
  if (!payload.contains("path") || !payload.at("path").is_string())
    throw bad("the payload names neither \"path\" (a file) nor \"google\"");
  const auto path = payload.at("path").get<std::string>();
  try {
    check_import_file(path);
  } catch (const std::exception& e) {
    throw bad(e.what());
  }
  if (kind == "sync_contacts") {
    auto format = payload.value("format", std::string{});
    if (format.empty() && !contact_format_of(path))
      throw bad(path + ": unknown contacts format (a .vcf or .csv file, or "
                       "\"format\": \"vcard\" or \"csv\")");
    if (!format.empty() && format != "vcard" && format != "csv")
      throw bad("\"format\" must be \"vcard\" or \"csv\"");
  }
}

storage::enqueue_result engine_core::enqueue(const std::string& kind,
                                        const std::string& user_id,
                                        const std::string& payload_json,
                                        std::int64_t run_at_unix_ms,
                                        std::int32_t max_attempts) {
  check_job(kind, payload_json);
  try {
    storage::job_queue queue{impl_->db->url(), impl_->clock};
    return queue.enqueue(kind, user_id, payload_json, run_at_unix_ms,
                         max_attempts);
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
}

job_result engine_core::execute_job(const storage::job_record& job) {
  const auto clock_s = impl_->clock.now_unix_s();
  nlohmann::json payload;
  try {
    payload = nlohmann::json::parse(job.payload_json.empty()
                                      ? std::string{"{}"}
                                      : job.payload_json);
    if (!payload.is_object())
      return {"job " + std::to_string(job.id) + ": payload is not an object"};
  } catch (const nlohmann::json::exception& e) {
    return {"job " + std::to_string(job.id) + ": payload is not JSON: "
            + e.what()};
  }
  auto now = payload.value("now", clock_s);
  try {
    if (job.kind == "generate") {
      generate(job.user_id, now);
      return {};
    }
    bool contacts = job.kind == "sync_contacts";
    if (!contacts && job.kind != "sync_calendar")
      return {"job " + std::to_string(job.id) + ": unknown kind " + job.kind};
    import_report report;
    if (payload.contains("path")) {
      import_request r;
      r.user_id = job.user_id;
      r.path = payload.at("path").get<std::string>();
      r.now_unix_s = now;
      r.strict = payload.value("strict", false);
      if (contacts) {
        auto format = payload.value("format", std::string{});
        if (format == "vcard")
          r.format = contact_format::vcard;
        else if (format == "csv")
          r.format = contact_format::csv;
      } else {
        r.what = import_request::kind::calendar;
        r.calendar_id = payload.value("calendar_id", std::string{});
      }
      report = import_file(r);
    } else if (payload.contains("google")) {
      google_sync_request r;
      r.user_id = job.user_id;
      r.what = contacts ? google_sync_request::kind::contacts
                        : google_sync_request::kind::calendar;
      r.calendar_id = payload.value("calendar_id", std::string{"primary"});
      r.now_unix_s = now;
      auto& g = payload.at("google");
      r.credentials.client_id = g.value("client_id", "");
      r.credentials.client_secret = g.value("client_secret", "");
      r.credentials.refresh_token = g.value("refresh_token", "");
      r.credentials.access_token = g.value("access_token", "");
      report = sync_google(r);
    } else {
      return {"job " + std::to_string(job.id)
              + ": payload names neither \"path\" nor \"google\""};
    }
    return {report.error, report.error_transient};
  } catch (const nlohmann::json::exception& e) {
    return {"job " + std::to_string(job.id) + ": bad payload: " + e.what()};
  } catch (const engine_error& e) {
    // The database out of reach is not the job's fault: it runs again
    // without using an attempt (see worker_options).
    return {e.what(), e.code() == ec::db_unavailable
                        || e.code() == ec::db_conflict};
  } catch (const std::exception& e) {
    return {e.what()};
  }
}

void engine_core::start_worker(worker_options options) {
  auto& d = *impl_;
  if (d.dispatcher)
    throw engine_error(ec::invalid_input, "this engine already runs a worker");
  *d.imports_cancelled = false;
  options.on_release = [flag = d.imports_cancelled] { *flag = true; };
  options.policy = d.policy;
  auto owner = options.owner;
  d.dispatcher = spawn_dispatcher(
    *d.sys, d.db->url(), d.clock, std::move(options),
    [this](const storage::job_record& job) { return execute_job(job); },
    d.supervisor, d.worker);
  if (!d.cfg.cluster.enabled)
    return;
  cluster_options co;
  co.settings = d.cfg.cluster;
  co.node_id = owner;
  co.database_url = d.db->url();
  co.clock = d.clock;
  co.version = engine_version();
  co.coordinator = d.coordinator;
  co.dispatcher = d.dispatcher;
  co.supervisor = d.supervisor;
  co.self_status = [gauge = d.gauge, worker = d.worker] {
    auto m = gauge->load();
    node_status s;
    s.level = m.level;
    s.allocated_bytes = m.allocated_bytes;
    s.budget_bytes = m.budget_bytes;
    s.used_percent = m.used_percent;
    s.jobs_in_flight = static_cast<std::int64_t>(worker->in_flight.load());
    return s;
  };
  try {
    auto joined = join_cluster(*d.sys, std::move(co));
    std::lock_guard<std::mutex> lock{d.membership_mtx};
    d.membership = std::move(joined);
  } catch (const storage::storage_error& e) {
    // A worker outside the cluster would claim jobs nobody can rescue
    // early; stop it and say why.
    stop_worker(std::chrono::milliseconds(0));
    throw engine_error(e.code(), e.what());
  } catch (const std::exception& e) {
    stop_worker(std::chrono::milliseconds(0));
    throw engine_error(ec::invalid_config, e.what());
  }
}

std::string engine_core::cluster_address() const {
  std::lock_guard<std::mutex> lock{impl_->membership_mtx};
  return impl_->membership.address;
}

bool engine_core::stop_worker(std::chrono::milliseconds grace) {
  auto& d = *impl_;
  if (!d.dispatcher)
    return true;
  bool answered = false;
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  self->request(d.dispatcher, caf::infinite, atom::stop::value,
                static_cast<std::int64_t>(grace.count()))
    .receive([&](bool) { answered = true; },
             [&](caf::error& err) {
               spdlog::error("worker did not stop cleanly: {}",
                             d.sys->render(err));
             });
  d.dispatcher = nullptr;
  // After the worker handed its jobs back, so peers that see this node go
  // find nothing of it to rescue. The handles keep actors alive, and our
  // own system waits for every actor when it goes.
  leave_cluster(*d.sys, d.take_membership());
  // Jobs still running were handed back: their imports stop at the next
  // page (their cursor is committed, the next node resumes there).
  *d.imports_cancelled = true;
  return answered;
}

const worker_figures& engine_core::worker() const {
  return *impl_->worker;
}

bool engine_core::worker_running() const {
  return static_cast<bool>(impl_->dispatcher);
}

caf::actor engine_core::dispatcher() const {
  return impl_->dispatcher;
}

} // namespace catchup
