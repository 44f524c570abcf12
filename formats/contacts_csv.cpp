// SPDX-License-Identifier: Apache-2.0
#include "formats/contacts_csv.hpp"
#include "formats/input_stopped.hpp"
#include "core/assert.hpp"
#include "core/utf8.hpp"

#include <algorithm>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace catchup {
namespace {

/// Bytes read from the stream at a time: few reads, bounded memory.
constexpr std::size_t chunk_bytes = 64 * 1024;
constexpr std::string_view not_contacts =
    "not a contacts CSV file (no name or e-mail column)";
/// Google's separator between several values in one cell.
constexpr std::string_view list_separator = " ::: ";

char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = ascii_lower(c);
  return out;
}

using text::is_blank;
using text::trim;

/// What a header column feeds in the `vcard`.
enum class column {
  ignored,
  formatted_name,
  given_name,
  middle_name,
  family_name,
  note,
  groups,
  email,
  phone,
  locality,
  organization,
  url,
  birthday,
  anniversary,
  birth_year,
  birth_month,
  birth_day,
};

/// "e-mail 3 - value" for prefix "e-mail " and suffix " - value": Google
/// numbers its repeated columns from 1 without a fixed upper bound.
bool numbered(std::string_view name, std::string_view prefix,
              std::string_view suffix) noexcept {
  if (name.size() <= prefix.size() + suffix.size() ||
      name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - suffix.size()) != suffix)
    return false;
  const std::string_view digits = name.substr(
      prefix.size(), name.size() - prefix.size() - suffix.size());
  return std::all_of(digits.begin(), digits.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

/// One header name, matched case-insensitively and trimmed. The Google,
/// Outlook and Thunderbird names, plus a few common aliases (Company,
/// Categories, Email Home/Work/Other, Mobile Phone, Business Phone,
/// Thunderbird's Web Page 1/2) that Outlook-like exports use.
column classify(std::string_view raw) {
  const std::string name = lower(trim(raw));
  struct entry {
    std::string_view name;
    column kind;
  };
  static constexpr entry fixed[] = {
      {"name", column::formatted_name},
      {"display name", column::formatted_name},
      {"given name", column::given_name},
      {"first name", column::given_name},
      {"additional name", column::middle_name},
      {"middle name", column::middle_name},
      {"family name", column::family_name},
      {"last name", column::family_name},
      {"notes", column::note},
      {"group membership", column::groups},
      {"labels", column::groups},
      {"categories", column::groups},
      {"e-mail address", column::email},
      {"e-mail 2 address", column::email},
      {"e-mail 3 address", column::email},
      {"primary email", column::email},
      {"secondary email", column::email},
      {"email home", column::email},
      {"email work", column::email},
      {"email other", column::email},
      {"work phone", column::phone},
      {"home phone", column::phone},
      {"mobile number", column::phone},
      {"mobile phone", column::phone},
      {"business phone", column::phone},
      {"home city", column::locality},
      {"organization", column::organization},
      {"organization name", column::organization},
      {"company", column::organization},
      {"web page 1", column::url},
      {"web page 2", column::url},
      {"birthday", column::birthday},
      {"anniversary", column::anniversary},
      {"birth year", column::birth_year},
      {"birth month", column::birth_month},
      {"birth day", column::birth_day},
  };
  for (const entry &e : fixed)
    if (name == e.name)
      return e.kind;
  if (numbered(name, "e-mail ", " - value"))
    return column::email;
  if (numbered(name, "phone ", " - value"))
    return column::phone;
  if (numbered(name, "address ", " - city"))
    return column::locality;
  if (numbered(name, "organization ", " - name"))
    return column::organization;
  if (numbered(name, "website ", " - value"))
    return column::url;
  return column::ignored;
}

/// Calls `f` on each trimmed, non-empty item of a ` ::: ` list.
template <typename F> void for_each_item(std::string_view value, F f) {
  while (true) {
    const std::size_t at = value.find(list_separator);
    const std::string_view item = trim(value.substr(0, at));
    if (!item.empty())
      f(item);
    if (at == std::string_view::npos)
      return;
    value.remove_prefix(at + list_separator.size());
  }
}

/// Google's implicit group, in the legacy and the current spelling.
bool is_my_contacts(std::string_view group) {
  const std::string g = lower(group);
  return g == "my contacts" || g == "mycontacts";
}

void set_first(std::string &target, std::string_view value) {
  if (target.empty())
    target = std::string(value);
}

std::string join_names(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) {
    if (p.empty())
      continue;
    if (!out.empty())
      out += ' ';
    out.append(p);
  }
  return out;
}

/// What a row says of one kind of date: a whole date (Google, Outlook) or
/// Thunderbird's separate year, month and day.
struct date_cells {
  std::string_view header;
  std::string_view whole;
  std::string_view year;
  std::string_view month;
  std::string_view day;
  bool empty() const noexcept {
    return whole.empty() && month.empty() && day.empty();
  }
};

std::optional<int> number_of(std::string_view text) {
  if (text.empty() || text.size() > 4 ||
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int value = 0;
  for (char c : text)
    value = value * 10 + (c - '0');
  return value;
}

/// Outlook writes the date in the exporting machine's short format:
/// "20/01/1991" or "1/20/1991". The part above 12 is the day; when both
/// could be the month, which is meant cannot be known, so the date is
/// refused rather than guessed. "0/0/00" is Outlook's empty date.
std::optional<std::string> parse_slashed_date(std::string_view text,
                                              contact_date_kind kind,
                                              contact_date &out,
                                              bool &empty) {
  const std::size_t first = text.find('/');
  const std::size_t second = text.find('/', first + 1);
  const std::string_view not_a_date =
      "not a date (YYYY-MM-DD, --MM-DD, D/M/YYYY or M/D/YYYY)";
  if (first == std::string_view::npos || second == std::string_view::npos ||
      text.find('/', second + 1) != std::string_view::npos)
    return std::string(not_a_date);
  const auto a = number_of(text.substr(0, first));
  const auto b = number_of(text.substr(first + 1, second - first - 1));
  const std::string_view year_text = text.substr(second + 1);
  const auto year = number_of(year_text);
  if (!a || !b || !year)
    return std::string(not_a_date);
  if (*a == 0 && *b == 0 && *year == 0) {
    empty = true;
    return std::nullopt;
  }
  if (year_text.size() != 4)
    return std::string{"the year must have four digits"};
  contact_date date;
  date.kind = kind;
  date.year = *year;
  if (*a > 12 && *b <= 12) {
    date.day = *a;
    date.month = *b;
  } else if (*b > 12 && *a <= 12) {
    date.month = *a;
    date.day = *b;
  } else if (*a == *b) {
    date.month = *a;
    date.day = *b;
  } else if (*a <= 12 && *b <= 12) {
    return std::string{"day and month cannot be told apart"};
  } else {
    return std::string(not_a_date);
  }
  if (auto why = contact_date_problem(date))
    return why;
  out = date;
  return std::nullopt;
}

/// Reads one kind of date of a row into `out`; a malformed one becomes a
/// warning naming the column.
void read_date(const date_cells &cells, contact_date_kind kind,
               std::size_t line, vcard &out) {
  if (cells.empty())
    return;
  contact_date date;
  date.kind = kind;
  std::optional<std::string> why;
  bool empty = false;
  std::string excerpt;
  if (!cells.whole.empty()) {
    excerpt = std::string(cells.whole);
    why = cells.whole.find('/') != std::string_view::npos
              ? parse_slashed_date(cells.whole, kind, date, empty)
              : parse_iso_contact_date(cells.whole, kind, date);
  } else {
    excerpt = std::string(cells.year) + "/" + std::string(cells.month) + "/" +
              std::string(cells.day);
    const auto month = number_of(cells.month);
    const auto day = number_of(cells.day);
    const auto year = number_of(cells.year);
    if (!month || !day || (!cells.year.empty() && !year)) {
      why = "not a date (numbers expected)";
    } else {
      date.month = *month;
      date.day = *day;
      if (year)
        date.year = *year;
      why = contact_date_problem(date);
    }
  }
  if (empty)
    return;
  if (why) {
    out.warnings.push_back(vcard_error{line,
                                       std::string(cells.header) +
                                           " left out: " + *why,
                                       printable_excerpt(excerpt)});
    return;
  }
  out.dates.push_back(date);
}

} // namespace

struct contacts_csv_reader::state {
  std::istream &in;
  csv_limits limits;
  std::string buffer;
  std::size_t position = 0;
  bool input_ended = false;
  bool started = false;
  /// Header seen (or rejected): no more header to read.
  bool header_done = false;
  /// Nothing more will be returned.
  bool finished = false;
  std::size_t line = 0;
  /// Bytes of the current physical line so far.
  std::size_t line_bytes = 0;
  bool at_line_start = true;
  std::uint64_t bytes = 0;
  std::vector<column> columns;

  /// The record being read, and where each of its fields starts.
  std::vector<std::string> fields;
  std::vector<std::size_t> field_lines;
  std::size_t record_line = 0;

  state(std::istream &stream, csv_limits l) : in(stream), limits(l) {
  }

  bool fill() {
    if (position < buffer.size())
      return true;
    if (input_ended)
      return false;
    buffer.resize(chunk_bytes);
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    buffer.resize(static_cast<std::size_t>(in.gcount()));
    position = 0;
    if (buffer.empty()) {
      input_ended = true;
      return false;
    }
    bytes += buffer.size();
    return true;
  }

  /// The next byte, or -1 at end of input; counts physical lines.
  int get() {
    if (!fill())
      return -1;
    CATCHUP_ASSERT(position < buffer.size(), "a filled buffer has a byte");
    const char c = buffer[position++];
    if (at_line_start) {
      ++line;
      at_line_start = false;
      line_bytes = 0;
    }
    if (c == '\n')
      at_line_start = true;
    // No record can hold a line this long: stop rather than scan an
    // endless one (/dev/zero) for ever.
    if (++line_bytes > runaway_line_bytes(limits.record_bytes_max))
      throw input_stopped(line, runaway_line_reason(limits.record_bytes_max,
                                                    "CSV"));
    return static_cast<unsigned char>(c);
  }

  int peek() {
    if (!fill())
      return -1;
    return static_cast<unsigned char>(buffer[position]);
  }

  void skip_bom() {
    started = true;
    if (!fill())
      return;
    // Reads of fewer than 3 bytes at once only happen at end of input.
    if (buffer.compare(position, 3, "\xEF\xBB\xBF") == 0)
      position += 3;
  }

  enum class outcome { record, oversized, too_many_fields, end };

  /// Where the reading of one record has got to.
  struct record_scan {
    std::string field;
    bool quoted = false;
    /// A byte of the record has been read.
    bool any = false;
    /// The field's opening quote may still come (only blanks so far).
    bool at_field_start = true;
    std::size_t bytes = 0;
    outcome failure = outcome::record;
    /// A quote still open long after the limit: skip to the next line.
    bool runaway = false;
  };

  /// A byte inside quotes; `storing` is false past a limit.
  void read_quoted(record_scan &r, char c, bool storing) {
    if (!storing && r.bytes > 2 * limits.record_bytes_max) {
      r.runaway = true;
      return;
    }
    if (c == '"') {
      if (peek() == '"') {
        get();
        ++r.bytes;
        if (storing)
          r.field += '"';
      } else {
        r.quoted = false;
      }
    } else if (c == '\r' && peek() == '\n') {
      // CRLF inside a field becomes LF; the LF comes next.
    } else if (storing) {
      r.field += c;
    }
  }

  /// A comma outside quotes: the field ends, unless it is one too many.
  void end_field(record_scan &r, bool storing) {
    if (storing) {
      if (fields.size() + 1 >= limits.fields_max) {
        r.failure = outcome::too_many_fields;
      } else {
        fields.push_back(std::move(r.field));
        field_lines.push_back(line);
      }
    }
    r.field.clear();
    r.at_field_start = true;
  }

  /// A byte outside quotes; true when it ends the record.
  bool read_unquoted(record_scan &r, char c, bool storing) {
    if (c == ',') {
      end_field(r, storing);
      return false;
    }
    if (c == '\n')
      return true;
    if (c == '\r')
      return false;
    if (c == '"' && r.at_field_start) {
      r.quoted = true;
      r.at_field_start = false;
      r.field.clear();
      return false;
    }
    if (!is_blank(c))
      r.at_field_start = false;
    // A stray quote inside an unquoted field is taken literally.
    if (storing)
      r.field += c;
    return false;
  }

  /// Reads one RFC 4180 record into `fields`. Past a limit, the rest of the
  /// record is skipped (see contacts_csv_reader::next for how).
  outcome read_record() {
    fields.clear();
    field_lines.clear();
    record_scan r;
    while (true) {
      const int ci = get();
      if (ci < 0) {
        if (!r.any)
          return outcome::end;
        break;
      }
      const char c = static_cast<char>(ci);
      if (!r.any) {
        r.any = true;
        record_line = line;
        field_lines.push_back(line);
      }
      ++r.bytes;
      if (r.failure == outcome::record && r.bytes > limits.record_bytes_max)
        r.failure = outcome::oversized;
      const bool storing = r.failure == outcome::record;
      if (r.runaway) {
        if (c == '\n')
          break;
        continue;
      }
      if (r.quoted)
        read_quoted(r, c, storing);
      else if (read_unquoted(r, c, storing))
        break;
    }
    if (r.failure != outcome::record)
      return r.failure;
    fields.push_back(std::move(r.field));
    return outcome::record;
  }

  /// The first field that is not UTF-8, as an error naming its line.
  std::optional<vcard_error> check_utf8() const {
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const std::string_view f = fields[i];
      const std::size_t at = invalid_utf8_at(f);
      if (at == std::string_view::npos)
        continue;
      const std::string_view before = f.substr(0, at);
      const std::size_t line_start = before.rfind('\n');
      const std::size_t from =
          line_start == std::string_view::npos ? 0 : line_start + 1;
      const std::size_t breaks = static_cast<std::size_t>(
          std::count(before.begin(), before.end(), '\n'));
      const std::size_t end = f.find('\n', at);
      return vcard_error{field_lines[i] + breaks, "invalid UTF-8",
                         printable_excerpt(f.substr(from, end == std::string_view::npos
                                                     ? std::string_view::npos
                                                     : end - from))};
    }
    return std::nullopt;
  }

  /// Joined fields, for an excerpt of a record without its own line.
  std::string joined_fields() const {
    std::string out;
    for (std::size_t i = 0; i < fields.size() && out.size() <= 64; ++i) {
      if (i > 0)
        out += ',';
      out += fields[i];
    }
    return out;
  }

  /// Reads the header; false (with `error` set when there was input) when
  /// the input is not a contacts CSV file.
  bool read_header(std::optional<vcard_error> &error) {
    header_done = true;
    const outcome o = read_record();
    if (o == outcome::end)
      return false;
    if (o != outcome::record) {
      error = vcard_error{1, std::string(not_contacts), std::string{}};
      return false;
    }
    if (auto bad = check_utf8()) {
      error = vcard_error{1, std::string(not_contacts), bad->excerpt};
      return false;
    }
    bool useful = false;
    columns.clear();
    for (const std::string &f : fields) {
      const column c = classify(f);
      columns.push_back(c);
      useful = useful || c == column::formatted_name ||
               c == column::given_name || c == column::family_name ||
               c == column::email;
    }
    if (!useful) {
      error = vcard_error{1, std::string(not_contacts),
                          printable_excerpt(joined_fields())};
      return false;
    }
    return true;
  }

  /// Fills `out` from the current record.
  void convert(vcard &out) const {
    out = vcard{};
    out.first_line = record_line;
    std::string middle;
    std::string name;
    date_cells birthday;
    birthday.header = "Birthday";
    date_cells anniversary;
    anniversary.header = "Anniversary";
    const std::size_t n = std::min(fields.size(), columns.size());
    for (std::size_t i = 0; i < n; ++i) {
      const std::string_view value = trim(fields[i]);
      if (value.empty())
        continue;
      switch (columns[i]) {
      case column::ignored:
        break;
      case column::formatted_name:
        set_first(name, value);
        break;
      case column::given_name:
        set_first(out.given_name, value);
        break;
      case column::middle_name:
        set_first(middle, value);
        break;
      case column::family_name:
        set_first(out.family_name, value);
        break;
      case column::note:
        set_first(out.note, value);
        break;
      case column::organization:
        set_first(out.organization, value);
        break;
      case column::locality:
        set_first(out.locality, value);
        break;
      case column::groups:
        for_each_item(value, [&](std::string_view g) {
          if (g.substr(0, 2) == "* ")
            g = trim(g.substr(2));
          if (!g.empty() && !is_my_contacts(g))
            out.categories.emplace_back(g);
        });
        break;
      case column::email:
        for_each_item(value,
                      [&](std::string_view v) { out.emails.emplace_back(v); });
        break;
      case column::phone:
        for_each_item(value,
                      [&](std::string_view v) { out.phones.emplace_back(v); });
        break;
      case column::url:
        for_each_item(value,
                      [&](std::string_view v) { out.urls.emplace_back(v); });
        break;
      case column::birthday:
        if (birthday.whole.empty())
          birthday.whole = value;
        break;
      case column::anniversary:
        if (anniversary.whole.empty())
          anniversary.whole = value;
        break;
      case column::birth_year:
        birthday.year = value;
        break;
      case column::birth_month:
        birthday.month = value;
        break;
      case column::birth_day:
        birthday.day = value;
        break;
      }
    }
    if (birthday.whole.empty() && !birthday.month.empty())
      birthday.header = "Birth Year/Month/Day";
    read_date(birthday, contact_date_kind::birthday, record_line, out);
    read_date(anniversary, contact_date_kind::anniversary, record_line, out);
    out.formatted_name =
        name.empty() ? join_names({out.given_name, middle, out.family_name})
                     : name;
  }
};

contacts_csv_reader::contacts_csv_reader(std::istream &in, csv_limits limits)
    : state_(std::make_unique<state>(in, limits)) {
}

contacts_csv_reader::~contacts_csv_reader() = default;

bool contacts_csv_reader::next(vcard &out, std::optional<vcard_error> &error) {
  state &s = *state_;
  error.reset();
  out = vcard{};
  if (s.finished)
    return false;
  if (!s.started)
    s.skip_bom();
  if (!s.header_done && !s.read_header(error)) {
    s.finished = true;
    return error.has_value();
  }
  while (true) {
    const state::outcome o = s.read_record();
    switch (o) {
    case state::outcome::end:
      s.finished = true;
      return false;
    case state::outcome::oversized:
      error = vcard_error{s.record_line,
                          "record larger than " +
                              std::to_string(s.limits.record_bytes_max) +
                              " bytes",
                          printable_excerpt(s.joined_fields())};
      return true;
    case state::outcome::too_many_fields:
      error = vcard_error{s.record_line,
                          "record with more than " +
                              std::to_string(s.limits.fields_max) + " fields",
                          printable_excerpt(s.joined_fields())};
      return true;
    case state::outcome::record:
      break;
    }
    if (auto bad = s.check_utf8()) {
      error = std::move(bad);
      return true;
    }
    s.convert(out);
    if (out.formatted_name.empty() && out.emails.empty()) {
      out = vcard{};
      continue;
    }
    return true;
  }
}

std::size_t contacts_csv_reader::line() const noexcept {
  return state_->line;
}

std::uint64_t contacts_csv_reader::bytes_read() const noexcept {
  return state_->bytes;
}

} // namespace catchup
