// SPDX-License-Identifier: Apache-2.0
// `catchup users add|list|show|delete`: the engine's users, created,
// listed, read and deleted through the public API.

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"
#include "app/contact_output.hpp"
#include "app/time_text.hpp"

namespace catchup::app {

namespace {

struct users_options {
  std::string user_id;
  std::string email;
  std::optional<std::string> name;
  std::optional<std::string> timezone;
  bool as_json = false;
  bool confirmed = false;
};

nlohmann::json to_json(const user_info& u) {
  return {{"id", u.id},
          {"email", u.email},
          {"name", u.name},
          {"timezone", u.timezone},
          {"active", u.active},
          {"created_at", format_utc(u.created_at_unix_s)},
          {"contacts", u.contacts},
          {"pending_suggestions", u.pending_suggestions}};
}

/// One line per user: "ID  EMAIL  NAME  ZONE  active  N contacts  M
/// pending".
void print_user_line(const user_info& u) {
  std::cout << u.id << "  " << u.email << "  "
            << (u.name.empty() ? std::string{"-"} : u.name) << "  "
            << u.timezone << "  " << (u.active ? "active" : "inactive")
            << "  " << u.contacts << " contacts  " << u.pending_suggestions
            << " pending\n";
}

int add_command(const command_context& ctx, const users_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  user_profile profile;
  profile.email = o.email;
  profile.name = o.name;
  profile.timezone = o.timezone;
  auto id = eng->put_user(profile);
  if (!id)
    return report_failure(id.error());
  if (!o.as_json) {
    std::cout << *id << '\n';
    return exit_ok;
  }
  auto u = eng->user(*id);
  if (!u)
    return report_failure(u.error());
  std::cout << to_json(*u).dump(2) << '\n';
  return exit_ok;
}

int list_command(const command_context& ctx, const users_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto users = eng->users();
  if (!users)
    return report_failure(users.error());
  if (o.as_json) {
    auto out = nlohmann::json::array();
    for (const auto& u : *users)
      out.push_back(to_json(u));
    std::cout << out.dump(2) << '\n';
    return exit_ok;
  }
  for (const auto& u : *users)
    print_user_line(u);
  std::cout << users->size() << " user(s)\n";
  return exit_ok;
}

int show_command(const command_context& ctx, const users_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto u = eng->user(o.user_id);
  if (!u)
    return report_failure(u.error());
  auto out = to_json(*u);
  print_object(out, o.as_json);
  return exit_ok;
}

int delete_command(const command_context& ctx, const users_options& o) {
  if (!o.confirmed)
    return report_error(exit_usage_error,
                        "not deleting user " + o.user_id
                          + " without --yes: it removes the user and all "
                            "their contacts, calendars, suggestions and "
                            "jobs for good");
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  if (auto deleted = eng->delete_user(o.user_id); !deleted)
    return report_failure(deleted.error());
  std::cout << "deleted user " << o.user_id << '\n';
  return exit_ok;
}

/// Sets `run` to `body` with `o` when `sub` is chosen.
void on_chosen(CLI::App* sub, command& run,
               std::shared_ptr<users_options> o,
               int (*body)(const command_context&, const users_options&)) {
  sub->callback([&run, o, body] {
    run = [o, body](const command_context& c) { return body(c, *o); };
  });
}

} // namespace

void add_users_commands(CLI::App& cli, command& run) {
  auto* users = cli.add_subcommand("users", "the engine's users: add, list, "
                                            "show or delete them");
  users->require_subcommand(1);

  auto add_o = std::make_shared<users_options>();
  auto* add = users->add_subcommand(
    "add", "create a user (or update the one with that email) and print "
           "their id");
  add->add_option("--email", add_o->email, "the user's email (unique)")
    ->required();
  add->add_option("--name", add_o->name, "display name");
  add->add_option("--timezone", add_o->timezone,
                  "IANA zone, e.g. Europe/Berlin (default UTC)");
  add->add_flag("--json", add_o->as_json, "print the user as JSON");
  on_chosen(add, run, add_o, add_command);

  auto list_o = std::make_shared<users_options>();
  auto* list = users->add_subcommand(
    "list", "every user with their contacts and pending suggestions");
  list->add_flag("--json", list_o->as_json, "print JSON");
  on_chosen(list, run, list_o, list_command);

  auto show_o = std::make_shared<users_options>();
  auto* show = users->add_subcommand("show", "one user with their counts");
  show->add_option("--user", show_o->user_id, "user id")->required();
  show->add_flag("--json", show_o->as_json, "print JSON");
  on_chosen(show, run, show_o, show_command);

  auto delete_o = std::make_shared<users_options>();
  auto* del = users->add_subcommand(
    "delete", "delete a user and all their data (needs --yes)");
  del->add_option("--user", delete_o->user_id, "user id")->required();
  del->add_flag("--yes", delete_o->confirmed,
                "really delete: contacts, calendars, suggestions and jobs "
                "go too");
  on_chosen(del, run, delete_o, delete_command);
}

} // namespace catchup::app
