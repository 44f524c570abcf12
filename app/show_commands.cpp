// SPDX-License-Identifier: Apache-2.0
// `catchup suggestions` and `catchup contact`: what the engine holds for a
// user, read through its caches; and `catchup suggestions accept|dismiss|
// snooze`, a user's answers to their suggestions.

#include <iostream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"
#include "app/contact_output.hpp"
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

/// One answer to a suggestion, as `suggestions accept|dismiss|snooze` take
/// it.
struct answer_options {
  suggestion_response response;
  std::string until_text;
  std::string now_text;
  bool as_json = false;
};

int answer_command(const command_context& ctx, const answer_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto s = eng->respond(o.response);
  if (!s)
    return report_failure(s.error());
  const bool snoozed = o.response.action == suggestion_action::snooze;
  if (o.as_json) {
    auto doc = suggestion_json(*s);
    if (snoozed)
      doc["snoozed_until"] = format_utc(o.response.snooze_until_unix_s);
    std::cout << doc.dump(2) << '\n';
    return exit_ok;
  }
  std::cout << "suggestion " << s->id << " is " << to_string(s->status);
  if (snoozed)
    std::cout << " until " << format_utc(o.response.snooze_until_unix_s);
  std::cout << '\n';
  print_suggestion_line(*s);
  return exit_ok;
}

/// Adds `suggestions NAME`, which answers one suggestion with `action`.
CLI::App* add_answer_command(CLI::App& suggestions, command& run,
                             const std::string& name,
                             suggestion_action action,
                             const std::string& description) {
  auto o = std::make_shared<answer_options>();
  o->response.action = action;
  auto* sub = suggestions.add_subcommand(name, description);
  sub->add_option("--user", o->response.user_id, "user id")->required();
  sub->add_option("--id", o->response.suggestion_id,
                  "suggestion id (as `catchup suggestions` lists them)")
    ->required();
  sub->add_flag("--json", o->as_json, "print the suggestion as JSON");
  sub->add_option("--now", o->now_text, "the instant of the answer "
                                        "(default: the clock)");
  if (action == suggestion_action::dismiss) {
    sub->add_option("--reason", o->response.reason,
                    "why, in the user's words");
    sub->add_flag("--met-recently", o->response.met_recently,
                  "the user met the contact lately: it counts as contacted "
                  "now");
  }
  if (action == suggestion_action::snooze)
    sub->add_option("--until", o->until_text,
                    "when to ask again: an instant like 2026-11-25T18:00:00Z "
                    "or Unix seconds, after now and at most 90 days ahead")
      ->required();
  sub->callback([&run, o] {
    o->response.now_unix_s = parse_now(o->now_text);
    if (o->response.action == suggestion_action::snooze)
      o->response.snooze_until_unix_s
        = parse_instant_option("--until", o->until_text);
    run = [o](const command_context& c) { return answer_command(c, *o); };
  });
  return sub;
}

int contact_command(const command_context& ctx, const show_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto c = eng->contact(o.user_id, o.contact_id);
  if (!c)
    return report_failure(c.error());
  auto out = contact_json(*c);
  print_object(out, o.as_json);
  return exit_ok;
}

} // namespace

void add_show_commands(CLI::App& cli, command& run) {
  auto o = std::make_shared<show_options>();
  auto* suggestions = cli.add_subcommand(
    "suggestions", "show a user's pending suggestions (with their ids), or "
                   "answer one: accept, dismiss or snooze it");
  // Alone it lists; with one of its commands it answers.
  suggestions->require_subcommand(0, 1);
  auto* user_opt = suggestions->add_option(
    "--user", o->user_id, "user id (required to list their suggestions)");
  suggestions->add_flag("--json", o->as_json, "print JSON");
  add_answer_command(*suggestions, run, "accept", suggestion_action::accept,
                     "accept a pending suggestion: the user will catch up "
                     "in its slot");
  add_answer_command(*suggestions, run, "dismiss", suggestion_action::dismiss,
                     "dismiss a pending suggestion");
  add_answer_command(*suggestions, run, "snooze", suggestion_action::snooze,
                     "snooze a pending suggestion until a later time");
  suggestions->callback([&run, o, suggestions, user_opt] {
    if (!suggestions->get_subcommands().empty())
      return; // an answer, set up by its own command
    if (user_opt->count() == 0)
      throw CLI::RequiredError("--user");
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
