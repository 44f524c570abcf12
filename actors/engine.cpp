// SPDX-License-Identifier: Apache-2.0
#include "actors/engine.hpp"

#include <caf/all.hpp>

#include "actors/generation.hpp"
#include "actors/repository.hpp"
#include "actors/system_config.hpp"
#include "storage/database.hpp"

namespace catchup {

struct engine::impl {
  config::settings cfg;
  std::unique_ptr<storage::database> db;
  system_config sys_cfg;
  std::unique_ptr<caf::actor_system> sys;
  repository_actor repo;
  coordinator_actor coordinator;
  generation_config gen;

  [[noreturn]] void raise(const caf::error& err) {
    auto code = err.category() == caf::atom("catchup")
                  ? static_cast<ec>(err.code())
                  : ec::db_unavailable;
    throw engine_error(code, sys->render(err));
  }
};

engine::engine(const config::settings& s) : impl_(std::make_unique<impl>()) {
  auto& d = *impl_;
  d.cfg = s;
  d.db = storage::database::open(s.database);
  d.sys = std::make_unique<caf::actor_system>(d.sys_cfg);
  repository_config rc;
  rc.url = d.db->url();
  rc.connections_max = static_cast<std::size_t>(s.database.connections_max);
  d.repo = spawn_repository(*d.sys, rc);
  d.gen.batch_rows_max = static_cast<std::size_t>(s.generation.batch_rows_max);
  d.gen.suggestions_max
    = static_cast<std::size_t>(s.generation.suggestions_max);
  d.coordinator = spawn_coordinator(*d.sys, d.repo, d.gen);
}

engine::~engine() {
  auto& d = *impl_;
  if (d.sys) {
    caf::anon_send_exit(d.coordinator, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(d.repo, caf::exit_reason::user_shutdown);
    d.sys.reset(); // waits for all actors
  }
}

storage::seed_report engine::seed(const storage::seed_options& options) {
  return storage::seed(impl_->db->url(), options);
}

generation_result engine::generate(const std::string& user_id,
                                   std::int64_t now_unix_s) {
  auto& d = *impl_;
  caf::scoped_actor self{*d.sys};
  generation_result out;
  self
    ->request(d.coordinator, d.gen.user_timeout, atom::generate::value,
              generation_request{user_id, now_unix_s})
    .receive([&](generation_result& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

std::vector<generation_result>
engine::generate_all(std::int64_t now_unix_s,
                     std::function<void(std::size_t, std::size_t)> progress) {
  auto& d = *impl_;
  caf::actor listener;
  if (progress)
    // The callback is a spawn argument, not a capture: CAF 0.17 spawns a
    // function without arguments by dereferencing a null shared_ptr to an
    // empty tuple (undefined behaviour that UBSan reports).
    listener = d.sys->spawn(
      [](caf::event_based_actor*,
         std::function<void(std::size_t, std::size_t)> report)
        -> caf::behavior {
        return {
          [report](atom::progress, std::uint64_t done, std::uint64_t total) {
            report(done, total);
          },
        };
      },
      std::move(progress));
  caf::scoped_actor self{*d.sys};
  std::vector<generation_result> out;
  // A run over many users may take long; each user has its own timeout.
  self
    ->request(d.coordinator, caf::infinite, atom::generate::value, now_unix_s,
              listener)
    .receive([&](std::vector<generation_result>& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  if (listener)
    caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  return out;
}

std::vector<suggestion_record>
engine::suggestions(const std::string& user_id) {
  auto& d = *impl_;
  caf::scoped_actor self{*d.sys};
  std::vector<suggestion_record> out;
  self
    ->request(d.repo, std::chrono::seconds(60), atom::read::value, user_id,
              std::string{"pending"})
    .receive([&](std::vector<suggestion_record>& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

std::vector<std::string> engine::users(bool active_only) {
  auto& d = *impl_;
  caf::scoped_actor self{*d.sys};
  std::vector<std::string> out;
  self->request(d.repo, std::chrono::seconds(60), atom::users::value,
                active_only)
    .receive([&](std::vector<std::string>& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

const std::string& engine::database_url() const {
  return impl_->db->url();
}

bool engine::embedded_database() const {
  return impl_->db->embedded();
}

std::string engine::data_dir() const {
  return impl_->db->embedded() ? impl_->db->cluster()->data_dir()
                               : std::string{};
}

} // namespace catchup
