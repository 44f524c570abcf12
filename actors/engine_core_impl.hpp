// SPDX-License-Identifier: Apache-2.0
#pragma once

// Private to actors/: the state of an `engine_core` (engine_core.hpp),
// shared by the translation units it is split into by concern:
//
//   engine_core.cpp             starting and stopping the engine (its
//                               actors, the memory budget check) and the
//                               accessors and status figures
//   engine_core_generation.cpp  generations: one user, all users or a list
//   engine_core_user_data.cpp   a user's data: contacts streamed or read,
//                               suggestions and their answers, users and
//                               profiles, and dropping what is cached
//   engine_core_imports.cpp     seeding, file and stream imports, Google
//                               syncs
//   engine_core_jobs.cpp        the job queue and the worker: checking,
//                               enqueueing and running jobs, starting and
//                               stopping the worker, its cluster membership
//
// Nothing outside those files includes it, and it is never installed.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/logger.hpp>
#include <caf/sec.hpp>

#include "actors/cluster.hpp"
#include "actors/dispatcher.hpp"
#include "actors/engine_core.hpp"
#include "actors/generation.hpp"
#include "actors/importer.hpp"
#include "actors/interfaces.hpp"
#include "actors/memory_supervisor.hpp"
#include "actors/system_config.hpp"
#include "core/pressure.hpp"
#include "storage/database.hpp"
#include "storage/import_store.hpp"
#include "storage/storage_error.hpp"
#include "storage/user_store.hpp"

namespace catchup {

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
                           import_progress_fn progress);

  /// The check of a user id every call about one user makes before any
  /// work: invalid_input "user id 'X' is not a UUID".
  static void require_user_id(const std::string& user_id) {
    try {
      storage::require_user_id(user_id);
    } catch (const storage::storage_error& e) {
      throw engine_error(e.code(), e.what());
    }
  }

  /// Throws not_found "user X not found" unless the user exists. Calls
  /// about one user ask this only when they found nothing (see
  /// `about_user`), so answers with something in them cost no extra query.
  void require_user(const std::string& user_id) const {
    try {
      storage::require_user(db->url(), user_id);
    } catch (const storage::storage_error& e) {
      throw engine_error(e.code(), e.what());
    }
  }

  /// Runs `f`, a call about one user, the way every such call reports a
  /// bad or unknown user: a malformed id is refused before `f` runs, and a
  /// not_found from `f` becomes "user X not found" when the user is what
  /// is missing (else it stays, e.g. "user X has no contact Y").
  template <class F>
  auto about_user(const std::string& user_id, F&& f) -> decltype(f()) {
    require_user_id(user_id);
    try {
      return f();
    } catch (const engine_error& e) {
      if (e.code() == ec::not_found)
        require_user(user_id);
      throw;
    }
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

} // namespace catchup
