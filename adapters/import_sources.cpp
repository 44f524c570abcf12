// SPDX-License-Identifier: Apache-2.0
#include "adapters/import_sources.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "formats/contacts_csv.hpp"
#include "formats/icalendar.hpp"
#include "formats/input_stopped.hpp"
#include "core/utf8.hpp"
#include "formats/vcard.hpp"

namespace catchup {

std::string import_problem::text() const {
  auto out = where + ": " + reason;
  if (!excerpt.empty())
    out += ": \u00ab" + excerpt + "\u00bb";
  return out;
}

void source_page::clear() {
  contacts.clear();
  deleted_keys.clear();
  events.clear();
  problems.clear();
  field_warnings.clear();
  items = 0;
}

page_source::~page_source() = default;

std::optional<std::string> page_source::sync_token() const {
  return std::nullopt;
}

bool page_source::full_sync() const {
  return false;
}

std::uint64_t page_source::items_outside_window() const {
  return 0;
}

std::string page_source::locate(std::size_t position) const {
  return "item " + std::to_string(position);
}

std::optional<contact_format> contact_format_of(const std::string& path) {
  auto dot = path.rfind('.');
  if (dot == std::string::npos)
    return std::nullopt;
  std::string ext = path.substr(dot + 1);
  for (auto& c : ext)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "vcf" || ext == "vcard")
    return contact_format::vcard;
  if (ext == "csv")
    return contact_format::csv;
  return std::nullopt;
}

namespace {

/// The identity of a file's contents for resuming: a cursor of a file
/// that changed since does not apply.
struct file_identity {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

file_identity identify(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error("cannot read " + path + ": "
                             + std::strerror(errno));
  if (S_ISDIR(st.st_mode))
    throw std::runtime_error("cannot read " + path + ": is a directory");
  // A device or a pipe may never end (/dev/zero) or never answer (a FIFO
  // nobody writes, where a read blocks beyond any cancellation): a job
  // holding one would hold its node. Streams are for those.
  if (!S_ISREG(st.st_mode))
    throw std::runtime_error("cannot read " + path
                             + ": not a regular file (a device, pipe or "
                               "socket); import a file");
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000
            + st.st_mtim.tv_nsec};
}

/// An input read item by item with one of core's readers (`next(item,
/// error)`): a file or a stream. A file resumes by re-reading and skipping
/// the items done, which costs a parse but no database work, and needs no
/// seekable position inside a transcoded (UTF-16) or folded input. A stream
/// has no identity (`identity` empty) and never resumes.
template <class Reader, class Item, class Error>
class reader_source : public page_source {
public:
  /// `name` is where problems are located ("name:line"). `variant` names
  /// what else decides the items read (the calendar window): a cursor
  /// written under another one does not apply.
  template <class... Args>
  reader_source(std::unique_ptr<std::istream> in, std::string name,
                std::optional<file_identity> identity, std::string variant,
                Args&&... reader_args)
    : name_(std::move(name)), variant_(std::move(variant)),
      identity_(identity), in_(std::move(in)),
      reader_(*in_, std::forward<Args>(reader_args)...) {
    // nop
  }

  bool next_page(std::size_t items_max, source_page& page) override {
    page.clear();
    Item item;
    std::optional<Error> error;
    while (page.items < items_max) {
      if (!read(item, error)) {
        check_stream();
        break;
      }
      ++page.items;
      ++items_done_;
      if (error) {
        page.problems.push_back({name_ + ":" + std::to_string(error->line),
                                 error->reason, error->excerpt});
        continue;
      }
      accept(std::move(item), page);
    }
    return page.items > 0;
  }

  std::string cursor() const override {
    nlohmann::json j{{"items", items_done_}, {"variant", variant_}};
    if (identity_) {
      j["size"] = identity_->size;
      j["mtime_ns"] = identity_->mtime_ns;
    }
    return j.dump();
  }

  bool resume(const std::string& cursor) override {
    // A stream cannot be read again from its start, and nothing says
    // whether it carries the items of the run that wrote the cursor:
    // skipping would drop items. It starts over instead (merging is
    // idempotent, so that only costs time).
    if (!identity_)
      return false;
    std::uint64_t items = 0;
    try {
      auto j = nlohmann::json::parse(cursor);
      if (j.at("size").get<std::uint64_t>() != identity_->size
          || j.at("mtime_ns").get<std::int64_t>() != identity_->mtime_ns
          || j.value("variant", std::string{}) != variant_)
        return false;
      items = j.at("items").get<std::uint64_t>();
    } catch (const nlohmann::json::exception&) {
      return false;
    }
    Item item;
    std::optional<Error> error;
    while (items_done_ < items && read(item, error))
      ++items_done_;
    check_stream();
    return items_done_ == items;
  }

  std::uint64_t items_done() const override {
    return items_done_;
  }
  std::uint64_t bytes_done() const override {
    return reader_.bytes_read();
  }
  std::uint64_t bytes_total() const override {
    return identity_ ? identity_->size : 0;
  }
  bool full_sync() const override {
    return true;
  }
  std::string locate(std::size_t position) const override {
    return name_ + ":" + std::to_string(position);
  }

protected:
  virtual void accept(Item&& item, source_page& page) = 0;

  const Reader& reader() const {
    return reader_;
  }

  const std::string& name() const {
    return name_;
  }

private:
  // The reader's next item; a reader that cannot go on (input_stopped)
  // ends the source with "name:line: reason".
  bool read(Item& item, std::optional<Error>& error) {
    try {
      return reader_.next(item, error);
    } catch (const input_stopped& e) {
      throw std::runtime_error(name_ + ":" + std::to_string(e.line()) + ": "
                               + e.what());
    }
  }

  void check_stream() {
    if (!in_->bad())
      return;
    // errno says why only for a file; a stream's failure is its own.
    throw std::runtime_error("cannot read " + name_ + ": "
                             + (identity_ ? std::strerror(errno)
                                          : "the stream failed"));
  }

  std::string name_;
  std::string variant_;
  std::optional<file_identity> identity_;
  std::unique_ptr<std::istream> in_;
  Reader reader_;
  std::uint64_t items_done_ = 0;
};

template <class Reader>
class contact_source final : public reader_source<Reader, vcard, vcard_error> {
public:
  using reader_source<Reader, vcard, vcard_error>::reader_source;

protected:
  void accept(vcard&& card, source_page& page) override {
    imported_contact contact;
    std::string reason;
    if (!to_imported_contact(card, contact, reason)) {
      page.problems.push_back(
        {this->name() + ":" + std::to_string(card.first_line), reason, {}});
      return;
    }
    contact.position = card.first_line;
    for (auto& w : card.warnings)
      page.field_warnings.push_back(
        {this->name() + ":" + std::to_string(w.line), std::move(w.reason),
         std::move(w.excerpt)});
    page.contacts.push_back(std::move(contact));
  }
};

class calendar_source final
  : public reader_source<icalendar_reader, calendar_event_item,
                         icalendar_error> {
public:
  using reader_source::reader_source;

  std::uint64_t items_outside_window() const override {
    return reader().events_outside_window();
  }

protected:
  void accept(calendar_event_item&& event, source_page& page) override {
    page.events.push_back(std::move(event));
  }
};

// Files and streams share everything but where the input comes from: a
// file has an identity (its cursor applies only to the same contents), a
// stream has none.

std::unique_ptr<std::istream> open_file(const std::string& path) {
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in)
    throw std::runtime_error("cannot open " + path + ": "
                             + std::strerror(errno));
  return in;
}

// The first bytes of a file as text: a UTF-8 byte order mark dropped, a
// UTF-16 one's text narrowed to its low bytes (enough to find ASCII
// keywords), and whether bytes of no text file (NUL) were among them.
struct file_start {
  std::string text;
  bool binary = false;
};

constexpr std::size_t sniff_bytes = 4096;

file_start read_start(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::string raw(sniff_bytes, '\0');
  in.read(raw.data(), static_cast<std::streamsize>(raw.size()));
  raw.resize(static_cast<std::size_t>(in.gcount()));
  file_start out;
  // UTF-16 with a byte order mark, or without one (NUL as every other byte
  // of ASCII text), as the readers accept it.
  std::size_t zeros_even = 0, zeros_odd = 0;
  for (std::size_t i = 0; i < raw.size(); ++i)
    if (raw[i] == '\0')
      ++(i % 2 ? zeros_odd : zeros_even);
  const bool le = raw.compare(0, 2, "\xFF\xFE") == 0
                  || (zeros_odd * 3 > raw.size() && zeros_even == 0);
  const bool be = raw.compare(0, 2, "\xFE\xFF") == 0
                  || (zeros_even * 3 > raw.size() && zeros_odd == 0);
  if (le || be) {
    for (std::size_t i = be ? 1 : 0; i < raw.size(); i += 2)
      out.text += raw[i];
  } else {
    out.text = raw.compare(0, 3, "\xEF\xBB\xBF") == 0 ? raw.substr(3) : raw;
    // A NUL where the text is not UTF-8 either: an image, an archive. (A
    // stray NUL in a text file costs its item, not the file.)
    auto cut = out.text.size() > 3 ? out.text.size() - 3 : 0;
    out.binary = out.text.find('\0') != std::string::npos
                 && invalid_utf8_at(std::string_view{out.text}.substr(0, cut))
                      != std::string_view::npos;
  }
  for (auto& c : out.text)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// A whole file of another kind (a PNG, an .ics given as contacts) is one
// error naming what it is, not one skipped "item" and exit 0.
void check_file_kind(const std::string& path, const char* kind) {
  auto start = read_start(path);
  if (blank(start.text) && !start.binary)
    return; // an empty file: no items, said as such
  const bool vcard = start.text.find("BEGIN:VCARD") != std::string::npos;
  const bool ical = start.text.find("BEGIN:VCALENDAR") != std::string::npos;
  std::string what = std::string{kind};
  const char* binary = "it is not text (NUL bytes and no UTF-8), as "
                       "images and archives are not";
  std::string is;
  if (what == "vCard" && !vcard)
    is = start.binary ? binary
         : ical       ? "it is an iCalendar file (import it as a calendar)"
                      : "no BEGIN:VCARD in its first 4096 bytes";
  else if (what == "iCalendar" && !ical)
    is = start.binary ? binary
         : vcard      ? "it is a vCard file (import it as contacts)"
                      : "no BEGIN:VCALENDAR in its first 4096 bytes";
  else if (what == "CSV" && (start.binary || vcard || ical))
    is = start.binary ? binary
         : vcard      ? "it is a vCard file"
                      : "it is an iCalendar file";
  if (!is.empty())
    throw std::runtime_error(path + " is not " + (what == "iCalendar" ? "an " : "a ")
                             + what + " file: " + is);
}

std::unique_ptr<std::istream> checked(std::unique_ptr<std::istream> in,
                                      const std::string& name) {
  if (!in)
    throw std::invalid_argument("cannot read " + name + ": no stream");
  if (!*in)
    throw std::runtime_error("cannot read " + name + ": the stream failed");
  return in;
}

std::unique_ptr<page_source>
make_contact_source(std::unique_ptr<std::istream> in, std::string name,
                    std::optional<file_identity> identity,
                    contact_format format, file_limits limits) {
  if (format == contact_format::vcard) {
    vcard_limits vl;
    vl.line_bytes_max = limits.line_bytes_max;
    vl.card_bytes_max = limits.item_bytes_max;
    return std::make_unique<contact_source<vcard_reader>>(
      std::move(in), std::move(name), identity, "", vl);
  }
  csv_limits cl;
  cl.record_bytes_max = limits.item_bytes_max;
  return std::make_unique<contact_source<contacts_csv_reader>>(
    std::move(in), std::move(name), identity, "", cl);
}

std::unique_ptr<page_source>
make_calendar_source(std::unique_ptr<std::istream> in, std::string name,
                     std::optional<file_identity> identity,
                     std::int64_t window_from_unix_s,
                     std::int64_t window_to_unix_s, file_limits limits) {
  icalendar_limits il;
  il.line_bytes_max = limits.line_bytes_max;
  il.component_bytes_max = limits.item_bytes_max;
  // Another window expands other instances: the item count of a cursor
  // written under it would skip the wrong ones.
  auto window = std::to_string(window_from_unix_s) + ".."
                + std::to_string(window_to_unix_s);
  return std::make_unique<calendar_source>(std::move(in), std::move(name),
                                           identity, window,
                                           window_from_unix_s,
                                           window_to_unix_s, il);
}

} // namespace

void check_import_file(const std::string& path) {
  identify(path);
  open_file(path);
}

std::unique_ptr<page_source> open_contact_file(const std::string& path,
                                               contact_format format,
                                               file_limits limits) {
  auto identity = identify(path);
  check_file_kind(path, format == contact_format::vcard ? "vCard" : "CSV");
  return make_contact_source(open_file(path), path, identity, format,
                             limits);
}

std::unique_ptr<page_source>
open_calendar_file(const std::string& path, std::int64_t window_from_unix_s,
                   std::int64_t window_to_unix_s, file_limits limits) {
  auto identity = identify(path);
  check_file_kind(path, "iCalendar");
  return make_calendar_source(open_file(path), path, identity,
                              window_from_unix_s, window_to_unix_s, limits);
}

std::unique_ptr<page_source>
open_contact_stream(std::unique_ptr<std::istream> in, std::string name,
                    contact_format format, file_limits limits) {
  in = checked(std::move(in), name);
  return make_contact_source(std::move(in), std::move(name), std::nullopt,
                             format, limits);
}

std::unique_ptr<page_source>
open_calendar_stream(std::unique_ptr<std::istream> in, std::string name,
                     std::int64_t window_from_unix_s,
                     std::int64_t window_to_unix_s, file_limits limits) {
  in = checked(std::move(in), name);
  return make_calendar_source(std::move(in), std::move(name), std::nullopt,
                              window_from_unix_s, window_to_unix_s, limits);
}

} // namespace catchup
