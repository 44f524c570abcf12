// SPDX-License-Identifier: Apache-2.0
// `catchup contacts show|set`, `catchup groups ...` and `catchup settings
// show|set`: what a person steers, through the engine's facade (the same
// calls a host program and the HTTP API make).

#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"
#include "app/contact_output.hpp"
#include "app/time_text.hpp"
#include "core/cadence.hpp"

namespace catchup::app {

namespace {

struct steering_options {
  std::string user_id;
  std::string contact;
  std::string group;
  std::vector<std::string> members;
  bool as_json = false;
  std::string now_text;
  // contacts set
  std::string cadence;
  std::string importance;
  bool archive = false;
  bool unarchive = false;
  std::string pause_until;
  bool resume = false;
  // groups create / set
  std::string name;
  std::string new_name;
  std::string group_cadence;
  // settings set
  std::string default_cadence;
  std::string dismiss_cooldown;
  std::optional<std::int32_t> slot_horizon_days;
  std::optional<std::int32_t> slot_minutes;
  std::optional<std::int32_t> slots_per_day;
  std::optional<std::int32_t> suggestions_per_run;
  std::string timezone;
};

// The engine of one command; with --now, its clock reads that instant.
result<engine> open_with_now(const command_context& ctx,
                             const steering_options& o) {
  auto with_now = ctx;
  if (auto now = parse_now(o.now_text); now != 0)
    with_now.config.clock_unix_ms = [now] { return now * 1000; };
  return open_engine(with_now);
}

// "45", "45d", "every 45 days" for a group, or "none" (0).
std::int32_t group_cadence_days(const std::string& text) {
  if (text == "none")
    return 0;
  std::string why;
  auto choice = parse_cadence(text, why);
  if (!choice)
    throw CLI::ValidationError("--cadence", why);
  if (choice->named)
    return static_cast<std::int32_t>(threshold_days(*choice->named));
  return choice->days;
}

std::int32_t cadence_days_or_throw(const std::string& flag,
                                   const std::string& text) {
  auto days = parse_cadence_days(text);
  if (!days)
    throw CLI::ValidationError(flag, "expected a number of days from 1 to "
                                       + std::to_string(cadence_days_max)
                                       + ", got '" + text + "'");
  return *days;
}

int print_contact(const contact_info& c, bool as_json) {
  print_object(contact_json(c), as_json);
  return exit_ok;
}

int contacts_show(const command_context& ctx, const steering_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto id = eng->find_contact(o.user_id, o.contact);
  if (!id)
    return report_failure(id.error());
  auto c = eng->contact(o.user_id, *id);
  if (!c)
    return report_failure(c.error());
  return print_contact(*c, o.as_json);
}

int contacts_set(const command_context& ctx, const steering_options& o) {
  contact_update u;
  if (!o.cadence.empty())
    u.cadence = o.cadence;
  if (!o.importance.empty())
    u.importance = o.importance;
  if (o.archive)
    u.archived = true;
  if (o.unarchive)
    u.archived = false;
  if (!o.pause_until.empty()) {
    auto t = parse_instant(o.pause_until);
    if (!t)
      return report_error(exit_usage_error,
                          "--pause-until: expected an instant like "
                          "2026-12-24 or 2026-12-24T18:00:00Z, got "
                            + o.pause_until);
    u.paused_until_unix_s = *t;
  }
  if (o.resume)
    u.paused_until_unix_s = 0;
  if (!u.cadence && !u.importance && !u.archived && !u.paused_until_unix_s)
    return report_error(exit_usage_error,
                        "nothing to set: give --cadence, --importance, "
                        "--archive, --unarchive, --pause-until or --resume");
  auto eng = open_with_now(ctx, o);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto c = eng->update_contact(o.user_id, o.contact, u);
  if (!c)
    return report_failure(c.error());
  return print_contact(*c, o.as_json);
}

int print_group(const group_info& g, bool as_json) {
  print_object(group_json(g), as_json);
  return exit_ok;
}

int groups_list(const command_context& ctx, const steering_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto all = eng->groups(o.user_id);
  if (!all)
    return report_failure(all.error());
  if (o.as_json) {
    auto out = nlohmann::json::array();
    for (auto& g : *all)
      out.push_back(group_json(g));
    std::cout << out.dump(2) << '\n';
    return exit_ok;
  }
  for (auto& g : *all)
    std::cout << g.id << "  " << g.name << "  " << g.members << " member(s)"
              << (g.cadence_days
                    ? "  every " + std::to_string(g.cadence_days) + " days"
                    : std::string{})
              << '\n';
  std::cout << all->size() << " group(s)\n";
  return exit_ok;
}

int groups_create(const command_context& ctx, const steering_options& o) {
  auto days = o.group_cadence.empty() ? 0 : group_cadence_days(o.group_cadence);
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto g = eng->create_group(o.user_id, o.name, days);
  if (!g)
    return report_failure(g.error());
  return print_group(*g, o.as_json);
}

int groups_set(const command_context& ctx, const steering_options& o) {
  if (o.new_name.empty() && o.group_cadence.empty())
    return report_error(exit_usage_error,
                        "nothing to set: give --name or --cadence");
  auto days = o.group_cadence.empty() ? -1 : group_cadence_days(o.group_cadence);
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto g = eng->update_group(o.user_id, o.group, o.new_name, days);
  if (!g)
    return report_failure(g.error());
  return print_group(*g, o.as_json);
}

int groups_delete(const command_context& ctx, const steering_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto done = eng->delete_group(o.user_id, o.group);
  if (!done)
    return report_failure(done.error());
  std::cout << "deleted group " << o.group << '\n';
  return exit_ok;
}

int groups_members(const command_context& ctx, const steering_options& o,
                   bool remove) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto changed = remove ? eng->remove_from_group(o.user_id, o.group, o.members)
                        : eng->add_to_group(o.user_id, o.group, o.members);
  if (!changed)
    return report_failure(changed.error());
  if (o.as_json)
    std::cout << nlohmann::json{{"changed", *changed}}.dump(2) << '\n';
  else
    std::cout << (remove ? "removed " : "added ") << *changed
              << " contact(s) " << (remove ? "from " : "to ") << o.group
              << '\n';
  return exit_ok;
}

nlohmann::json settings_json(const user_settings& s) {
  auto windows = nlohmann::json::array();
  for (auto& w : s.availability)
    windows.push_back({{"weekday", w.weekday},
                       {"start_minute", w.start_minute},
                       {"end_minute", w.end_minute}});
  return {{"user_id", s.user_id},
          {"timezone", s.timezone},
          {"default_cadence_days", s.default_cadence_days},
          {"dismiss_cooldown_days",
           s.dismiss_cooldown_days ? nlohmann::json(s.dismiss_cooldown_days)
                                   : nlohmann::json("one cadence period")},
          {"slot_horizon_days", s.slot_horizon_days},
          {"slot_minutes", s.slot_minutes},
          {"slots_per_day", s.slots_per_day},
          {"suggestions_per_run", s.suggestions_per_run},
          {"default_availability", s.default_availability},
          {"availability", windows}};
}

// The settings as JSON, or as lines without the availability windows.
int print_settings(const user_settings& s, bool as_json) {
  auto out = settings_json(s);
  if (!as_json)
    out.erase("availability");
  print_object(out, as_json);
  return exit_ok;
}

int settings_show(const command_context& ctx, const steering_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto s = eng->settings(o.user_id);
  if (!s)
    return report_failure(s.error());
  return print_settings(*s, o.as_json);
}

int settings_set(const command_context& ctx, const steering_options& o) {
  user_profile p;
  p.id = o.user_id;
  if (!o.default_cadence.empty())
    p.default_cadence_days
      = cadence_days_or_throw("--default-cadence", o.default_cadence);
  if (!o.dismiss_cooldown.empty())
    p.dismiss_cooldown_days
      = o.dismiss_cooldown == "cadence"
          ? 0
          : cadence_days_or_throw("--dismiss-cooldown", o.dismiss_cooldown);
  p.slot_horizon_days = o.slot_horizon_days;
  p.slot_minutes = o.slot_minutes;
  p.slots_per_day = o.slots_per_day;
  p.suggestions_per_run = o.suggestions_per_run;
  if (!o.timezone.empty())
    p.timezone = o.timezone;
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  if (auto stored = eng->put_user(p); !stored)
    return report_failure(stored.error());
  auto s = eng->settings(o.user_id);
  if (!s)
    return report_failure(s.error());
  return print_settings(*s, o.as_json);
}

void add_user_option(CLI::App* cmd, steering_options& o) {
  cmd->add_option("--user", o.user_id, "user id")->required();
  cmd->add_flag("--json", o.as_json, "print JSON");
}

template <class F>
void on_run(CLI::App* cmd, command& run, std::shared_ptr<steering_options> o,
            F f) {
  cmd->callback([&run, o, f] {
    run = [o, f](const command_context& c) { return f(c, *o); };
  });
}

} // namespace

void add_steering_commands(CLI::App& cli, command& run) {
  auto o = std::make_shared<steering_options>();
  const char* contact_help = "the contact: its id, exact name or e-mail";

  auto* contacts = cli.add_subcommand(
    "contacts", "show a contact or change how often and whether it is "
                "suggested");
  contacts->require_subcommand(1);
  auto* show = contacts->add_subcommand("show", "show one contact");
  add_user_option(show, *o);
  show->add_option("contact", o->contact, contact_help)->required();
  on_run(show, run, o, contacts_show);

  auto* set = contacts->add_subcommand(
    "set", "set a contact's cadence, importance, archive or pause");
  add_user_option(set, *o);
  set->add_option("contact", o->contact, contact_help)->required();
  set->add_option("--cadence", o->cadence,
                  "daily|weekly|biweekly|monthly|quarterly|yearly|flexible|"
                  "na, N days (45, 45d, \"every 45 days\"; 1..3650) or none "
                  "(inherit from groups, else the user's default)");
  set->add_option("--importance", o->importance,
                  "inner|close|active|casual|none: weighs the days overdue "
                  "(2x, 1.5x, 1.25x, 0.75x; none 1x)");
  auto* archive = set->add_flag("--archive", o->archive,
                                "never suggest this contact");
  auto* unarchive = set->add_flag("--unarchive", o->unarchive,
                                  "suggest this contact again");
  archive->excludes(unarchive);
  auto* pause = set->add_option("--pause-until", o->pause_until,
                                "leave the contact out until this instant "
                                "(2026-12-24 or 2026-12-24T18:00:00Z)");
  auto* resume = set->add_flag("--resume", o->resume, "end a pause now");
  pause->excludes(resume);
  set->add_option("--now", o->now_text,
                  "judge the pause against this instant instead of the clock");
  on_run(set, run, o, contacts_set);

  auto* groups = cli.add_subcommand(
    "groups", "arrange contacts in groups with a cadence their members "
              "inherit");
  groups->require_subcommand(1);
  auto* list = groups->add_subcommand("list", "list a user's groups");
  add_user_option(list, *o);
  on_run(list, run, o, groups_list);
  auto* create = groups->add_subcommand("create", "create a group");
  add_user_option(create, *o);
  create->add_option("name", o->name, "the group's name")->required();
  create->add_option("--cadence", o->group_cadence,
                     "members without a cadence of their own inherit it "
                     "(the shortest of their groups wins): a class or N days");
  on_run(create, run, o, groups_create);
  auto* gset = groups->add_subcommand("set", "rename a group or set its "
                                             "cadence");
  add_user_option(gset, *o);
  gset->add_option("group", o->group, "the group: its id or name")
    ->required();
  gset->add_option("--name", o->new_name, "the new name");
  gset->add_option("--cadence", o->group_cadence,
                   "a class, N days, or none");
  on_run(gset, run, o, groups_set);
  auto* del = groups->add_subcommand("delete", "delete a group (its members "
                                               "stay)");
  add_user_option(del, *o);
  del->add_option("group", o->group, "the group: its id or name")->required();
  on_run(del, run, o, groups_delete);
  for (bool remove : {false, true}) {
    auto* members = groups->add_subcommand(
      remove ? "remove" : "add",
      remove ? "remove contacts from a group" : "add contacts to a group");
    add_user_option(members, *o);
    members->add_option("group", o->group, "the group: its id or name")
      ->required();
    members->add_option("contacts", o->members,
                        "contacts: ids, exact names or e-mails")
      ->required();
    members->callback([&run, o, remove] {
      run = [o, remove](const command_context& c) {
        return groups_members(c, *o, remove);
      };
    });
  }

  auto* settings = cli.add_subcommand(
    "settings", "show or change what steers a user's suggestions");
  settings->require_subcommand(1);
  auto* sshow = settings->add_subcommand("show", "show the settings in "
                                                 "effect");
  add_user_option(sshow, *o);
  on_run(sshow, run, o, settings_show);
  auto* sset = settings->add_subcommand("set", "change settings (the "
                                               "others stay)");
  add_user_option(sset, *o);
  sset->add_option("--default-cadence", o->default_cadence,
                   "days between catch-ups for contacts without a cadence "
                   "(1..3650)");
  sset->add_option("--dismiss-cooldown", o->dismiss_cooldown,
                   "days a dismissed contact is held back (1..3650), or "
                   "\"cadence\": one cadence period");
  sset->add_option("--slot-horizon-days", o->slot_horizon_days,
                   "days ahead searched for free slots (1..90; 0: the "
                   "engine's)");
  sset->add_option("--slot-minutes", o->slot_minutes,
                   "length of a suggested slot (15..480; 0: the engine's)");
  sset->add_option("--slots-per-day", o->slots_per_day,
                   "most slots on one day (1..24; 0: the engine's)");
  sset->add_option("--suggestions-per-run", o->suggestions_per_run,
                   "most suggestions per generation (1..1000; 0: the "
                   "engine's)");
  sset->add_option("--timezone", o->timezone, "IANA zone, e.g. Europe/Lisbon");
  on_run(sset, run, o, settings_set);
}

} // namespace catchup::app
