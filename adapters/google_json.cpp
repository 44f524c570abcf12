// SPDX-License-Identifier: Apache-2.0
#include "adapters/google_json.hpp"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/contact_date.hpp"
#include "core/utf8.hpp"

namespace catchup::google_json {

namespace {

// What a google_item_error keeps of its item, as the file readers do.
constexpr std::size_t item_excerpt_bytes_max = 60;

char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ascii_lowercase(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

// -- times --------------------------------------------------------------------

// Calendar arithmetic (days_from_civil, civil_from_days, days_in_month)
// is core's (core/contact_date.hpp).

// `count` decimal digits at `pos`.
bool read_digits(std::string_view s, std::size_t pos, std::size_t count,
                 int& out) noexcept {
  if (pos + count > s.size())
    return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD" at the start of `s`, as days since the epoch.
std::optional<std::int64_t> parse_date_prefix(std::string_view s) {
  int year = 0, month = 0, day = 0;
  if (!read_digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-'
      || !read_digits(s, 5, 2, month) || s[7] != '-'
      || !read_digits(s, 8, 2, day))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
    return std::nullopt;
  return days_from_civil(civil_day{year, month, day});
}

// An all-day "date": midnight UTC of that day.
std::optional<std::int64_t> parse_date(std::string_view s) {
  if (s.size() != 10)
    return std::nullopt;
  auto days = parse_date_prefix(s);
  if (!days)
    return std::nullopt;
  return *days * 86400;
}

// An RFC 3339 "dateTime": YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM);
// the fraction is dropped.
std::optional<std::int64_t> parse_date_time(std::string_view s) {
  auto days = parse_date_prefix(s);
  if (!days || s.size() < 20 || (s[10] != 'T' && s[10] != 't'))
    return std::nullopt;
  int hour = 0, minute = 0, second = 0;
  if (!read_digits(s, 11, 2, hour) || s[13] != ':'
      || !read_digits(s, 14, 2, minute) || s[16] != ':'
      || !read_digits(s, 17, 2, second))
    return std::nullopt;
  // 60: a leap second, as RFC 3339 allows.
  if (hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const auto digits_begin = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
      ++pos;
    if (pos == digits_begin)
      return std::nullopt;
  }
  std::int64_t offset_s = 0;
  const auto zone = s.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset_s = 0;
  } else {
    int offset_hours = 0, offset_minutes = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-')
        || !read_digits(zone, 1, 2, offset_hours) || zone[3] != ':'
        || !read_digits(zone, 4, 2, offset_minutes) || offset_hours > 23
        || offset_minutes > 59)
      return std::nullopt;
    offset_s = (offset_hours * 3600 + offset_minutes * 60)
               * (zone[0] == '-' ? -1 : 1);
  }
  return *days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
}

} // namespace

std::string excerpt(std::string_view text, std::size_t bytes_max) {
  return printable_excerpt(text::trim(text), bytes_max);
}

// "YYYY-MM-DDTHH:MM:SSZ", as timeMin/timeMax want it.
std::string format_date_time_utc(std::int64_t unix_s, const char* what) {
  const std::int64_t days = unix_s / 86400 - (unix_s % 86400 < 0 ? 1 : 0);
  const std::int64_t seconds = unix_s - days * 86400;
  const auto date = civil_from_days(days);
  if (date.year < 0 || date.year > 9999)
    throw std::invalid_argument(std::string{"google_client::list_events: "}
                                + what + " " + std::to_string(unix_s)
                                + " is outside the years 0000..9999");
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                static_cast<int>(date.year), date.month, date.day,
                static_cast<int>(seconds / 3600),
                static_cast<int>(seconds / 60 % 60),
                static_cast<int>(seconds % 60));
  return buffer;
}

// -- JSON ---------------------------------------------------------------------

// True when `body` nests arrays and objects deeper than `depth_max`. A
// linear scan, before parsing, so depth is bounded whatever the parser does.
bool json_too_deep(std::string_view body, int depth_max) noexcept {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > depth_max)
        return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// `key` of `object`, or null when absent or JSON null.
const json* member(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return nullptr;
  return &*it;
}

namespace {

std::string where_key(const std::string& where, const char* key) {
  return where.empty() ? std::string{key} : where + "." + key;
}

// A string member, trimmed; "" when absent.
std::string string_member(const json& object, const char* key,
                          const std::string& where = {}) {
  const json* value = member(object, key);
  if (value == nullptr)
    return {};
  if (!value->is_string())
    throw bad_item{where_key(where, key) + " is not a string"};
  return std::string{text::trim(value->get_ref<const std::string&>())};
}

// An object member, or null when absent.
const json* object_member(const json& object, const char* key,
                          const std::string& where = {}) {
  const json* value = member(object, key);
  if (value != nullptr && !value->is_object())
    throw bad_item{where_key(where, key) + " is not an object"};
  return value;
}

// The elements of an array member, each an object; empty when absent.
std::vector<const json*> object_array_member(const json& object,
                                             const char* key) {
  std::vector<const json*> out;
  const json* value = member(object, key);
  if (value == nullptr)
    return out;
  if (!value->is_array())
    throw bad_item{std::string{key} + " is not an array"};
  for (std::size_t i = 0; i < value->size(); ++i) {
    const json& element = (*value)[i];
    if (!element.is_object())
      throw bad_item{std::string{key} + "[" + std::to_string(i)
                     + "] is not an object"};
    out.push_back(&element);
  }
  return out;
}

std::string element_where(const char* key, std::size_t i) {
  return std::string{key} + "[" + std::to_string(i) + "]";
}

// The values of `key` in each element of `elements` (named `array` in
// errors), non-empty ones only.
std::vector<std::string> values_of(const std::vector<const json*>& elements,
                                   const char* array, const char* key) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    auto value = string_member(*elements[i], key, element_where(array, i));
    if (!value.empty())
      out.push_back(std::move(value));
  }
  return out;
}

// The element marked metadata.primary, else the first; null when none.
// Google lists the primary first, but does not promise it.
const json* primary_or_first(const std::vector<const json*>& elements) {
  for (const json* element : elements) {
    const json* metadata = member(*element, "metadata");
    if (metadata == nullptr || !metadata->is_object())
      continue;
    const json* primary = member(*metadata, "primary");
    if (primary != nullptr && primary->is_boolean() && primary->get<bool>())
      return element;
  }
  return elements.empty() ? nullptr : elements.front();
}
} // namespace

std::string item_excerpt(const json& item) {
  return excerpt(item.dump(-1, ' ', false, json::error_handler_t::replace),
                 item_excerpt_bytes_max);
}

// "message (STATUS; reason)" from Google's error body, the OAuth
// "error: error_description", else an excerpt of the body itself.
std::string google_message(const std::string& body) {
  if (body.empty())
    return "(empty body)";
  if (!json_too_deep(body, json_depth_max)) {
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_object()) {
      const json* error = member(doc, "error");
      if (error != nullptr && error->is_string()) {
        std::string out = error->get<std::string>();
        const json* description = member(doc, "error_description");
        if (description != nullptr && description->is_string())
          out += ": " + description->get<std::string>();
        return excerpt(out, message_excerpt_bytes_max);
      }
      if (error != nullptr && error->is_object()) {
        std::string out;
        const json* message = member(*error, "message");
        if (message != nullptr && message->is_string())
          out = message->get<std::string>();
        std::string tags;
        const json* status = member(*error, "status");
        if (status != nullptr && status->is_string())
          tags = status->get<std::string>();
        // Calendar puts reasons in errors[], People in details[] (ErrorInfo).
        for (const char* list : {"errors", "details"}) {
          const json* entries = member(*error, list);
          if (entries == nullptr || !entries->is_array())
            continue;
          for (const auto& entry : *entries) {
            if (!entry.is_object())
              continue;
            const json* reason = member(entry, "reason");
            if (reason != nullptr && reason->is_string())
              tags += (tags.empty() ? "" : "; ") + reason->get<std::string>();
          }
        }
        if (!tags.empty())
          out += (out.empty() ? "(" : " (") + tags + ")";
        if (!out.empty())
          return excerpt(out, message_excerpt_bytes_max);
      }
    }
  }
  return excerpt(body, message_excerpt_bytes_max);
}

// -- people -------------------------------------------------------------------

namespace {

// An integer member of a Google date; 0 when absent (Google leaves out a
// year it does not know, or sends 0).
std::optional<int> date_part(const json& date, const char* key) {
  const json* value = member(date, key);
  if (value == nullptr)
    return 0;
  if (!value->is_number_integer())
    return std::nullopt;
  const auto n = value->get<std::int64_t>();
  if (n < 0 || n > 9999)
    return std::nullopt;
  return static_cast<int>(n);
}

// Reads `element`'s `date` ({year?, month, day}) as a date of `kind`. One
// without a date (a free-text birthday) is skipped; a malformed one is a
// warning of the person, who is still imported.
void map_date(const json& element, const std::string& where,
              contact_date_kind kind, vcard& card) {
  const json* date = member(element, "date");
  if (date == nullptr)
    return;
  auto warn = [&](const std::string& why) {
    card.warnings.push_back(
      vcard_error{0, where + ".date left out: " + why, item_excerpt(*date)});
  };
  if (!date->is_object()) {
    warn("not an object");
    return;
  }
  const auto year = date_part(*date, "year");
  const auto month = date_part(*date, "month");
  const auto day = date_part(*date, "day");
  if (!year || !month || !day) {
    warn("year, month and day must be whole numbers");
    return;
  }
  contact_date parsed;
  parsed.kind = kind;
  parsed.month = *month;
  parsed.day = *day;
  if (*year != 0)
    parsed.year = *year;
  if (auto why = contact_date_problem(parsed)) {
    warn(*why);
    return;
  }
  for (const auto& d : card.dates)
    if (d.kind == kind)
      return; // the first of a kind wins, as in a vCard
  card.dates.push_back(parsed);
}

void map_dates(const json& item, vcard& card) {
  const auto birthdays = object_array_member(item, "birthdays");
  // The primary birthday first, so it wins over the others.
  if (const json* primary = primary_or_first(birthdays)) {
    const auto at = static_cast<std::size_t>(
      std::find(birthdays.begin(), birthdays.end(), primary)
      - birthdays.begin());
    map_date(*primary, element_where("birthdays", at),
             contact_date_kind::birthday, card);
  }
  const auto events = object_array_member(item, "events");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto where = element_where("events", i);
    if (ascii_lowercase(string_member(*events[i], "type", where))
        == "anniversary")
      map_date(*events[i], where, contact_date_kind::anniversary, card);
  }
}

} // namespace

void map_person(const json& item, people_page& page) {
  if (!item.is_object())
    throw bad_item{"person is not a JSON object"};
  auto resource_name = string_member(item, "resourceName");
  if (resource_name.empty())
    throw bad_item{"person has no resourceName"};
  if (const json* metadata = object_member(item, "metadata")) {
    const json* deleted = member(*metadata, "deleted");
    if (deleted != nullptr && !deleted->is_boolean())
      throw bad_item{"metadata.deleted is not a boolean"};
    if (deleted != nullptr && deleted->get<bool>()) {
      page.deleted_resource_names.push_back(std::move(resource_name));
      return;
    }
  }
  vcard card;
  card.uid = std::move(resource_name);
  card.revision = string_member(item, "etag");

  const auto names = object_array_member(item, "names");
  if (const json* name = primary_or_first(names)) {
    const std::string where = "names[]";
    card.given_name = string_member(*name, "givenName", where);
    card.family_name = string_member(*name, "familyName", where);
    card.formatted_name = string_member(*name, "displayName", where);
    if (card.formatted_name.empty())
      card.formatted_name = string_member(*name, "unstructuredName", where);
    if (card.formatted_name.empty()) {
      card.formatted_name = card.given_name;
      if (!card.family_name.empty())
        card.formatted_name
          += (card.formatted_name.empty() ? "" : " ") + card.family_name;
    }
  }

  card.emails
    = values_of(object_array_member(item, "emailAddresses"), "emailAddresses",
                "value");

  const auto phones = object_array_member(item, "phoneNumbers");
  for (std::size_t i = 0; i < phones.size(); ++i) {
    const auto where = element_where("phoneNumbers", i);
    auto value = string_member(*phones[i], "value", where);
    if (value.empty())
      value = string_member(*phones[i], "canonicalForm", where);
    if (!value.empty())
      card.phones.push_back(std::move(value));
  }

  const auto addresses = object_array_member(item, "addresses");
  for (std::size_t i = 0; i < addresses.size() && card.locality.empty(); ++i)
    card.locality
      = string_member(*addresses[i], "city", element_where("addresses", i));

  if (const json* bio = primary_or_first(object_array_member(item,
                                                             "biographies")))
    card.note = string_member(*bio, "value", "biographies[]");
  if (const json* org
      = primary_or_first(object_array_member(item, "organizations")))
    card.organization = string_member(*org, "name", "organizations[]");

  card.urls = values_of(object_array_member(item, "urls"), "urls", "value");

  const auto memberships = object_array_member(item, "memberships");
  const std::string_view group_prefix = "contactGroups/";
  for (std::size_t i = 0; i < memberships.size(); ++i) {
    const auto where = element_where("memberships", i);
    const json* group
      = object_member(*memberships[i], "contactGroupMembership", where);
    if (group == nullptr)
      continue;
    auto group_name = string_member(*group, "contactGroupResourceName",
                                    where + ".contactGroupMembership");
    if (group_name.compare(0, group_prefix.size(), group_prefix) == 0)
      group_name.erase(0, group_prefix.size());
    // Every contact is in myContacts, and starred is a flag, not a group
    // the user made: neither says anything as a category.
    if (group_name.empty() || group_name == "myContacts"
        || group_name == "starred")
      continue;
    card.categories.push_back(std::move(group_name));
  }
  map_dates(item, card);
  page.people.push_back(std::move(card));
}

// -- events -------------------------------------------------------------------

namespace {

struct event_time {
  std::int64_t unix_s = 0;
  bool all_day = false;
  std::string zone;
};

// start, end or originalStartTime; nullopt when absent or holding neither
// dateTime nor date.
std::optional<event_time> read_event_time(const json& event, const char* key) {
  const json* when = object_member(event, key);
  if (when == nullptr)
    return std::nullopt;
  event_time out;
  out.zone = string_member(*when, "timeZone", key);
  const auto date_time = string_member(*when, "dateTime", key);
  if (!date_time.empty()) {
    auto unix_s = parse_date_time(date_time);
    if (!unix_s)
      throw bad_item{std::string{key} + ".dateTime \""
                     + excerpt(date_time, 40) + "\" is not an RFC 3339 time"};
    out.unix_s = *unix_s;
    return out;
  }
  const auto date = string_member(*when, "date", key);
  if (!date.empty()) {
    auto unix_s = parse_date(date);
    if (!unix_s)
      throw bad_item{std::string{key} + ".date \"" + excerpt(date, 40)
                     + "\" is not a YYYY-MM-DD date"};
    out.unix_s = *unix_s;
    out.all_day = true;
    return out;
  }
  return std::nullopt;
}

bool is_utc_zone(const std::string& zone) {
  return zone == "UTC" || zone == "Etc/UTC" || zone == "GMT"
         || zone == "Etc/GMT";
}

void add_email(std::vector<std::string>& emails, const std::string& value) {
  // A value without '@' (Google shows some calendars' ids there) is not an
  // address anyone can be matched by.
  if (value.find('@') == std::string::npos
      || emails.size() >= attendees_max)
    return;
  auto email = ascii_lowercase(value);
  if (std::find(emails.begin(), emails.end(), email) == emails.end())
    emails.push_back(std::move(email));
}

} // namespace

calendar_event_item map_event(const json& item, std::size_t index) {
  if (!item.is_object())
    throw bad_item{"event is not a JSON object"};
  calendar_event_item event;
  event.position = index;
  event.external_id = string_member(item, "id");
  if (event.external_id.empty())
    throw bad_item{"event has no id"};
  event.series_id = string_member(item, "recurringEventId");
  if (event.series_id.empty())
    event.series_id = event.external_id;
  event.cancelled = string_member(item, "status") == "cancelled";
  event.busy = string_member(item, "transparency") != "transparent";
  event.summary = string_member(item, "summary");
  event.location = string_member(item, "location");

  auto start = read_event_time(item, "start");
  if (!start && event.cancelled)
    start = read_event_time(item, "originalStartTime");
  if (!start && !event.cancelled)
    throw bad_item{"event has no start (dateTime or date)"};
  if (start) {
    event.start_unix_s = start->unix_s;
    event.all_day = start->all_day;
    if (!is_utc_zone(start->zone))
      event.timezone = start->zone;
    auto end = read_event_time(item, "end");
    event.end_unix_s = end ? end->unix_s
                           : start->unix_s + (start->all_day ? 86400 : 0);
    event.end_unix_s = std::max(event.end_unix_s, event.start_unix_s);
  }

  for (const json* attendee : object_array_member(item, "attendees"))
    add_email(event.attendee_emails,
              string_member(*attendee, "email", "attendees[]"));
  if (const json* organizer = object_member(item, "organizer"))
    add_email(event.attendee_emails,
              string_member(*organizer, "email", "organizer"));
  return event;
}


} // namespace catchup::google_json
