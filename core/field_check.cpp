// SPDX-License-Identifier: Apache-2.0
#include "core/field_check.hpp"

#include <cstdio>

#include "core/utf8.hpp"

namespace catchup {

namespace {

enum class lines { one, many };
enum class indexed { no, yes };

std::string code_point(unsigned char c) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "U+%04X", c);
  return buf;
}

std::optional<std::string> field_problem(const char* name,
                                         const std::string& value,
                                         lines kind, indexed in_index,
                                         const field_limits& limits) {
  if (in_index == indexed::yes && value.size() > limits.indexed_field_bytes_max)
    return std::string{"field "} + name + " is " + std::to_string(value.size())
           + " bytes, more than sync.indexed_field_bytes_max ("
           + std::to_string(limits.indexed_field_bytes_max) + ")";
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == 0)
      return std::string{"field "} + name + " holds a NUL byte (U+0000) at "
             + "byte " + std::to_string(i)
             + ", which PostgreSQL text cannot store";
    const bool control = c < 0x20 || c == 0x7f;
    const bool line_break_or_tab = c == '\t' || c == '\r' || c == '\n';
    if (control && (kind == lines::one || !line_break_or_tab))
      return std::string{"field "} + name + " holds the control character "
             + code_point(c) + " at byte " + std::to_string(i);
  }
  if (auto at = invalid_utf8_at(value); at != std::string::npos)
    return std::string{"field "} + name + " is not UTF-8 at byte "
           + std::to_string(at);
  return std::nullopt;
}

} // namespace

std::optional<std::string> contact_field_problem(const imported_contact& c,
                                                 const field_limits& limits) {
  struct field {
    const char* name;
    const std::string* value;
    lines kind;
    indexed in_index;
  };
  const field fields[] = {
    {"key (UID)", &c.key, lines::one, indexed::yes},
    {"name", &c.name, lines::one, indexed::yes},
    {"e-mail", &c.email, lines::one, indexed::yes},
    {"phone", &c.phone, lines::one, indexed::no},
    {"LinkedIn", &c.linked_in, lines::one, indexed::no},
    {"Instagram", &c.instagram, lines::one, indexed::no},
    {"X", &c.x_handle, lines::one, indexed::no},
    {"location", &c.location, lines::one, indexed::no},
    {"organisation", &c.organization, lines::one, indexed::no},
    {"notes", &c.notes, lines::many, indexed::no},
    {"revision", &c.revision, lines::one, indexed::no},
  };
  for (const auto& f : fields)
    if (auto problem = field_problem(f.name, *f.value, f.kind, f.in_index,
                                     limits))
      return problem;
  for (const auto& [site, url] : c.other_profiles) {
    if (auto problem = field_problem("profile site", site, lines::one,
                                     indexed::no, limits))
      return problem;
    if (auto problem = field_problem("profile URL", url, lines::one,
                                     indexed::no, limits))
      return problem;
  }
  for (const auto& group : c.groups)
    if (auto problem = field_problem("group (category)", group, lines::one,
                                     indexed::yes, limits))
      return problem;
  // The readers only give valid dates; this keeps one that is not (and a
  // second date of a kind, which the table's key refuses) from failing the
  // page's statement.
  bool seen[2] = {false, false};
  for (const auto& d : c.dates) {
    if (auto why = contact_date_problem(d))
      return std::string{to_string(d.kind)} + ": " + *why;
    bool& kind_seen = seen[d.kind == contact_date_kind::birthday ? 0 : 1];
    if (kind_seen)
      return std::string{"more than one "} + to_string(d.kind);
    kind_seen = true;
  }
  return std::nullopt;
}

std::optional<std::string> event_field_problem(const calendar_event_item& e,
                                               const field_limits& limits) {
  if (auto p = field_problem("event id (UID)", e.external_id, lines::one,
                             indexed::yes, limits))
    return p;
  if (auto p = field_problem("series id", e.series_id, lines::one,
                             indexed::yes, limits))
    return p;
  if (auto p = field_problem("summary", e.summary, lines::many, indexed::no,
                             limits))
    return p;
  if (auto p = field_problem("location", e.location, lines::many,
                             indexed::no, limits))
    return p;
  if (auto p = field_problem("time zone", e.timezone, lines::one,
                             indexed::no, limits))
    return p;
  for (const auto& email : e.attendee_emails)
    if (auto p = field_problem("attendee", email, lines::one, indexed::yes,
                               limits))
      return p;
  return std::nullopt;
}

} // namespace catchup
