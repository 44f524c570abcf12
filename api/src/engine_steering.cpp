// SPDX-License-Identifier: Apache-2.0
// The facade's steering calls (engine.hpp): settings, contact settings and
// groups, each a thin call into engine_core on the caller's thread.
#include "catchup/engine.hpp"

#include "actors/engine_core.hpp"
#include "actors/generation.hpp"
#include "convert.hpp"
#include "core/free_slots.hpp"
#include "engine_impl.hpp"

namespace catchup {

using api::closed_text;

result<user_settings> engine::settings(const std::string& user_id) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<user_settings>([&] {
    auto stored = impl_->core->user_settings(user_id);
    // What a generation uses where the user set nothing (generation.cpp).
    const slot_rules engine_rules;
    const generation_config engine_generation;
    user_settings out;
    out.user_id = user_id;
    out.timezone = stored.timezone;
    out.default_cadence_days = stored.default_cadence_days;
    out.dismiss_cooldown_days = stored.dismiss_cooldown_days;
    out.slot_horizon_days = stored.slot_horizon_days > 0
                              ? stored.slot_horizon_days
                              : static_cast<std::int32_t>(
                                  engine_generation.window_days);
    out.slot_minutes = stored.slot_minutes > 0
                         ? stored.slot_minutes
                         : static_cast<std::int32_t>(engine_rules.slot_minutes);
    out.slots_per_day = stored.slots_per_day > 0
                          ? stored.slots_per_day
                          : static_cast<std::int32_t>(
                              engine_rules.slots_per_day_max);
    out.suggestions_per_run
      = stored.suggestions_per_run > 0
          ? stored.suggestions_per_run
          : static_cast<std::int32_t>(
              impl_->settings.generation.suggestions_max);
    out.default_availability = stored.availability.empty();
    if (out.default_availability)
      for (auto& w : default_availability())
        out.availability.push_back({w.weekday, w.start_minute, w.end_minute});
    else
      out.availability = stored.availability;
    return out;
  });
}

result<std::string> engine::find_contact(const std::string& user_id,
                                         const std::string& contact) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::string>(
    [&] { return impl_->core->resolve_contact(user_id, contact); });
}

result<contact_info> engine::update_contact(const std::string& user_id,
                                            const std::string& contact,
                                            const contact_update& update) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<contact_info>([&] {
    auto id = impl_->core->update_contact(user_id, contact, update);
    return api::to_public(impl_->core->contact(user_id, id));
  });
}

result<std::vector<group_info>> engine::groups(const std::string& user_id) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::vector<group_info>>(
    [&] { return impl_->core->groups(user_id); });
}

result<group_info> engine::create_group(const std::string& user_id,
                                        const std::string& name,
                                        std::int32_t cadence_days) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<group_info>(
    [&] { return impl_->core->create_group(user_id, name, cadence_days); });
}

result<group_info> engine::update_group(const std::string& user_id,
                                        const std::string& group,
                                        const std::string& new_name,
                                        std::int32_t cadence_days) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<group_info>([&] {
    return impl_->core->update_group(user_id, group, new_name, cadence_days);
  });
}

result<void> engine::delete_group(const std::string& user_id,
                                  const std::string& group) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  auto r = impl_->call<bool>([&] {
    impl_->core->delete_group(user_id, group);
    return true;
  });
  if (!r)
    return r.error();
  return {};
}

result<std::int64_t>
engine::add_to_group(const std::string& user_id, const std::string& group,
                     const std::vector<std::string>& contacts) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::int64_t>([&] {
    return impl_->core->change_members(user_id, group, contacts, false);
  });
}

result<std::int64_t>
engine::remove_from_group(const std::string& user_id, const std::string& group,
                          const std::vector<std::string>& contacts) {
  if (!impl_)
    return error{error_code::closed, closed_text};
  return impl_->call<std::int64_t>([&] {
    return impl_->core->change_members(user_id, group, contacts, true);
  });
}

} // namespace catchup
