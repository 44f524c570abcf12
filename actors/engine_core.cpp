// SPDX-License-Identifier: Apache-2.0
#include "actors/engine_core.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

#include <filesystem>
#include <future>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/cache.hpp"
#include "actors/generation.hpp"
#include "actors/memory_supervisor.hpp"
#include "actors/repository.hpp"
#include "actors/cluster.hpp"
#include "actors/system_config.hpp"
#include "storage/database.hpp"
#include "storage/storage_error.hpp"
#include "storage/import_store.hpp"
#include "storage/session.hpp"
#include "storage/user_store.hpp"
#include "storage/migrations.hpp"

namespace catchup {

namespace {

/// CAF 0.17.6 keeps a reference to a system's logger in a thread_local of
/// every thread that made the system or a scoped_actor in it, and
/// ~actor_system waits until those references are gone: a host closing its
/// engine on one thread while another thread that once called the engine
/// is blocked (say, in a join) would hang. Every engine call that touches
/// our own system drops the reference again on its way out.
struct thread_logger_release {
  bool owned;
  ~thread_logger_release() {
    if (owned)
      caf::logger::set_current_actor_system(nullptr);
  }
};

} // namespace

struct engine_core::impl {
  config::settings cfg;
  /// Every "now" of this engine (core/clock.hpp).
  wall_clock clock;
  std::unique_ptr<storage::database> db;
  /// The system the actors run in: our own (owned_sys) or a host's.
  std::unique_ptr<system_config> sys_cfg;
  std::unique_ptr<caf::actor_system> owned_sys;

  thread_logger_release release_thread_logger() const {
    return {owned_sys != nullptr};
  }
  caf::actor_system* sys = nullptr;
  std::int64_t schema_version = 0;
  repository_actor repo;
  coordinator_actor coordinator;
  generation_config gen;
  /// The one pressure policy table, built from the settings at start and
  /// handed to every actor that follows pressure levels.
  pressure_policy_table policy;
  std::shared_ptr<memory_probe> probe;
  std::shared_ptr<memory_gauge> gauge = std::make_shared<memory_gauge>();
  std::shared_ptr<metrics_registry> metrics
    = std::make_shared<metrics_registry>();
  memory_supervisor_actor supervisor;
  cache_actor cache;
  std::int64_t budget_bytes = 0;
  caf::actor dispatcher;
  /// Set while the worker runs with cluster.enabled; read by `generate`
  /// on any caller's thread, so under `membership_mtx`.
  cluster_membership membership;
  mutable std::mutex membership_mtx;

  cluster_membership take_membership() {
    std::lock_guard<std::mutex> lock{membership_mtx};
    return std::exchange(membership, cluster_membership{});
  }
  std::shared_ptr<worker_figures> worker = std::make_shared<worker_figures>();
  /// Set on shutdown: running imports stop at their next page.
  std::shared_ptr<std::atomic<bool>> imports_cancelled
    = std::make_shared<std::atomic<bool>>(false);

  /// New imports and syncs wait for the breaker like generations.
  void refuse_at_critical(const char* what) {
    if (auto now = gauge->load(); now.level == pressure_level::critical)
      throw engine_error(ec::memory_critical,
                         std::string{what} + " refused: "
                           + memory_refused(now).what());
  }

  /// Runs one sync actor to its end and returns its report.
  import_report run_import(storage::import_target target,
                           std::unique_ptr<page_source> source,
                           const import_options& options,
                           import_progress_fn progress) {
    // An unknown user is the caller's mistake, said before any page runs
    // (the sync actor would only report it as a failed run).
    try {
      storage::import_store{db->url()}.check_user(target.user_id);
    } catch (const storage::storage_error& e) {
      throw engine_error(e.code(), e.what());
    }
    std::promise<import_report> finished;
    auto result = finished.get_future();
    auto sized = options;
    sized.policy = policy; // pages shrink by the engine's table
    spawn_import(*sys, db->url(), std::move(target), std::move(source),
                 std::move(sized), cache, supervisor, std::move(progress),
                 [&finished](import_report report) {
                   finished.set_value(std::move(report));
                 });
    return result.get();
  }

  [[noreturn]] void raise(const caf::error& err) {
    auto code = ec::db_unavailable; // an actor of ours went away
    if (err.category() == caf::atom("catchup"))
      code = static_cast<ec>(err.code());
    else if (err == caf::sec::request_timeout)
      code = ec::timeout;
    throw engine_error(code, sys->render(err));
  }
};

namespace {

// A budget whose critical level lies below what the process holds at rest
// can never let work start: the breaker would stay open whatever happens,
// and every generation and import would wait for it in vain.
void check_budget_workable(const config::memory_settings& m,
                           std::int64_t budget_bytes, memory_probe& probe) {
  if (!m.monitoring_enabled || !m.budget_check_enabled)
    return;
  const auto resting = probe.sample().allocated_bytes;
  const auto critical = budget_bytes / 100 * m.max_heap_percent;
  if (critical > resting)
    return;
  throw engine_error(
    ec::invalid_config,
    "invalid configuration: memory.budget_bytes " + std::to_string(budget_bytes)
      + " B is too small: its critical level ("
      + std::to_string(m.max_heap_percent) + "% = " + std::to_string(critical)
      + " B) is not above the " + std::to_string(resting)
      + " B of heap this process holds at rest, so the memory breaker would "
        "refuse all work for ever; give a budget well above "
      + std::to_string(resting * 100 / m.max_heap_percent) + " B");
}

} // namespace

engine_core::engine_core(const config::settings& s, engine_options options)
  : impl_(std::make_unique<impl>()) {
  start(nullptr, s, std::move(options));
}

engine_core::engine_core(caf::actor_system& host, const config::settings& s,
                         engine_options options)
  : impl_(std::make_unique<impl>()) {
  start(&host, s, std::move(options));
}

void engine_core::start(caf::actor_system* host, const config::settings& s,
                        engine_options options) {
  auto& d = *impl_;
  d.cfg = s;
  d.clock = options.clock.shifted(s.clock.offset_s * 1000);
  d.probe = options.probe ? std::move(options.probe)
                          : std::make_shared<process_memory_probe>();
  d.budget_bytes = s.memory.budget_bytes > 0 ? s.memory.budget_bytes
                                             : default_memory_budget_bytes();
  memory_status initial;
  initial.budget_bytes = d.budget_bytes;
  d.gauge->store(initial);
  d.db = storage::database::open(s.database);
  d.schema_version = storage::schema_version(d.db->url());
  check_budget_workable(s.memory, d.budget_bytes, *d.probe);
  if (s.cluster.enabled) {
    if (host)
      throw engine_error(ec::invalid_config,
                         "invalid configuration: cluster.enabled needs the "
                         "engine's own actor system (a host's system would "
                         "have to load CAF's middleman and openssl itself)");
    try {
      check_cluster_security(s.cluster);
    } catch (const std::invalid_argument& ex) {
      throw engine_error(ec::invalid_config,
                         std::string{"invalid configuration: "} + ex.what());
    }
  }
  if (host) {
    d.sys = host;
  } else {
    d.sys_cfg = std::make_unique<system_config>();
    if (s.cluster.enabled)
      configure_cluster_network(*d.sys_cfg, s.cluster);
    d.owned_sys = std::make_unique<caf::actor_system>(*d.sys_cfg);
    d.sys = d.owned_sys.get();
  }
  auto unset_logger = d.release_thread_logger(); // set by the system's making
  d.policy = pressure_policy_table{
    static_cast<std::size_t>(s.generation.batch_rows_max),
    static_cast<std::size_t>(s.generation.suggestions_max)};
  d.gen.policy = d.policy;
  d.gen.concurrent_users_max
    = static_cast<std::size_t>(s.generation.concurrent_users_max);
  d.gen.breaker_wait_max
    = std::chrono::milliseconds{s.generation.breaker_wait_max_ms};
  repository_config rc;
  rc.url = d.db->url();
  rc.connections_max = static_cast<std::size_t>(s.database.connections_max);
  rc.policy = d.policy;
  d.repo = spawn_repository(*d.sys, rc);
  if (s.memory.monitoring_enabled) {
    if (s.memory.max_heap_percent <= 70)
      spdlog::warn("memory.max_heap_percent {} is not above the high level's "
                   "70%; critical starts at 71%",
                   s.memory.max_heap_percent);
    memory_supervisor_config mc;
    mc.budget_bytes = d.budget_bytes;
    mc.critical_percent = static_cast<double>(s.memory.max_heap_percent);
    mc.sample_interval = std::chrono::milliseconds{s.memory.sample_interval_ms};
    mc.forced_gc_enabled = s.memory.forced_gc_enabled;
    mc.on_sample = std::move(options.on_memory_sample);
    d.supervisor = spawn_memory_supervisor(*d.sys, d.probe, d.gauge,
                                           d.metrics, std::move(mc));
  }
  d.cache = spawn_cache(*d.sys, d.repo, s.cache, d.budget_bytes, d.policy,
                        d.metrics);
  d.coordinator = spawn_coordinator(*d.sys, d.repo, d.gen, d.supervisor,
                                    d.metrics, d.cache);
  if (d.supervisor) {
    // Subscribed before the first request, so no work starts unaware of
    // the current level.
    auto unset_logger = d.release_thread_logger();
    caf::scoped_actor self{*d.sys};
    for (auto sub : {caf::actor_cast<caf::actor>(d.repo),
                     caf::actor_cast<caf::actor>(d.coordinator),
                     caf::actor_cast<caf::actor>(d.cache)})
      self->request(d.supervisor, std::chrono::seconds(10),
                    atom::subscribe::value, sub)
        .receive([](std::uint64_t) {},
                 [&](caf::error& err) {
                   // Not fatal: the engine then runs as if unmonitored.
                   spdlog::error("memory supervisor refused a subscriber: {}",
                                 d.sys->render(err));
                 });
  }
}

engine_core::~engine_core() {
  auto& d = *impl_;
  if (d.sys) {
    *d.imports_cancelled = true;
    // A worker still running did not hand its jobs back: its peers are to
    // rescue them, so this is no graceful leave.
    leave_cluster(*d.sys, d.take_membership(),
                  /*graceful=*/!static_cast<bool>(d.dispatcher));
    if (d.dispatcher)
      caf::anon_send_exit(d.dispatcher, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(d.coordinator, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(d.cache, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(d.repo, caf::exit_reason::user_shutdown);
    if (d.supervisor)
      caf::anon_send_exit(d.supervisor, caf::exit_reason::user_shutdown);
    // Our own system waits for all actors here; a host's system goes on,
    // and the actors end as their exit messages arrive.
    d.owned_sys.reset();
  }
}

storage::seed_report engine_core::seed(const storage::seed_options& options) {
  auto& d = *impl_;
  try {
    auto report = wrap_operation("seed", *d.gauge, *d.probe, [&] {
      try {
        return storage::seed(d.db->url(), options);
      } catch (...) {
        invalidate({}); // users seeded before the failure were committed
        throw;
      }
    });
    invalidate({});
    return report;
  } catch (const memory_refused& e) {
    throw engine_error(ec::memory_critical, e.what());
  }
}

import_report engine_core::import_file(const import_request& request,
                                  import_progress_fn progress) {
  auto& d = *impl_;
  d.refuse_at_critical("import");
  file_limits limits;
  limits.line_bytes_max = static_cast<std::size_t>(d.cfg.sync.line_bytes_max);
  limits.item_bytes_max = static_cast<std::size_t>(d.cfg.sync.item_bytes_max);
  storage::import_target target;
  target.user_id = request.user_id;
  const auto now_unix_s = d.clock.or_now_unix_s(request.now_unix_s);
  import_options options;
  options.strict = request.strict;
  options.now_unix_s = now_unix_s;
  options.cancelled = d.imports_cancelled;
  options.fields.indexed_field_bytes_max
    = static_cast<std::size_t>(d.cfg.sync.indexed_field_bytes_max);
  std::unique_ptr<page_source> source;
  try {
    target.resource = std::filesystem::absolute(request.path).lexically_normal();
  } catch (const std::exception& e) {
    throw engine_error(ec::invalid_input,
                       "cannot resolve " + request.path + ": " + e.what());
  }
  // Opened twice for a strict run: once to validate, once to import.
  auto open_source = [&]() -> std::unique_ptr<page_source> {
    try {
      if (request.what == import_request::kind::contacts) {
        auto format = request.format ? request.format
                                     : contact_format_of(request.path);
        if (!format)
          throw engine_error(ec::invalid_input,
                             request.path + ": unknown contacts format (use a "
                             ".vcf or .csv file, or name the format)");
        target.source = *format == contact_format::vcard ? "vcard" : "csv";
        target.state_source = target.source;
        options.page_items_max
          = static_cast<std::size_t>(d.cfg.sync.contacts_page_items);
        return open_contact_file(request.path, *format, limits);
      } else {
        target.source = "ical";
        target.state_source = "ical";
        target.calendar_id
          = request.calendar_id.empty()
              ? std::filesystem::path(request.path).filename().string()
              : request.calendar_id;
        options.page_items_max
          = static_cast<std::size_t>(d.cfg.sync.events_page_items);
        constexpr std::int64_t day_s = 86400;
        options.window_from_unix_s
          = now_unix_s - d.cfg.sync.calendar_past_days * day_s;
        options.window_to_unix_s
          = now_unix_s + d.cfg.sync.calendar_future_days * day_s;
        return open_calendar_file(request.path, options.window_from_unix_s,
                                  options.window_to_unix_s, limits);
      }
    } catch (const engine_error&) {
      throw;
    } catch (const std::exception& e) {
      throw engine_error(ec::invalid_input, e.what());
    }
  };
  source = open_source();
  if (request.strict) {
    // All or nothing: the whole file is read and checked before the first
    // write, so a bad item anywhere leaves the database as it was.
    import_report checked;
    std::optional<import_problem> problem;
    try {
      auto check = open_source();
      problem = first_problem(*check, options, checked.items);
    } catch (const std::exception& e) {
      checked.error
        = std::string{e.what()} + " (--strict: nothing was written)";
      return checked;
    }
    if (problem) {
      checked.skipped = 1;
      checked.problems.push_back(*problem);
      checked.error = "stopped at a bad item (--strict: nothing was "
                      "written): " + problem->text();
      return checked;
    }
  }
  return d.run_import(std::move(target), std::move(source), options,
                      std::move(progress));
}

import_report engine_core::import_stream(const import_request& request,
                                         std::unique_ptr<std::istream> in,
                                         import_progress_fn progress) {
  auto& d = *impl_;
  d.refuse_at_critical("import");
  const auto& name = request.path;
  if (name.empty())
    throw engine_error(ec::invalid_input, "a stream import needs a name");
  file_limits limits;
  limits.line_bytes_max = static_cast<std::size_t>(d.cfg.sync.line_bytes_max);
  limits.item_bytes_max = static_cast<std::size_t>(d.cfg.sync.item_bytes_max);
  storage::import_target target;
  target.user_id = request.user_id;
  // Its own sync_state row per name, apart from a file at the same path.
  // No stored cursor makes a run skip items: a stream never resumes (see
  // open_contact_stream), so the importer starts every run over.
  target.resource = "stream:" + name;
  const auto now_unix_s = d.clock.or_now_unix_s(request.now_unix_s);
  import_options options;
  options.strict = request.strict;
  options.now_unix_s = now_unix_s;
  options.cancelled = d.imports_cancelled;
  options.fields.indexed_field_bytes_max
    = static_cast<std::size_t>(d.cfg.sync.indexed_field_bytes_max);
  std::unique_ptr<page_source> source;
  try {
    if (request.what == import_request::kind::contacts) {
      // A stream has no extension to tell the format by.
      if (!request.format)
        throw engine_error(ec::invalid_input,
                           name + ": a stream's contacts format must be "
                                  "named (vcard or csv)");
      target.source = *request.format == contact_format::vcard ? "vcard"
                                                               : "csv";
      target.state_source = target.source;
      options.page_items_max
        = static_cast<std::size_t>(d.cfg.sync.contacts_page_items);
      source = open_contact_stream(std::move(in), name, *request.format,
                                   limits);
    } else {
      target.source = "ical";
      target.state_source = "ical";
      target.calendar_id
        = request.calendar_id.empty()
            ? std::filesystem::path(name).filename().string()
            : request.calendar_id;
      if (target.calendar_id.empty())
        target.calendar_id = name;
      options.page_items_max
        = static_cast<std::size_t>(d.cfg.sync.events_page_items);
      constexpr std::int64_t day_s = 86400;
      options.window_from_unix_s
        = now_unix_s - d.cfg.sync.calendar_past_days * day_s;
      options.window_to_unix_s
        = now_unix_s + d.cfg.sync.calendar_future_days * day_s;
      source = open_calendar_stream(std::move(in), name,
                                    options.window_from_unix_s,
                                    options.window_to_unix_s, limits);
    }
  } catch (const engine_error&) {
    throw;
  } catch (const std::exception& e) {
    throw engine_error(ec::invalid_input, e.what());
  }
  return d.run_import(std::move(target), std::move(source), options,
                      std::move(progress));
}

import_report engine_core::sync_google(const google_sync_request& request,
                                  import_progress_fn progress) {
  auto& d = *impl_;
  d.refuse_at_critical("sync");
  const bool contacts = request.what == google_sync_request::kind::contacts;
  storage::import_target target;
  target.user_id = request.user_id;
  target.source = "google";
  target.state_source = contacts ? "google_contacts" : "google_calendar";
  if (!contacts) {
    target.resource = request.calendar_id;
    target.calendar_id = request.calendar_id;
  }
  const auto now_unix_s = d.clock.or_now_unix_s(request.now_unix_s);
  import_options options;
  options.strict = request.strict;
  options.now_unix_s = now_unix_s;
  options.cancelled = d.imports_cancelled;
  options.fields.indexed_field_bytes_max
    = static_cast<std::size_t>(d.cfg.sync.indexed_field_bytes_max);
  options.page_items_max = static_cast<std::size_t>(
    contacts ? d.cfg.sync.contacts_page_items : d.cfg.sync.events_page_items);
  std::string sync_token;
  try {
    storage::import_store store{d.db->url()};
    store.check_user(request.user_id);
    sync_token = store.read_progress(target).sync_token;
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
  google_client_options client_options;
  client_options.endpoints.people_base_url = d.cfg.sync.google_people_url;
  client_options.endpoints.calendar_base_url = d.cfg.sync.google_calendar_url;
  client_options.endpoints.token_url = d.cfg.sync.google_token_url;
  auto client = std::make_shared<google_client>(request.credentials,
                                                client_options);
  constexpr std::int64_t day_s = 86400;
  if (!contacts) {
    options.window_from_unix_s
      = now_unix_s - d.cfg.sync.calendar_past_days * day_s;
    options.window_to_unix_s
      = now_unix_s + d.cfg.sync.calendar_future_days * day_s;
  }
  google_paging_limits paging;
  paging.pages_max = static_cast<std::uint64_t>(d.cfg.sync.google_pages_max);
  paging.empty_pages_in_a_row_max
    = static_cast<std::uint64_t>(d.cfg.sync.google_empty_pages_max);
  auto source
    = contacts
        ? open_google_contacts(client, sync_token, paging)
        : open_google_calendar(
          client, request.calendar_id, sync_token,
          now_unix_s - d.cfg.sync.calendar_past_days * day_s,
          now_unix_s + d.cfg.sync.calendar_future_days * day_s, paging);
  return d.run_import(std::move(target), std::move(source), options,
                      std::move(progress));
}

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

const wall_clock& engine_core::clock() const {
  return impl_->clock;
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

void engine_core::invalidate(const std::string& user_id) {
  auto& d = *impl_;
  // Queued before any later read of this thread's caller reaches the cache.
  caf::anon_send(d.cache, atom::invalidate::value,
                 static_cast<std::uint8_t>(cache_all), user_id);
}

contact_record engine_core::contact(const std::string& user_id,
                               const std::string& contact_id) {
  auto& d = *impl_;
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  contact_record out;
  self->request(d.cache, std::chrono::seconds(60), atom::contact::value,
                user_id, contact_id)
    .receive([&](contact_record& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

std::vector<cache_figures> engine_core::cache_status() {
  auto& d = *impl_;
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  std::vector<cache_figures> out;
  self->request(d.cache, std::chrono::seconds(10), atom::status::value)
    .receive([&](std::vector<cache_figures>& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

memory_status engine_core::sample_memory() {
  auto& d = *impl_;
  if (!d.supervisor)
    return d.gauge->load();
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  memory_status out;
  self->request(d.supervisor, std::chrono::seconds(10), atom::sample::value)
    .receive([&](memory_status& x) { out = x; },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

const metrics_registry& engine_core::metrics() const {
  return *impl_->metrics;
}

std::int64_t engine_core::memory_budget_bytes() const {
  return impl_->budget_bytes;
}

std::vector<std::string>
engine_core::seeded_users(const storage::seed_options& options) {
  return storage::seeded_users(impl_->db->url(), options);
}

generation_result engine_core::generate(const std::string& user_id,
                                   std::int64_t now_unix_s) {
  auto& d = *impl_;
  now_unix_s = d.clock.or_now_unix_s(now_unix_s);
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  generation_result out;
  cluster_node_actor node;
  {
    std::lock_guard<std::mutex> lock{d.membership_mtx};
    node = d.membership.node;
  }
  if (node) {
    // A cluster member: the least-pressured reachable node runs it (this
    // one on a tie), with one retry elsewhere, within the route timeout.
    auto limit = std::chrono::milliseconds(d.cfg.cluster.route_timeout_ms);
    self
      ->request(node, limit + std::chrono::seconds(1),
                atom::generate::value, user_id, now_unix_s,
                static_cast<std::int64_t>(limit.count()))
      .receive([&](routed_generation& r) { out = std::move(r.result); },
               [&](caf::error& err) { d.raise(err); });
    return out;
  }
  // The coordinator's watchdog answers after user_timeout (plus one of its
  // 1 s ticks) with the reason; this wait only guards against a lost
  // coordinator.
  self
    ->request(d.coordinator, d.gen.user_timeout + std::chrono::seconds(10),
              atom::generate::value, generation_request{user_id, now_unix_s})
    .receive([&](generation_result& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

namespace {

// One run's events, handed from the actor that drives the run to the thread
// that called generate_all, which calls the host's callback itself: no
// thread of the engine's runs host code, the callback may block or call the
// engine again, and no thread is started (and ended) per run.
struct run_channel {
  struct report {
    generation_result result;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
  };
  std::mutex mtx;
  std::condition_variable ready;
  // At most the coordinator's unacknowledged reports (results_unacked_max):
  // each waits for its ack, sent once the callback has returned.
  std::deque<report> reports;
  bool finished = false;
  run_summary summary;
  caf::error failure;

  void push(report r) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      reports.push_back(std::move(r));
    }
    ready.notify_one();
  }
  void finish(run_summary s, caf::error err) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      summary = std::move(s);
      failure = std::move(err);
      finished = true;
    }
    ready.notify_one();
  }
};

// Asks the coordinator for the run and relays its progress reports (each a
// request acknowledged once the callback has handled it, which keeps the
// coordinator's flow control) and its reply into `channel`.
template <class... Args>
caf::behavior run_driver(caf::stateful_actor<std::deque<caf::response_promise>>* self,
                         std::shared_ptr<run_channel> channel,
                         coordinator_actor coordinator, bool with_progress,
                         Args... args) {
  caf::actor listener;
  if (with_progress)
    listener = caf::actor_cast<caf::actor>(self);
  self
    ->request(coordinator, caf::infinite, atom::generate::value,
              std::move(args)..., listener)
    .then(
      [=](run_summary& r) {
        channel->finish(std::move(r), caf::error{});
        self->quit();
      },
      [=](caf::error& err) {
        channel->finish(run_summary{}, std::move(err));
        self->quit();
      });
  return {
    [=](atom::progress, generation_result& r, std::uint64_t done,
        std::uint64_t total) {
      self->state.push_back(self->make_response_promise());
      channel->push({std::move(r), done, total});
    },
    [=](atom::done) {
      if (self->state.empty())
        return;
      self->state.front().deliver(caf::unit);
      self->state.pop_front();
    },
  };
}

template <class... Ts>
run_summary run_many(engine_core::impl& d, engine_core::result_callback on_result,
                     Ts&&... xs) {
  auto channel = std::make_shared<run_channel>();
  auto unset_logger = d.release_thread_logger();
  auto driver = d.sys->spawn(run_driver<std::decay_t<Ts>...>, channel,
                             d.coordinator, static_cast<bool>(on_result),
                             std::forward<Ts>(xs)...);
  // The coordinator replies only after every report was acknowledged, so
  // once finished no report is left.
  std::unique_lock<std::mutex> lock{channel->mtx};
  for (;;) {
    channel->ready.wait(lock, [&] {
      return !channel->reports.empty() || channel->finished;
    });
    if (channel->reports.empty())
      break;
    auto next = std::move(channel->reports.front());
    channel->reports.pop_front();
    lock.unlock();
    // Acknowledged even when the callback throws: the run goes on without
    // this caller, whose exception reaches it at once.
    struct ack_on_exit {
      caf::actor driver;
      ~ack_on_exit() {
        caf::anon_send(driver, atom::done::value);
      }
    } ack{caf::actor_cast<caf::actor>(driver)};
    on_result(next.result, static_cast<std::size_t>(next.done),
              static_cast<std::size_t>(next.total));
    lock.lock();
  }
  if (channel->failure)
    d.raise(channel->failure);
  return std::move(channel->summary);
}

} // namespace

run_summary engine_core::generate_all(std::int64_t now_unix_s,
                                 result_callback on_result) {
  // Not refused at critical: the coordinator holds the run's users instead.
  run_summary out;
  measure_operation("generate-all", *impl_->probe, impl_->budget_bytes, [&] {
    out = run_many(*impl_, std::move(on_result),
                   impl_->clock.or_now_unix_s(now_unix_s));
  });
  return out;
}

run_summary engine_core::generate_users(const std::vector<std::string>& user_ids,
                                   std::int64_t now_unix_s,
                                   result_callback on_result) {
  run_summary out;
  measure_operation("generate-users", *impl_->probe, impl_->budget_bytes,
                    [&] {
                      out = run_many(*impl_, std::move(on_result), user_ids,
                                     impl_->clock.or_now_unix_s(now_unix_s));
                    });
  return out;
}

std::int64_t
engine_core::for_each_contact(const std::string& user_id, contact_order order,
                         bool descending, bool full_projection,
                         std::size_t batch_rows,
                         const std::function<bool(const contact_record&)>& visit) {
  auto& d = *impl_;
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  // A bulk stream: one snapshot through a server-side cursor.
  auto cursor = storage::session::open_bulk(user_id, order, descending,
                                            full_projection);
  std::int64_t visited = 0;
  bool more = true;
  while (more) {
    self
      ->request(d.repo, std::chrono::seconds(60), atom::next::value, cursor,
                static_cast<std::uint64_t>(batch_rows))
      .receive(
        [&](contact_batch& batch) {
          for (auto& row : batch.rows) {
            ++visited;
            if (!visit(row)) {
              more = false;
              if (!batch.next.done) // free its connection now
                self->send(d.repo, atom::close::value, batch.next);
              return;
            }
          }
          more = !batch.next.done;
          cursor = std::move(batch.next);
        },
        [&](caf::error& err) { d.raise(err); });
  }
  return visited;
}

std::vector<suggestion_record>
engine_core::suggestions(const std::string& user_id) {
  auto& d = *impl_;
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  std::vector<suggestion_record> out;
  self
    ->request(d.cache, std::chrono::seconds(60), atom::read::value, user_id,
              std::string{"pending"}, d.clock.now_unix_s())
    .receive([&](std::vector<suggestion_record>& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

storage::respond_result
engine_core::respond(const storage::suggestion_response& response) {
  auto& d = *impl_;
  // The answer drops the user's cached suggestions (its status changed)
  // and contacts (accept and "met recently" move the last contact date).
  // Queued before this thread's next read reaches the cache; dropped after
  // a failure too, since a commit whose outcome is unknown may have
  // happened. A cached pending list may also hold a snooze that has passed
  // since it was read: it shows again once the entry's TTL
  // (cache.suggestions_ttl_ms) ends or another write drops it.
  auto drop_cached = [&] {
    caf::anon_send(d.cache, atom::invalidate::value,
                   static_cast<std::uint8_t>(cache_suggestions
                                             | cache_contacts),
                   response.user_id);
  };
  try {
    // A short transaction on its own connection, on the caller's thread
    // (like `enqueue`): a response must not queue behind generations for
    // a repository worker.
    storage::session db{d.db->url()};
    auto answer = response;
    answer.now_unix_s = d.clock.or_now_unix_s(answer.now_unix_s);
    auto out = db.respond_to_suggestion(answer);
    drop_cached();
    return out;
  } catch (const storage::storage_error& e) {
    drop_cached();
    throw engine_error(e.code(), e.what());
  }
}

std::vector<std::string> engine_core::users(bool active_only) {
  auto& d = *impl_;
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  std::vector<std::string> out;
  self->request(d.repo, std::chrono::seconds(60), atom::users::value,
                active_only)
    .receive([&](std::vector<std::string>& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

const std::string& engine_core::database_url() const {
  return impl_->db->url();
}

bool engine_core::embedded_database() const {
  return impl_->db->embedded();
}

std::string engine_core::data_dir() const {
  return impl_->db->embedded() ? impl_->db->cluster()->data_dir()
                               : std::string{};
}

std::string engine_core::put_user(const storage::user_profile& profile) {
  try {
    auto id = storage::put_user(impl_->db->url(), profile);
    // Zone and availability shape the user's slots.
    invalidate(id);
    return id;
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
}

bool engine_core::worker_running() const {
  return static_cast<bool>(impl_->dispatcher);
}

caf::actor_system& engine_core::system() const {
  return *impl_->sys;
}

caf::actor engine_core::dispatcher() const {
  return impl_->dispatcher;
}

coordinator_actor engine_core::coordinator() const {
  return impl_->coordinator;
}

cache_actor engine_core::cache() const {
  return impl_->cache;
}

memory_supervisor_actor engine_core::supervisor() const {
  return impl_->supervisor;
}

std::chrono::milliseconds engine_core::generation_timeout() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    impl_->gen.user_timeout);
}

std::int64_t engine_core::schema_version() const {
  return impl_->schema_version;
}

memory_status engine_core::last_memory_status() const {
  return impl_->gauge->load();
}

const char* engine_version() {
  return CATCHUP_ENGINE_VERSION;
}

} // namespace catchup
