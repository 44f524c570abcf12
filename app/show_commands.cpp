// SPDX-License-Identifier: Apache-2.0
// `catchup suggestions` and `catchup contact`: what the engine holds for a
// user, read through its caches.

#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"
#include "app/suggestion_output.hpp"
#include "app/time_text.hpp"

namespace catchup::app {

namespace {

struct show_options {
  std::string user_id;
  std::string contact_id;
  bool as_json = false;
};

int suggestions_command(const command_context& ctx, const show_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto items = eng->suggestions(o.user_id);
  if (!items)
    return report_failure(items.error());
  if (o.as_json) {
    std::cout << suggestions_json(*items).dump(2) << '\n';
    return exit_ok;
  }
  print_suggestions(o.user_id, *items, items->size());
  return exit_ok;
}

nlohmann::json to_json(const contact_info& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"last_contact", c.last_contact_unix_s
                             ? nlohmann::json(format_utc(*c.last_contact_unix_s))
                             : nlohmann::json(nullptr)},
          {"frequency", c.frequency.empty() ? nlohmann::json(nullptr)
                                            : nlohmann::json(c.frequency)},
          {"groups", c.group_ids},
          {"archived", c.archived},
          {"email", c.email},
          {"phone", c.phone},
          {"location", c.location},
          {"organization", c.organization}};
}

int contact_command(const command_context& ctx, const show_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto c = eng->contact(o.user_id, o.contact_id);
  if (!c)
    return report_failure(c.error());
  auto out = to_json(*c);
  if (o.as_json) {
    std::cout << out.dump(2) << '\n';
    return exit_ok;
  }
  for (auto& [key, value] : out.items())
    std::cout << key << ": "
              << (value.is_string() ? value.get<std::string>() : value.dump())
              << '\n';
  return exit_ok;
}

} // namespace

void add_show_commands(CLI::App& cli, command& run) {
  auto o = std::make_shared<show_options>();
  auto* suggestions = cli.add_subcommand(
    "suggestions", "show a user's pending suggestions");
  suggestions->add_option("--user", o->user_id, "user id")->required();
  suggestions->add_flag("--json", o->as_json, "print JSON");
  suggestions->callback([&run, o] {
    run = [o](const command_context& c) { return suggestions_command(c, *o); };
  });

  auto* contact = cli.add_subcommand(
    "contact", "show one contact of a user (through the contact cache)");
  contact->add_option("--user", o->user_id, "user id")->required();
  contact->add_option("--id", o->contact_id, "contact id")->required();
  contact->add_flag("--json", o->as_json, "print JSON");
  contact->callback([&run, o] {
    run = [o](const command_context& c) { return contact_command(c, *o); };
  });
}

} // namespace catchup::app
