// SPDX-License-Identifier: Apache-2.0
// Page sources over the Google People and Calendar APIs (see
// import_sources.hpp).

#include <stdexcept>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "adapters/google_client.hpp"
#include "adapters/import_sources.hpp"

namespace catchup {

namespace {

/// What both Google listings share: page and sync tokens, the switch to a
/// full sync when the stored token expired, and the cursor.
class google_source : public page_source {
public:
  google_source(std::shared_ptr<google_client> client, std::string sync_token,
                google_paging_limits limits)
    : client_(std::move(client)), sync_token_(std::move(sync_token)),
      full_(sync_token_.empty()), limits_(limits) {
    // nop
  }

  bool next_page(std::size_t items_max, source_page& page) override {
    page.clear();
    // The page that showed the loop was a real page and has been stored;
    // the call after it ends the run with the reason.
    if (!stop_reason_.empty())
      throw std::runtime_error(stop_reason_);
    if (done_)
      return false;
    for (;;) {
      try {
        fetch(items_max, page);
        break;
      } catch (const google_sync_token_expired& e) {
        // A full listing sends no sync token, so it cannot expire; an
        // incremental one (also one resumed from a cursor) starts over.
        if (full_)
          throw;
        // The stored token is too old: read everything again; rows the
        // source no longer has are swept at the end.
        spdlog::warn("{}: sync token expired ({}); running a full sync",
                     e.path(), e.what());
        sync_token_.clear();
        page_token_.clear();
        full_ = true;
        page.clear();
      }
    }
    ++pages_;
    items_done_ += page.items;
    if (page_token_.empty())
      done_ = true;
    else
      check_paging(page);
    // An empty page with more to come still counts as a page.
    return page.items > 0 || !done_ || pages_ == 1;
  }

  std::string cursor() const override {
    return nlohmann::json{{"page_token", page_token_},
                          {"sync_token", sync_token_},
                          {"page_size", page_size_},
                          {"full", full_},
                          {"pages", pages_},
                          {"items", items_done_},
                          {"done", done_}}
      .dump();
  }

  bool resume(const std::string& cursor) override {
    try {
      auto j = nlohmann::json::parse(cursor);
      // A finished listing or one without a next page token cannot be
      // continued: start over.
      if (j.at("done").get<bool>() || j.at("page_token").get<std::string>().empty())
        return false;
      page_token_ = j.at("page_token").get<std::string>();
      sync_token_ = j.at("sync_token").get<std::string>();
      full_ = j.at("full").get<bool>();
      // The API wants the listing's first page size on every page.
      page_size_ = j.value("page_size", 0);
      pages_ = j.at("pages").get<std::uint64_t>();
      items_done_ = j.at("items").get<std::uint64_t>();
      return true;
    } catch (const nlohmann::json::exception&) {
      return false;
    }
  }

  std::uint64_t items_done() const override {
    return items_done_;
  }
  std::uint64_t bytes_done() const override {
    return 0;
  }
  std::uint64_t bytes_total() const override {
    return 0;
  }
  std::optional<std::string> sync_token() const override {
    if (next_sync_token_.empty())
      return std::nullopt;
    return next_sync_token_;
  }
  bool full_sync() const override {
    return full_;
  }
  // Called after next_page: the page is pages_ already.
  std::string locate(std::size_t position) const override {
    return "page " + std::to_string(pages_) + " item "
           + std::to_string(position + 1);
  }

private:
  // Called after a page with a next page token: stops a listing that
  // loops or does not end.
  void check_paging(const source_page& page) {
    empty_in_a_row_ = page.items == 0 ? empty_in_a_row_ + 1 : 0;
    const std::string at = "Google listing, page " + std::to_string(pages_);
    if (!page_tokens_seen_.insert(std::hash<std::string>{}(page_token_)).second)
      stop_reason_ = at + ": the server sent a page token seen before in "
                          "this sync; the listing loops, so the sync stops";
    else if (pages_ >= limits_.pages_max)
      stop_reason_ = at + ": more pages than sync.google_pages_max ("
                     + std::to_string(limits_.pages_max)
                     + "); the sync stops";
    else if (empty_in_a_row_ > limits_.empty_pages_in_a_row_max)
      stop_reason_ = at + ": " + std::to_string(empty_in_a_row_)
                     + " empty pages in a row, more than "
                       "sync.google_empty_pages_max ("
                     + std::to_string(limits_.empty_pages_in_a_row_max)
                     + "); the sync stops";
  }

protected:
  /// Fetches one page into `page`; sets page_token_ to the next page's (or
  /// empty) and next_sync_token_ on the last page.
  virtual void fetch(std::size_t items_max, source_page& page) = 0;

  std::string where(std::size_t item) const {
    return "page " + std::to_string(pages_ + 1) + " item "
           + std::to_string(item + 1);
  }

  std::shared_ptr<google_client> client_;
  std::string sync_token_;
  std::string page_token_;
  std::string next_sync_token_;
  bool full_;
  bool done_ = false;
  /// The listing's page size, fixed by its first page (0 before it).
  int page_size_ = 0;
  std::uint64_t pages_ = 0;
  std::uint64_t items_done_ = 0;

private:
  google_paging_limits limits_;
  /// Hashes of the page tokens this run was given (8 bytes a page; a hash
  /// collision would end a sync early, with an error, never silently).
  std::unordered_set<std::size_t> page_tokens_seen_;
  std::uint64_t empty_in_a_row_ = 0;
  std::string stop_reason_;
};

class google_contacts_source final : public google_source {
public:
  using google_source::google_source;

protected:
  void fetch(std::size_t items_max, source_page& page) override {
    if (page_size_ == 0)
      page_size_ = static_cast<int>(std::clamp<std::size_t>(items_max, 1, 1000));
    auto got = client_->list_connections(page_token_, sync_token_, page_size_);
    for (std::size_t i = 0; i < got.people.size(); ++i) {
      imported_contact contact;
      std::string reason;
      if (to_imported_contact(got.people[i], contact, reason)) {
        contact.position = i;
        for (auto& w : got.people[i].warnings)
          page.field_warnings.push_back(
            {where(i), std::move(w.reason), std::move(w.excerpt)});
        page.contacts.push_back(std::move(contact));
      }
      else
        page.problems.push_back({where(i), reason, got.people[i].uid});
    }
    for (auto& e : got.errors)
      page.problems.push_back({where(e.item), e.reason, e.excerpt});
    page.deleted_keys = std::move(got.deleted_resource_names);
    page.items = got.people.size() + page.deleted_keys.size()
                 + got.errors.size();
    page_token_ = got.next_page_token;
    if (!got.next_sync_token.empty())
      next_sync_token_ = got.next_sync_token;
  }

};

class google_calendar_source final : public google_source {
public:
  google_calendar_source(std::shared_ptr<google_client> client,
                         std::string calendar_id, std::string sync_token,
                         std::int64_t from, std::int64_t to,
                         google_paging_limits limits)
    : google_source(std::move(client), std::move(sync_token), limits),
      calendar_id_(std::move(calendar_id)), from_(from), to_(to) {
    // nop
  }

protected:
  void fetch(std::size_t items_max, source_page& page) override {
    // Unlike People, the Calendar API takes a new size on every page, so
    // its pages follow the memory level.
    auto size = static_cast<int>(std::clamp<std::size_t>(items_max, 1, 2500));
    auto got = client_->list_events(calendar_id_, page_token_, sync_token_,
                                    size, from_, to_);
    for (auto& e : got.errors)
      page.problems.push_back({where(e.item), e.reason, e.excerpt});
    page.items = got.events.size() + got.errors.size();
    page.events = std::move(got.events);
    page_token_ = got.next_page_token;
    if (!got.next_sync_token.empty())
      next_sync_token_ = got.next_sync_token;
  }

private:
  std::string calendar_id_;
  std::int64_t from_;
  std::int64_t to_;
};

} // namespace

std::unique_ptr<page_source>
open_google_contacts(std::shared_ptr<google_client> client,
                     std::string sync_token, google_paging_limits limits) {
  return std::make_unique<google_contacts_source>(
    std::move(client), std::move(sync_token), limits);
}

std::unique_ptr<page_source>
open_google_calendar(std::shared_ptr<google_client> client,
                     std::string calendar_id, std::string sync_token,
                     std::int64_t window_from_unix_s,
                     std::int64_t window_to_unix_s,
                     google_paging_limits limits) {
  return std::make_unique<google_calendar_source>(
    std::move(client), std::move(calendar_id), std::move(sync_token),
    window_from_unix_s, window_to_unix_s, limits);
}

} // namespace catchup
