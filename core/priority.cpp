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
  auto threshold = threshold_days(f);
  // Compare before subtracting: days - threshold overflows near INT64_MIN.
  auto overdue = days > threshold ? days - threshold : 0;
  return 100.0 + 50.0 * std::log1p(static_cast<double>(overdue));
}

unix_seconds due_cutoff(frequency f, unix_seconds now) noexcept {
  auto span = threshold_days(f) * seconds_per_day;
  constexpr auto lowest = std::numeric_limits<unix_seconds>::min();
  if (now < lowest + span)
    return lowest;
  return now - span;
}

candidate make_candidate(std::string id, std::string name,
                         std::optional<unix_seconds> last,
                         std::optional<frequency> pref, unix_seconds now) {
  candidate c;
  c.contact_id = std::move(id);
  c.name = std::move(name);
  c.last_contact = last;
  c.preference = pref;
  c.days = days_since(last, now);
  c.priority = priority(c.days, pref.value_or(default_frequency));
  return c;
}

bool ranks_before(const candidate& a, const candidate& b) noexcept {
  if (a.priority != b.priority)
    return a.priority > b.priority;
  if (a.last_contact != b.last_contact)
    // std::optional orders nullopt before every value: never-contacted first.
    return a.last_contact < b.last_contact;
  return a.contact_id < b.contact_id;
}

std::string reason_text(const candidate& c) {
  std::string text;
  if (!c.last_contact) {
    text = "You haven't caught up with " + c.name + " yet";
  } else if (c.days > 1) {
    text = "It's been " + std::to_string(c.days) +
           " days since you caught up with " + c.name;
  } else if (c.days == 1) {
    text = "It's been 1 day since you caught up with " + c.name;
  } else if (c.days == 0) {
    text = "You caught up with " + c.name + " today";
  } else {
    // A last contact after `now`: clock skew or a catch-up logged ahead.
    text = "Your last catch-up with " + c.name + " is dated in the future";
  }
  text += ' ';
  text += em_dash;
  if (c.preference) {
    text += " you wanted ";
    text += cadence(*c.preference);
  } else {
    text += " with no preference set, ";
    text += cadence(default_frequency);
    text += " are the default";
  }
  text += '.';
  return text;
}

} // namespace catchup
