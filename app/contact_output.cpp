// SPDX-License-Identifier: Apache-2.0
#include "app/contact_output.hpp"

#include <iostream>

#include "app/time_text.hpp"

namespace catchup::app {

nlohmann::json contact_json(const contact_info& c) {
  auto dates = nlohmann::json::array();
  for (auto& d : c.dates)
    dates.push_back({{"kind", d.kind},
                     {"month", d.month},
                     {"day", d.day},
                     {"year", d.year ? nlohmann::json(*d.year)
                                     : nlohmann::json(nullptr)}});
  auto time_or_null = [](const std::optional<std::int64_t>& t) {
    return t ? nlohmann::json(format_utc(*t)) : nlohmann::json(nullptr);
  };
  return {{"id", c.id},
          {"name", c.name},
          {"last_contact", time_or_null(c.last_contact_unix_s)},
          {"added", format_utc(c.added_unix_s)},
          {"frequency", c.frequency.empty() ? nlohmann::json(nullptr)
                                            : nlohmann::json(c.frequency)},
          {"cadence_days", c.cadence_days ? nlohmann::json(c.cadence_days)
                                          : nlohmann::json(nullptr)},
          {"group_cadence_days", c.group_cadence_days
                                   ? nlohmann::json(c.group_cadence_days)
                                   : nlohmann::json(nullptr)},
          {"effective_cadence_days", c.effective_cadence_days},
          {"cadence_source", c.cadence_source},
          {"importance", c.importance.empty() ? nlohmann::json(nullptr)
                                              : nlohmann::json(c.importance)},
          {"paused_until", time_or_null(c.paused_until_unix_s)},
          {"groups", c.group_ids},
          {"archived", c.archived},
          {"email", c.email},
          {"phone", c.phone},
          {"location", c.location},
          {"organization", c.organization},
          {"dates", dates}};
}

nlohmann::json group_json(const group_info& g) {
  return {{"id", g.id},
          {"name", g.name},
          {"cadence_days", g.cadence_days ? nlohmann::json(g.cadence_days)
                                          : nlohmann::json(nullptr)},
          {"members", g.members}};
}

void print_fields(const nlohmann::json& object) {
  for (auto& [key, value] : object.items())
    std::cout << key << ": "
              << (value.is_string() ? value.get<std::string>() : value.dump())
              << '\n';
}

void print_object(const nlohmann::json& object, bool as_json) {
  if (as_json)
    std::cout << object.dump(2) << '\n';
  else
    print_fields(object);
}

} // namespace catchup::app
