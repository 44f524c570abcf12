// SPDX-License-Identifier: Apache-2.0
// What a user steers, through the engine (engine_core.hpp): settings,
// contacts' cadence, importance, archive and pause, and groups. Short
// transactions on the caller's thread (like `respond`): a person's edit
// must not queue behind generations for a repository worker.
#include "actors/engine_core.hpp"

#include <string>
#include <utility>
#include <vector>

#include "actors/engine_core_impl.hpp"
#include "storage/steering_store.hpp"
#include "storage/storage_error.hpp"

namespace catchup {

namespace {

// Runs a storage call, turning its refusal into the engine's error.
template <class F>
auto run_storage(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
}

// Drops the user's cached entries when the call leaves, after a failure
// too: a commit whose outcome is unknown may have happened.
struct drop_cached_on_exit {
  engine_core& core;
  const std::string& user;
  ~drop_cached_on_exit() { core.invalidate(user); }
};

} // namespace

storage::stored_user_settings
engine_core::user_settings(const std::string& user_id) {
  return run_storage(
    [&] { return storage::read_user_settings(impl_->db->url(), user_id); });
}

std::string engine_core::resolve_contact(const std::string& user_id,
                                         const std::string& ref) {
  return run_storage(
    [&] { return storage::resolve_contact(impl_->db->url(), user_id, ref); });
}

std::string engine_core::update_contact(const std::string& user_id,
                                        const std::string& contact_ref,
                                        const contact_update& update) {
  drop_cached_on_exit drop{*this, user_id};
  return run_storage([&] {
    return storage::update_contact(impl_->db->url(), user_id, contact_ref,
                                   update, impl_->clock.now_unix_s());
  });
}

std::vector<group_info> engine_core::groups(const std::string& user_id) {
  return run_storage(
    [&] { return storage::list_groups(impl_->db->url(), user_id); });
}

group_info engine_core::create_group(const std::string& user_id,
                                     const std::string& name,
                                     std::int32_t cadence_days) {
  return run_storage([&] {
    return storage::create_group(impl_->db->url(), user_id, name,
                                 cadence_days);
  });
}

group_info engine_core::update_group(const std::string& user_id,
                                     const std::string& group_ref,
                                     const std::string& new_name,
                                     std::int32_t cadence_days) {
  drop_cached_on_exit drop{*this, user_id};
  return run_storage([&] {
    return storage::update_group(impl_->db->url(), user_id, group_ref,
                                 new_name, cadence_days);
  });
}

void engine_core::delete_group(const std::string& user_id,
                               const std::string& group_ref) {
  drop_cached_on_exit drop{*this, user_id};
  run_storage([&] {
    storage::delete_group(impl_->db->url(), user_id, group_ref);
  });
}

std::int64_t
engine_core::change_members(const std::string& user_id,
                            const std::string& group_ref,
                            const std::vector<std::string>& contact_refs,
                            bool remove) {
  drop_cached_on_exit drop{*this, user_id};
  return run_storage([&] {
    return storage::change_members(impl_->db->url(), user_id, group_ref,
                                   contact_refs, remove);
  });
}

} // namespace catchup
