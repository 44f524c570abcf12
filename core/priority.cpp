// SPDX-License-Identifier: Apache-2.0
#include "core/priority.hpp"

#include <cmath>
#include <limits>
#include <utility>

namespace catchup {

namespace {

// Floor division and its remainder for a positive divisor; C++ division
// truncates toward zero, which is wrong for negative dividends.
std::int64_t floor_div(std::int64_t a, std::int64_t d) noexcept {
  auto q = a / d;
  if (a % d < 0)
    --q;
  return q;
}

std::int64_t floor_mod(std::int64_t a, std::int64_t d) noexcept {
  auto r = a % d;
  return r < 0 ? r + d : r;
}

// U+2014 EM DASH spelled as UTF-8 bytes, so that the result does not depend
// on the compiler's execution character set.
constexpr const char* em_dash = "\xE2\x80\x94";

// Noun phrases completing "you wanted ...".
const char* cadence(frequency f) noexcept {
  switch (f) {
    case frequency::daily: return "daily catch-ups";
    case frequency::weekly: return "weekly catch-ups";
    // "Biweekly" also means twice a week; the threshold is 14 days.
    case frequency::biweekly: return "catch-ups every two weeks";
    case frequency::monthly: return "monthly catch-ups";
    case frequency::quarterly: return "quarterly catch-ups";
    case frequency::yearly: return "yearly catch-ups";
    case frequency::flexible: return "catch-ups now and then";
    case frequency::na: return "catch-ups without a set schedule";
  }
  return "monthly catch-ups";
}

} // namespace

std::int64_t days_since(std::optional<unix_seconds> last_contact,
                        unix_seconds now) noexcept {
  // now - last can overflow for far-apart values, so subtract whole days
  // and the remainders separately: with x = q * D + r and 0 <= r < D,
  // floor((now - last) / D) = (qn - ql) + floor((rn - rl) / D), and the last
  // term is -1 or 0 because rn - rl lies in (-D, D).
  auto last = last_contact.value_or(0);
  auto days =
    floor_div(now, seconds_per_day) - floor_div(last, seconds_per_day);
  if (floor_mod(now, seconds_per_day) < floor_mod(last, seconds_per_day))
    --days;
  return days;
}

bool is_due(std::int64_t days, frequency f) noexcept {
  return days >= threshold_days(f);
}

double priority(std::int64_t days, frequency f) noexcept {
  return priority_of_score(
    overdue_score(days, threshold_days(f), neutral_weight_quarters));
}

std::int64_t overdue_score(std::int64_t days, std::int64_t cadence_days,
                           std::int64_t weight_quarters) noexcept {
  // Compare before subtracting: days - cadence overflows near INT64_MIN.
  if (days <= cadence_days)
    return 0;
  auto overdue = days - cadence_days;
  constexpr auto highest = std::numeric_limits<std::int64_t>::max();
  if (weight_quarters > 0 && overdue > highest / weight_quarters)
    return highest;
  return overdue * weight_quarters;
}

std::int64_t importance_weight_quarters(std::string_view circle) noexcept {
  if (circle == "inner")
    return 8;
  if (circle == "close")
    return 6;
  if (circle == "active")
    return 5;
  if (circle == "casual")
    return 3;
  return neutral_weight_quarters;
}

double priority_of_score(std::int64_t score) noexcept {
  return 100.0
         + 50.0 * std::log1p(static_cast<double>(score)
                             / static_cast<double>(neutral_weight_quarters));
}

unix_seconds due_cutoff(frequency f, unix_seconds now) noexcept {
  return due_cutoff_days(threshold_days(f), now);
}

unix_seconds due_cutoff_days(std::int64_t cadence_days,
                             unix_seconds now) noexcept {
  auto span = cadence_days * seconds_per_day;
  constexpr auto lowest = std::numeric_limits<unix_seconds>::min();
  if (now < lowest + span)
    return lowest;
  return now - span;
}

candidate make_candidate(std::string id, std::string name,
                         std::optional<unix_seconds> last, unix_seconds added,
                         const contact_cadence& cadence, unix_seconds now) {
  candidate c;
  c.contact_id = std::move(id);
  c.name = std::move(name);
  c.last_contact = last;
  c.due_from = last.value_or(added);
  c.cadence = cadence;
  c.days = days_since(c.due_from, now);
  c.score = overdue_score(c.days, cadence.days, cadence.weight_quarters);
  c.priority = priority_of_score(c.score);
  return c;
}

candidate make_candidate(std::string id, std::string name,
                         std::optional<unix_seconds> last,
                         std::optional<frequency> pref, unix_seconds now) {
  contact_cadence cadence;
  cadence.preference = pref;
  cadence.days = threshold_days(pref.value_or(default_frequency));
  cadence.source = pref ? cadence_source::contact
                        : cadence_source::user_default;
  return make_candidate(std::move(id), std::move(name), last, 0, cadence,
                        now);
}

bool ranks_before(const candidate& a, const candidate& b) noexcept {
  if (a.score != b.score)
    return a.score > b.score;
  if (a.due_from != b.due_from)
    return a.due_from < b.due_from;
  return a.contact_id < b.contact_id;
}

namespace {

// "monthly catch-ups", "catch-ups every 45 days": a cadence in days, named
// like its class where one has exactly that many days.
std::string cadence_in_days(std::int64_t days) {
  switch (days) {
    case 1: return "daily catch-ups";
    case 7: return "weekly catch-ups";
    case 14: return "catch-ups every two weeks";
    case 30: return "monthly catch-ups";
    case 90: return "quarterly catch-ups";
    case 365: return "yearly catch-ups";
    default: return "catch-ups every " + std::to_string(days) + " days";
  }
}

const char* circle_name(std::int64_t weight_quarters) noexcept {
  switch (weight_quarters) {
    case 8: return "inner circle";
    case 6: return "close friends";
    case 5: return "active friends";
    case 3: return "casual";
    default: return nullptr;
  }
}

} // namespace

std::string reason_text(const candidate& c) {
  std::string who = c.name;
  if (auto circle = circle_name(c.cadence.weight_quarters))
    who += std::string{" ("} + circle + ")";
  std::string text;
  if (!c.last_contact) {
    if (c.due_from == 0)
      text = "You haven't caught up with " + who + " yet";
    else if (c.days == 1)
      text = "You haven't caught up with " + who
             + " since you added them 1 day ago";
    else if (c.days >= 0)
      text = "You haven't caught up with " + who
             + " since you added them " + std::to_string(c.days)
             + " days ago";
    else
      text = "You haven't caught up with " + who + " yet";
  } else if (c.days > 1) {
    text = "It's been " + std::to_string(c.days) +
           " days since you caught up with " + who;
  } else if (c.days == 1) {
    text = "It's been 1 day since you caught up with " + who;
  } else if (c.days == 0) {
    text = "You caught up with " + who + " today";
  } else {
    // A last contact after `now`: clock skew or a catch-up logged ahead.
    text = "Your last catch-up with " + who + " is dated in the future";
  }
  text += ' ';
  text += em_dash;
  switch (c.cadence.source) {
    case cadence_source::contact:
      text += " you wanted ";
      text += c.cadence.preference ? std::string{cadence(*c.cadence.preference)}
                                   : cadence_in_days(c.cadence.days);
      break;
    case cadence_source::group:
      text += " a group of theirs wants ";
      text += cadence_in_days(c.cadence.days);
      break;
    case cadence_source::user_default:
      text += " with no preference set, ";
      text += cadence_in_days(c.cadence.days);
      text += " are the default";
      break;
  }
  text += '.';
  return text;
}

} // namespace catchup
