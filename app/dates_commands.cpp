// SPDX-License-Identifier: Apache-2.0
// `catchup birthdays`: the birthdays and anniversaries of a user's contacts
// coming within a number of days, in the user's time zone.

#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/cli.hpp"

namespace catchup::app {

namespace {

struct dates_options {
  std::string user_id;
  int horizon_days = 14;
  std::string now_text;
  std::int64_t now_unix_s = 0;
  bool as_json = false;
};

nlohmann::json to_json(const std::vector<upcoming_date>& items) {
  auto out = nlohmann::json::array();
  for (auto& d : items)
    out.push_back({{"contact_id", d.contact_id},
                   {"name", d.contact_name},
                   {"kind", d.kind},
                   {"date", d.date},
                   {"days_until", d.days_until},
                   {"years", d.years ? nlohmann::json(*d.years)
                                     : nlohmann::json(nullptr)}});
  return out;
}

/// "Dec 12" from "YYYY-MM-DD".
std::string month_day(const std::string& iso_date) {
  static const char* const months[] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};
  const int month = std::stoi(iso_date.substr(5, 2));
  const int day = std::stoi(iso_date.substr(8, 2));
  return std::string{months[month - 1]} + " " + std::to_string(day);
}

/// "birthday (turns 41)", "anniversary (12 years)", or the kind alone
/// when the year is not known.
std::string what_of(const upcoming_date& d) {
  if (!d.years)
    return d.kind;
  if (d.kind == "birthday")
    return d.kind + " (turns " + std::to_string(*d.years) + ")";
  return d.kind + " (" + std::to_string(*d.years)
         + (*d.years == 1 ? " year)" : " years)");
}

std::string when_of(int days_until) {
  if (days_until == 0)
    return "today";
  if (days_until == 1)
    return "tomorrow";
  return "in " + std::to_string(days_until) + " days";
}

int birthdays_command(const command_context& ctx, const dates_options& o) {
  auto eng = open_engine(ctx);
  if (!eng)
    return report_failure(eng.error());
  database_interrupt_guard interrupt_guard{ctx.config};
  auto items = eng->upcoming_dates(o.user_id, o.horizon_days, o.now_unix_s);
  if (!items)
    return report_failure(items.error());
  if (o.as_json) {
    std::cout << to_json(*items).dump(2) << '\n';
    return exit_ok;
  }
  if (items->empty()) {
    std::printf("no birthdays or anniversaries in the next %d days\n",
                o.horizon_days);
    return exit_ok;
  }
  for (auto& d : *items)
    std::printf("%-6s  %s  %s  %s\n", month_day(d.date).c_str(),
                d.contact_name.c_str(), what_of(d).c_str(),
                when_of(d.days_until).c_str());
  return exit_ok;
}

} // namespace

void add_dates_commands(CLI::App& cli, command& run) {
  auto o = std::make_shared<dates_options>();
  auto* birthdays = cli.add_subcommand(
    "birthdays",
    "show the birthdays and anniversaries of a user's contacts coming "
    "within a number of days");
  birthdays->add_option("--user", o->user_id, "user id")->required();
  birthdays->add_option("--days", o->horizon_days,
                        "days to look ahead, today included (1-366)")
    ->default_val(14);
  birthdays->add_option("--now", o->now_text,
                        "the instant to count from (2026-12-08T09:00:00Z "
                        "or Unix seconds; default: now)");
  birthdays->add_flag("--json", o->as_json, "print JSON");
  birthdays->callback([&run, o] {
    o->now_unix_s = parse_now(o->now_text);
    run = [o](const command_context& c) { return birthdays_command(c, *o); };
  });
}

} // namespace catchup::app
