// SPDX-License-Identifier: Apache-2.0
#include "formats/vcard.hpp"
#include "formats/input_stopped.hpp"
#include "formats/physical_lines.hpp"

#include "core/utf8.hpp"
#include <iconv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <utility>

namespace catchup {
namespace {

/// Bytes read from the stream at a time: big enough for few reads, small
/// enough that a UTF-16 chunk and its UTF-8 output stay cheap.
constexpr std::size_t chunk_bytes = 64 * 1024;
const iconv_t no_iconv = reinterpret_cast<iconv_t>(-1);

char ascii_upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = ascii_upper(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_upper(a[i]) != ascii_upper(b[i]))
      return false;
  return true;
}

using text::is_blank;
using text::trim;

/// "BEGIN:VCARD" and "END:VCARD" in any case and with stray blanks around,
/// as some exporters write them.
bool is_marker(std::string_view line, std::string_view marker) noexcept {
  return iequals(trim(line), marker);
}

/// One content line split into what the reader needs.
struct property {
  /// Upper case, without its `itemN.` group.
  std::string name;
  /// Upper case; empty when not given.
  std::string charset;
  bool quoted_printable = false;
  bool base64 = false;
  /// VALUE=text: a 4.0 BDAY or ANNIVERSARY written as free text.
  bool text_value = false;
  std::string_view value;
};

std::string_view unquote(std::string_view v) noexcept {
  v = trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
    v = v.substr(1, v.size() - 2);
  return v;
}

/// Both `ENCODING=QUOTED-PRINTABLE` and 2.1's bare `QUOTED-PRINTABLE`.
void apply_parameter(std::string_view text, property &p) {
  const std::size_t eq = text.find('=');
  const std::string key = eq == std::string_view::npos
                              ? std::string{}
                              : upper(trim(text.substr(0, eq)));
  const std::string_view value =
      unquote(eq == std::string_view::npos ? text : text.substr(eq + 1));
  if (key.empty() || key == "ENCODING") {
    if (iequals(value, "QUOTED-PRINTABLE"))
      p.quoted_printable = true;
    else if (iequals(value, "B") || iequals(value, "BASE64"))
      p.base64 = true;
  } else if (key == "CHARSET") {
    p.charset = upper(value);
  } else if (key == "VALUE") {
    p.text_value = iequals(value, "text");
  }
}

/// Where the name and parameters end. A double quote opens a quoted
/// parameter value only right after '=' or ',', as RFC 6350 has it, so a
/// stray quote in a 2.1 parameter is taken literally.
std::size_t find_value_colon(std::string_view line,
                             bool honour_quotes) noexcept {
  bool quoted = false;
  char previous = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"')
        quoted = false;
    } else if (c == '"' && honour_quotes &&
               (previous == '=' || previous == ',')) {
      quoted = true;
    } else if (c == ':') {
      return i;
    }
    previous = c;
  }
  return std::string_view::npos;
}

/// find_value_colon() fed piece by piece, as folded lines arrive.
struct colon_scanner {
  std::size_t position = 0;
  bool quoted = false;
  bool found = false;
  char previous = 0;

  /// Scans what `line` gained since the last call; true once the colon is
  /// found (its index is then `position`).
  bool feed(std::string_view line) noexcept {
    for (; position < line.size(); ++position) {
      const char c = line[position];
      if (quoted) {
        if (c == '"')
          quoted = false;
      } else if (c == '"' && (previous == '=' || previous == ',')) {
        quoted = true;
      } else if (c == ':') {
        found = true;
        return true;
      }
      previous = c;
    }
    return false;
  }
};

/// Parses `group.NAME;param;KEY=value:value`; false for a line without a
/// colon or name (comments, stray 2.1 base64 lines).
bool parse_property(std::string_view line, property &p) {
  std::size_t colon = find_value_colon(line, true);
  if (colon == std::string_view::npos)
    colon = find_value_colon(line, false);
  if (colon == std::string_view::npos)
    return false;
  const std::string_view head = line.substr(0, colon);
  p.value = line.substr(colon + 1);
  std::size_t name_end = head.find(';');
  if (name_end == std::string_view::npos)
    name_end = head.size();
  std::string_view name = trim(head.substr(0, name_end));
  const std::size_t dot = name.rfind('.');
  if (dot != std::string_view::npos)
    name = name.substr(dot + 1);
  if (name.empty())
    return false;
  p.name = upper(name);
  // Split the parameters on ';' outside quoted values.
  std::size_t start = name_end;
  while (start < head.size()) {
    ++start; // the ';'
    bool quoted = false;
    char previous = ';';
    std::size_t end = start;
    for (; end < head.size(); ++end) {
      const char c = head[end];
      if (quoted) {
        if (c == '"')
          quoted = false;
      } else if (c == '"' && (previous == '=' || previous == ',')) {
        quoted = true;
      } else if (c == ';') {
        break;
      }
      previous = c;
    }
    apply_parameter(head.substr(start, end - start), p);
    start = end;
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

/// `=XX` to a byte; a malformed `=` is kept as written, as readers do.
std::string decode_quoted_printable(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '=' && i + 2 < v.size()) {
      const int hi = hex_value(v[i + 1]);
      const int lo = hex_value(v[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    } else if (v[i] == '=' && i + 1 == v.size()) {
      break; // a soft break left at the very end
    }
    out += v[i];
  }
  return out;
}

/// Converts `in` from `charset` to UTF-8; false when iconv does not know
/// the charset or the bytes are not valid in it.
bool to_utf8(const std::string &charset, std::string_view in, std::string &out,
             bool &known) {
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  known = cd != no_iconv;
  if (!known)
    return false;
  std::string buffer(in.size() * 4 + 16, '\0');
  std::string source(in);
  char *in_ptr = source.data();
  std::size_t in_left = source.size();
  char *out_ptr = buffer.data();
  std::size_t out_left = buffer.size();
  bool ok = iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) !=
            static_cast<std::size_t>(-1);
  if (ok)
    ok = iconv(cd, nullptr, nullptr, &out_ptr, &out_left) !=
         static_cast<std::size_t>(-1);
  iconv_close(cd);
  if (!ok)
    return false;
  buffer.resize(buffer.size() - out_left);
  out = std::move(buffer);
  return true;
}

/// Splits on `separator` where it is not escaped by a backslash.
std::vector<std::string_view> split_unescaped(std::string_view v,
                                              char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '\\') {
      ++i;
    } else if (v[i] == separator) {
      parts.push_back(v.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(v.substr(start));
  return parts;
}

/// The 3.0/4.0 escapes `\n \N \, \; \\`, plus `\:` and `\"` that Google
/// writes; any other backslash is kept, so Windows paths in 2.1 survive.
std::string unescape(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '\\' || i + 1 == v.size()) {
      out += v[i];
      continue;
    }
    const char next = v[i + 1];
    switch (next) {
    case 'n':
    case 'N':
      out += '\n';
      break;
    case ',':
    case ';':
    case '\\':
    case ':':
    case '"':
      out += next;
      break;
    default:
      out += '\\';
      out += next;
      break;
    }
    ++i;
  }
  return out;
}

std::string clean(std::string_view v) {
  return std::string(trim(unescape(v)));
}

/// The kind of date a property holds: BDAY, 4.0's ANNIVERSARY, and the
/// X- anniversaries 3.0 exporters write (Thunderbird, Outlook, Evolution).
std::optional<contact_date_kind> date_kind_of(const std::string &name) {
  if (name == "BDAY")
    return contact_date_kind::birthday;
  if (name == "ANNIVERSARY" || name == "X-ANNIVERSARY" ||
      name == "X-MS-ANNIVERSARY" || name == "X-EVOLUTION-ANNIVERSARY")
    return contact_date_kind::anniversary;
  return std::nullopt;
}

bool has_date_of_kind(const vcard &card, contact_date_kind kind) {
  return std::any_of(card.dates.begin(), card.dates.end(),
                     [kind](const contact_date &d) { return d.kind == kind; });
}

/// Reads a BDAY or ANNIVERSARY value: the first valid date of a kind wins;
/// a malformed one is a warning of the card, which is still read. A 4.0
/// text value ("circa 1800") is no date and no mistake: it is skipped.
void store_date(const property &p, contact_date_kind kind, std::string_view v,
                std::size_t line_number, std::string_view logical,
                vcard &out) {
  const std::string text = clean(v);
  if (p.text_value || text.empty() || has_date_of_kind(out, kind))
    return;
  contact_date date;
  if (auto why = parse_iso_contact_date(text, kind, date)) {
    out.warnings.push_back(vcard_error{line_number,
                                       p.name + " left out: " + *why,
                                       printable_excerpt(logical)});
    return;
  }
  out.dates.push_back(date);
}

bool is_wanted(const std::string &name) {
  static const char *const wanted[] = {
      "FN",  "N",     "ORG", "NOTE",       "ADR", "UID",
      "REV", "EMAIL", "TEL", "CATEGORIES", "URL", "X-SOCIALPROFILE"};
  if (date_kind_of(name))
    return true;
  for (const char *w : wanted)
    if (name == w)
      return true;
  return false;
}

void set_once(std::string &field, std::string value) {
  if (field.empty())
    field = std::move(value);
}

void push_non_empty(std::vector<std::string> &list, std::string value) {
  if (!value.empty())
    list.push_back(std::move(value));
}

/// Stores one decoded, valid UTF-8 value. The first non-empty value of a
/// single-valued field wins, as exporters repeat them (ALTID, FullContact).
void store(const std::string &name, std::string_view v, vcard &out) {
  if (name == "FN") {
    set_once(out.formatted_name, clean(v));
  } else if (name == "N") {
    const auto parts = split_unescaped(v, ';');
    if (out.family_name.empty() && out.given_name.empty()) {
      out.family_name = clean(parts[0]);
      if (parts.size() > 1)
        out.given_name = clean(parts[1]);
    }
  } else if (name == "ORG") {
    set_once(out.organization, clean(split_unescaped(v, ';')[0]));
  } else if (name == "NOTE") {
    set_once(out.note, clean(v));
  } else if (name == "ADR") {
    const auto parts = split_unescaped(v, ';');
    if (parts.size() > 3)
      set_once(out.locality, clean(parts[3]));
  } else if (name == "UID") {
    set_once(out.uid, clean(v));
  } else if (name == "REV") {
    set_once(out.revision, clean(v));
  } else if (name == "EMAIL") {
    push_non_empty(out.emails, clean(v));
  } else if (name == "TEL") {
    std::string phone = clean(v);
    if (phone.size() >= 4 &&
        iequals(std::string_view(phone).substr(0, 4), "tel:"))
      phone = std::string(trim(std::string_view(phone).substr(4)));
    push_non_empty(out.phones, std::move(phone));
  } else if (name == "CATEGORIES") {
    for (std::string_view part : split_unescaped(v, ','))
      push_non_empty(out.categories, clean(part));
  } else if (name == "URL" || name == "X-SOCIALPROFILE") {
    push_non_empty(out.urls, clean(v));
  }
}

} // namespace

struct vcard_reader::state {
  using physical_line = detail::physical_line;

  enum class encoding { unknown, utf8, utf16 };

  std::istream &in;
  vcard_limits limits;
  std::uint64_t bytes = 0;
  std::size_t line = 0;

  encoding input_encoding = encoding::unknown;
  iconv_t utf16 = no_iconv;
  /// UTF-16 bytes that did not yet form a whole character.
  std::string utf16_pending;
  std::string raw;
  /// UTF-8 input not yet split into lines, and how much of it is used.
  std::string buffer;
  std::size_t position = 0;
  bool end_of_stream = false;

  physical_line look;
  bool has_look = false;
  physical_line current;
  bool finished = false;
  bool seen_card = false;

  state(std::istream &stream, vcard_limits l) : in(stream), limits(l) {
  }
  ~state() {
    if (utf16 != no_iconv)
      iconv_close(utf16);
  }
  state(const state &) = delete;
  state &operator=(const state &) = delete;

  /// Picks the input's encoding from its first bytes: a UTF-8 byte order
  /// mark is dropped, a UTF-16 one (or NUL bytes in the first line, which
  /// only UTF-16 gives) switches to transcoding.
  std::size_t detect(std::string_view data) {
    input_encoding = encoding::utf8;
    std::size_t skip = 0;
    const char *from = nullptr;
    if (data.substr(0, 3) == "\xEF\xBB\xBF") {
      skip = 3;
    } else if (data.substr(0, 2) == "\xFF\xFE") {
      skip = 2;
      from = "UTF-16LE";
    } else if (data.substr(0, 2) == "\xFE\xFF") {
      skip = 2;
      from = "UTF-16BE";
    } else {
      const std::string_view first_line = data.substr(0, data.find('\n'));
      if (first_line.find('\0') != std::string_view::npos)
        from = data[0] == '\0' ? "UTF-16BE" : "UTF-16LE";
    }
    if (from != nullptr) {
      utf16 = iconv_open("UTF-8", from);
      if (utf16 != no_iconv)
        input_encoding = encoding::utf16;
    }
    return skip;
  }

  /// Transcodes what UTF-16 is pending; an invalid unit (a lone surrogate)
  /// becomes the invalid byte 0xFF, so the value holding it is reported.
  void transcode(bool at_end) {
    std::string out(utf16_pending.size() * 2 + 16, '\0');
    char *in_ptr = utf16_pending.data();
    std::size_t in_left = utf16_pending.size();
    char *out_ptr = out.data();
    std::size_t out_left = out.size();
    while (in_left > 0) {
      if (iconv(utf16, &in_ptr, &in_left, &out_ptr, &out_left) !=
          static_cast<std::size_t>(-1))
        break;
      if (errno == EILSEQ && out_left > 0) {
        const std::size_t skip = std::min<std::size_t>(2, in_left);
        in_ptr += skip;
        in_left -= skip;
        *out_ptr++ = '\xFF';
        --out_left;
        continue;
      }
      break; // EINVAL: an incomplete character waits for more input
    }
    out.resize(out.size() - out_left);
    buffer += out;
    utf16_pending.erase(0, utf16_pending.size() - in_left);
    if (at_end && !utf16_pending.empty()) {
      buffer += '\xFF';
      utf16_pending.clear();
    }
  }

  /// Appends the next chunk of UTF-8 to `buffer`; false at end of input.
  bool fill() {
    while (!end_of_stream) {
      raw.resize(chunk_bytes);
      in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
      const auto got =
          static_cast<std::size_t>(std::max<std::streamsize>(in.gcount(), 0));
      bytes += got;
      raw.resize(got);
      const std::size_t before = buffer.size();
      if (got == 0) {
        end_of_stream = true;
        if (input_encoding == encoding::utf16)
          transcode(true);
        return buffer.size() > before;
      }
      std::size_t skip = 0;
      if (input_encoding == encoding::unknown)
        skip = detect(raw);
      if (input_encoding == encoding::utf16) {
        utf16_pending.append(raw, skip, std::string::npos);
        transcode(false);
      } else {
        buffer.append(raw, skip, std::string::npos);
      }
      if (buffer.size() > before)
        return true;
    }
    return false;
  }

  /// Reads one physical line (formats/physical_lines.hpp).
  bool read_line(physical_line &l) {
    return detail::read_physical_line(buffer, position, line, l,
                                      limits.line_bytes_max,
                                      limits.card_bytes_max, "vCard",
                                      [this] { return fill(); });
  }

  bool peek() {
    if (!has_look)
      has_look = read_line(look);
    return has_look;
  }

  /// Moves the looked-at line into `current`; peek() must have been true.
  physical_line &take() {
    std::swap(current, look);
    has_look = false;
    return current;
  }

  /// Skips the rest of a bad card: up to its END:VCARD, or to the next
  /// BEGIN:VCARD, which stays for the next call.
  void skip_card() {
    while (peek()) {
      if (!look.overflow && is_marker(look.text, "BEGIN:VCARD"))
        return;
      const bool end = !look.overflow && is_marker(look.text, "END:VCARD");
      take();
      if (end)
        return;
    }
  }

  vcard_error error_at(const physical_line &l, std::string reason) const {
    return vcard_error{l.number, std::move(reason), printable_excerpt(l.text)};
  }

  /// Takes a line that belongs to the card, enforcing both limits.
  std::optional<vcard_error> take_in_card(std::size_t &card_bytes) {
    physical_line &l = take();
    card_bytes += l.text.size() + 1;
    if (l.overflow)
      return error_at(l, "line longer than " +
                             std::to_string(limits.line_bytes_max) + " bytes");
    if (card_bytes > limits.card_bytes_max)
      return error_at(l, "card longer than " +
                             std::to_string(limits.card_bytes_max) + " bytes");
    return std::nullopt;
  }

  /// Decodes one property into `out`, or says why it cannot be.
  std::optional<vcard_error> apply(const property &p, std::size_t line_number,
                                   std::string_view logical, vcard &out) const {
    if (p.base64 || !is_wanted(p.name))
      return std::nullopt;
    std::string value = p.quoted_printable ? decode_quoted_printable(p.value)
                                           : std::string(p.value);
    const std::string &charset = p.charset;
    if (!charset.empty() && charset != "UTF-8" && charset != "UTF8" &&
        charset != "US-ASCII" && charset != "ASCII") {
      std::string converted;
      bool known = false;
      if (to_utf8(charset, value, converted, known))
        value = std::move(converted);
      else if (known)
        return vcard_error{line_number,
                           p.name + " value is not valid " + charset,
                           printable_excerpt(logical)};
      // An unknown charset: the value is used if it is UTF-8 anyway.
    }
    if (!valid_utf8(value))
      return vcard_error{line_number, "invalid UTF-8 in " + p.name,
                         printable_excerpt(logical)};
    if (auto kind = date_kind_of(p.name))
      store_date(p, *kind, value, line_number, logical, out);
    else
      store(p.name, value, out);
    return std::nullopt;
  }

  /// Moves to the next BEGIN:VCARD, past the lines between cards: false at
  /// the end of input or, with `error` set, when the input does not start
  /// like a vCard file; either ends the reader.
  bool find_card(std::optional<vcard_error> &error) {
    for (;;) {
      if (!peek()) {
        finished = true;
        return false;
      }
      if (!look.overflow && is_marker(look.text, "BEGIN:VCARD"))
        return true;
      if (!seen_card && !trim(look.text).empty()) {
        finished = true;
        error =
            vcard_error{1, "not a vCard file", printable_excerpt(look.text)};
        return false;
      }
      take();
    }
  }

  /// The card being read.
  struct open_card {
    /// Of its BEGIN:VCARD.
    std::size_t first_line = 0;
    std::string begin_excerpt;
    /// Its lines so far, line ends included.
    std::size_t bytes = 0;
  };

  static vcard_error no_end(const open_card &card) {
    return vcard_error{card.first_line, "card has no END:VCARD",
                       card.begin_excerpt};
  }

  /// Skips a 2.1 AGENT's embedded card whole, from its BEGIN:VCARD.
  std::optional<vcard_error> skip_agent(open_card &card) {
    std::size_t depth = 0;
    do {
      if (!peek())
        return no_end(card);
      if (!look.overflow && is_marker(look.text, "BEGIN:VCARD"))
        ++depth;
      else if (!look.overflow && is_marker(look.text, "END:VCARD"))
        --depth;
      if (auto e = take_in_card(card.bytes))
        return e;
    } while (depth > 0);
    return std::nullopt;
  }

  /// Takes one logical line into `logical`: the physical one plus its
  /// folded continuations and quoted-printable soft breaks; `line_number`
  /// is its first physical line.
  std::optional<vcard_error> read_logical(open_card &card,
                                          std::string &logical,
                                          std::size_t &line_number) {
    if (auto e = take_in_card(card.bytes))
      return e;
    line_number = current.number;
    logical = current.text;
    // Whether the value is quoted-printable is known once the colon that
    // ends the parameters is seen; only new text is scanned for it, so long
    // folded values stay linear.
    colon_scanner scanner;
    bool quoted_printable = false;
    for (;;) {
      if (!scanner.found && scanner.feed(logical)) {
        property head;
        if (parse_property(
                std::string_view(logical).substr(0, scanner.position + 1),
                head))
          quoted_printable = head.quoted_printable;
      }
      if (!peek() || look.overflow)
        return std::nullopt;
      const bool soft_break = quoted_printable && !logical.empty() &&
                              logical.back() == '=' &&
                              !is_marker(look.text, "END:VCARD") &&
                              !is_marker(look.text, "BEGIN:VCARD");
      const bool folded = !look.text.empty() && (look.text.front() == ' ' ||
                                                 look.text.front() == '\t');
      if (!soft_break && !folded)
        return std::nullopt;
      if (auto e = take_in_card(card.bytes))
        return e;
      if (soft_break) {
        logical.pop_back();
        logical += current.text;
      } else {
        logical.append(current.text, 1, std::string::npos);
      }
    }
  }

  /// Reads the card whose BEGIN:VCARD is looked at into `out`, up to its
  /// END:VCARD.
  std::optional<vcard_error> read_card(vcard &out) {
    open_card card;
    card.first_line = look.number;
    card.begin_excerpt = printable_excerpt(look.text);
    out.first_line = card.first_line;
    if (auto e = take_in_card(card.bytes))
      return e;
    bool agent_pending = false;
    std::string logical;
    std::size_t line_number = 0;
    property p;
    for (;;) {
      if (!peek())
        return no_end(card);
      if (!look.overflow && is_marker(look.text, "END:VCARD")) {
        take();
        return std::nullopt;
      }
      if (!look.overflow && is_marker(look.text, "BEGIN:VCARD")) {
        if (!agent_pending)
          return vcard_error{card.first_line,
                             "card has no END:VCARD (next BEGIN:VCARD at "
                             "line " +
                                 std::to_string(look.number) + ")",
                             card.begin_excerpt};
        agent_pending = false;
        if (auto e = skip_agent(card))
          return e;
        continue;
      }
      if (auto e = read_logical(card, logical, line_number))
        return e;
      p = property{};
      if (!parse_property(logical, p))
        continue; // no colon: a comment or stray data, ignored
      if (auto e = apply(p, line_number, logical, out))
        return e;
      agent_pending = p.name == "AGENT" && trim(p.value).empty();
    }
  }

  bool next(vcard &out, std::optional<vcard_error> &error) {
    out = vcard{};
    error.reset();
    if (finished)
      return false;
    if (!find_card(error))
      return error.has_value();
    seen_card = true;
    if (auto e = read_card(out)) {
      // A card cut short (at the end of input, or before the next
      // BEGIN:VCARD) has nothing left to skip.
      out = vcard{};
      error = std::move(e);
      skip_card();
    }
    return true;
  }
};

vcard_reader::vcard_reader(std::istream &in, vcard_limits limits)
    : state_(std::make_unique<state>(in, limits)) {
}

vcard_reader::~vcard_reader() = default;

bool vcard_reader::next(vcard &out, std::optional<vcard_error> &error) {
  return state_->next(out, error);
}

std::size_t vcard_reader::line() const noexcept {
  return state_->line;
}

std::uint64_t vcard_reader::bytes_read() const noexcept {
  return state_->bytes;
}

} // namespace catchup
