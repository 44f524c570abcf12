// SPDX-License-Identifier: Apache-2.0
#include "actors/import_sources.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/contacts_csv.hpp"
#include "core/icalendar.hpp"
#include "core/vcard.hpp"

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
  items = 0;
}

page_source::~page_source() = default;

std::optional<std::string> page_source::sync_token() const {
  return std::nullopt;
}

bool page_source::full_sync() const {
  return false;
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
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000
            + st.st_mtim.tv_nsec};
}

/// A file read item by item with one of core's readers (`next(item,
/// error)`); resuming re-reads and skips the items done, which costs a
/// parse but no database work, and needs no seekable position inside a
/// transcoded (UTF-16) or folded input.
template <class Reader, class Item, class Error>
class file_source : public page_source {
public:
  /// `variant` names what else decides the items read (the calendar
  /// window): a cursor written under another one does not apply.
  template <class... Args>
  file_source(const std::string& path, std::string variant,
              Args&&... reader_args)
    : path_(path), variant_(std::move(variant)), identity_(identify(path)),
      in_(path, std::ios::binary),
      reader_(in_, std::forward<Args>(reader_args)...) {
    if (!in_)
      throw std::runtime_error("cannot open " + path + ": "
                               + std::strerror(errno));
  }

  bool next_page(std::size_t items_max, source_page& page) override {
    page.clear();
    Item item;
    std::optional<Error> error;
    while (page.items < items_max) {
      if (!reader_.next(item, error)) {
        check_stream();
        break;
      }
      ++page.items;
      ++items_done_;
      if (error) {
        page.problems.push_back({path_ + ":" + std::to_string(error->line),
                                 error->reason, error->excerpt});
        continue;
      }
      accept(std::move(item), page);
    }
    return page.items > 0;
  }

  std::string cursor() const override {
    return nlohmann::json{{"items", items_done_},
                          {"size", identity_.size},
                          {"mtime_ns", identity_.mtime_ns},
                          {"variant", variant_}}
      .dump();
  }

  bool resume(const std::string& cursor) override {
    std::uint64_t items = 0;
    try {
      auto j = nlohmann::json::parse(cursor);
      if (j.at("size").get<std::uint64_t>() != identity_.size
          || j.at("mtime_ns").get<std::int64_t>() != identity_.mtime_ns
          || j.value("variant", std::string{}) != variant_)
        return false;
      items = j.at("items").get<std::uint64_t>();
    } catch (const nlohmann::json::exception&) {
      return false;
    }
    Item item;
    std::optional<Error> error;
    while (items_done_ < items && reader_.next(item, error))
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
    return identity_.size;
  }
  bool full_sync() const override {
    return true;
  }

protected:
  virtual void accept(Item&& item, source_page& page) = 0;

  const std::string& path() const {
    return path_;
  }

private:
  void check_stream() {
    if (in_.bad())
      throw std::runtime_error("cannot read " + path_ + ": "
                               + std::strerror(errno));
  }

  std::string path_;
  std::string variant_;
  file_identity identity_;
  std::ifstream in_;
  Reader reader_;
  std::uint64_t items_done_ = 0;
};

template <class Reader>
class contact_file_source final
  : public file_source<Reader, vcard, vcard_error> {
public:
  using file_source<Reader, vcard, vcard_error>::file_source;

protected:
  void accept(vcard&& card, source_page& page) override {
    imported_contact contact;
    std::string reason;
    if (!to_imported_contact(card, contact, reason)) {
      page.problems.push_back(
        {this->path() + ":" + std::to_string(card.first_line), reason, {}});
      return;
    }
    page.contacts.push_back(std::move(contact));
  }
};

class calendar_file_source final
  : public file_source<icalendar_reader, calendar_event_item,
                       icalendar_error> {
public:
  using file_source::file_source;

protected:
  void accept(calendar_event_item&& event, source_page& page) override {
    page.events.push_back(std::move(event));
  }
};

} // namespace

std::unique_ptr<page_source> open_contact_file(const std::string& path,
                                               contact_format format,
                                               file_limits limits) {
  if (format == contact_format::vcard) {
    vcard_limits vl;
    vl.line_bytes_max = limits.line_bytes_max;
    vl.card_bytes_max = limits.item_bytes_max;
    return std::make_unique<contact_file_source<vcard_reader>>(path, "", vl);
  }
  csv_limits cl;
  cl.record_bytes_max = limits.item_bytes_max;
  return std::make_unique<contact_file_source<contacts_csv_reader>>(path, "",
                                                                   cl);
}

std::unique_ptr<page_source>
open_calendar_file(const std::string& path, std::int64_t window_from_unix_s,
                   std::int64_t window_to_unix_s, file_limits limits) {
  icalendar_limits il;
  il.line_bytes_max = limits.line_bytes_max;
  il.component_bytes_max = limits.item_bytes_max;
  // Another window expands other instances: the item count of a cursor
  // written under it would skip the wrong ones.
  auto window = std::to_string(window_from_unix_s) + ".."
                + std::to_string(window_to_unix_s);
  return std::make_unique<calendar_file_source>(
    path, window, window_from_unix_s, window_to_unix_s, il);
}

} // namespace catchup
