// SPDX-License-Identifier: Apache-2.0
#include "app/suggestion_output.hpp"

#include <iomanip>
#include <iostream>

#include "app/time_text.hpp"

namespace catchup::app {

nlohmann::json suggestion_json(const suggestion& s) {
  return {{"id", s.id},
          {"rank", s.rank},
          {"contact_id", s.contact_id},
          {"contact_name", s.contact_name},
          {"priority", s.priority},
          {"slot_start", format_utc(s.slot_start_unix_s)},
          {"slot_end", format_utc(s.slot_end_unix_s)},
          {"slot_timezone", s.slot_timezone},
          {"reason", s.reason},
          {"status", to_string(s.status)}};
}

nlohmann::json suggestions_json(const std::vector<suggestion>& items) {
  auto out = nlohmann::json::array();
  for (auto& s : items)
    out.push_back(suggestion_json(s));
  return out;
}

void print_suggestion_line(const suggestion& s) {
  // The id first: it is what `catchup suggestions accept|dismiss|snooze
  // --id` takes.
  std::cout << "  " << s.id << "  "
            << format_local(s.slot_start_unix_s, s.slot_timezone) << "  "
            << s.reason << "  (priority " << std::fixed
            << std::setprecision(1) << s.priority << ")\n";
}

void print_suggestions(const std::string& user_id,
                       const std::vector<suggestion>& items,
                       std::size_t rows_max) {
  std::cout << "user " << user_id << ": " << items.size()
            << " suggestion(s)\n";
  std::size_t shown = 0;
  for (auto& s : items) {
    if (shown++ == rows_max) {
      std::cout << "  ... " << (items.size() - rows_max) << " more\n";
      break;
    }
    print_suggestion_line(s);
  }
}

} // namespace catchup::app
