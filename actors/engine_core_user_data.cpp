// SPDX-License-Identifier: Apache-2.0
// A user's data through the engine (engine_core.hpp): contacts streamed in
// batches or read through the cache, pending suggestions and the answers
// to them, users (listed, read, created, updated, deleted), and dropping
// what is cached. Every call about one user reports a malformed or
// unknown user the same way (engine_core::impl::about_user).
#include "actors/engine_core.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "actors/engine_core_impl.hpp"
#include "core/utf8.hpp"
#include "core/uuid.hpp"
#include "storage/contact_dates.hpp"
#include "storage/session.hpp"
#include "storage/storage_error.hpp"
#include "storage/user_store.hpp"

namespace catchup {

std::int64_t
engine_core::for_each_contact(const std::string& user_id, contact_order order,
                         bool descending, bool full_projection,
                         std::size_t batch_rows,
                         const std::function<bool(const contact_record&)>& visit) {
  auto& d = *impl_;
  d.require_user_id(user_id);
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  // A bulk stream: one snapshot through a server-side cursor.
  auto cursor = storage::session::open_bulk(user_id, order, descending,
                                            full_projection);
  std::int64_t visited = 0;
  bool more = true;
  while (more) {
    self
      ->request(d.repo, std::chrono::seconds(60), atom::next::value, cursor,
                static_cast<std::uint64_t>(batch_rows))
      .receive(
        [&](contact_batch& batch) {
          for (auto& row : batch.rows) {
            ++visited;
            if (!visit(row)) {
              more = false;
              if (!batch.next.done) // free its connection now
                self->send(d.repo, atom::close::value, batch.next);
              return;
            }
          }
          more = !batch.next.done;
          cursor = std::move(batch.next);
        },
        [&](caf::error& err) { d.raise(err); });
  }
  if (visited == 0) // no contacts, or no such user
    d.require_user(user_id);
  return visited;
}

std::vector<suggestion_record>
engine_core::suggestions(const std::string& user_id) {
  auto& d = *impl_;
  d.require_user_id(user_id);
  std::vector<suggestion_record> out;
  {
    auto unset_logger = d.release_thread_logger();
    caf::scoped_actor self{*d.sys};
    self
      ->request(d.cache, std::chrono::seconds(60), atom::read::value, user_id,
                std::string{"pending"}, d.clock.now_unix_s())
      .receive([&](std::vector<suggestion_record>& r) { out = std::move(r); },
               [&](caf::error& err) { d.raise(err); });
  }
  if (out.empty()) // nothing pending, or no such user
    d.require_user(user_id);
  return out;
}

storage::respond_result
engine_core::respond(const storage::suggestion_response& response) {
  auto& d = *impl_;
  // The answer drops the user's cached suggestions (its status changed)
  // and contacts (accept and "met recently" move the last contact date).
  // Queued before this thread's next read reaches the cache; dropped after
  // a failure too, since a commit whose outcome is unknown may have
  // happened. A cached pending list may also hold a snooze that has passed
  // since it was read: it shows again once the entry's TTL
  // (cache.suggestions_ttl_ms) ends or another write drops it.
  auto drop_cached = [&] {
    caf::anon_send(d.cache, atom::invalidate::value,
                   static_cast<std::uint8_t>(cache_suggestions
                                             | cache_contacts),
                   response.user_id);
  };
  return d.about_user(response.user_id, [&] {
    try {
      // A short transaction on its own connection, on the caller's thread
      // (like `enqueue`): a response must not queue behind generations
      // for a repository worker.
      storage::session db{d.db->url()};
      auto answer = response;
      answer.now_unix_s = d.clock.or_now_unix_s(answer.now_unix_s);
      auto out = db.respond_to_suggestion(answer);
      drop_cached();
      return out;
    } catch (const storage::storage_error& e) {
      drop_cached();
      throw engine_error(e.code(), e.what());
    }
  });
}

contact_record engine_core::contact(const std::string& user_id,
                               const std::string& contact_id) {
  auto& d = *impl_;
  return d.about_user(user_id, [&] {
    if (!is_uuid_text(contact_id))
      throw engine_error(ec::invalid_input,
                         "contact id '" + printable_excerpt(contact_id)
                           + "' is not a UUID");
    auto unset_logger = d.release_thread_logger();
    caf::scoped_actor self{*d.sys};
    contact_record out;
    self->request(d.cache, std::chrono::seconds(60), atom::contact::value,
                  user_id, contact_id)
      .receive([&](contact_record& r) { out = std::move(r); },
               [&](caf::error& err) { d.raise(err); });
    return out;
  });
}

// Dates are read on the caller's thread on a connection of their own, as
// `respond` writes: a short read that must not queue behind generations.
std::vector<contact_date_info>
engine_core::contact_dates(const std::string& user_id,
                           const std::string& contact_id) {
  try {
    return storage::contact_dates(impl_->db->url(), user_id, contact_id);
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
}

std::vector<upcoming_date>
engine_core::upcoming_dates(const std::string& user_id, int horizon_days,
                            std::int64_t now_unix_s) {
  auto& d = *impl_;
  try {
    return storage::upcoming_dates(d.db->url(), user_id, horizon_days,
                                   d.clock.or_now_unix_s(now_unix_s));
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
}

std::vector<std::string> engine_core::users(bool active_only) {
  auto& d = *impl_;
  auto unset_logger = d.release_thread_logger();
  caf::scoped_actor self{*d.sys};
  std::vector<std::string> out;
  self->request(d.repo, std::chrono::seconds(60), atom::users::value,
                active_only)
    .receive([&](std::vector<std::string>& r) { out = std::move(r); },
             [&](caf::error& err) { d.raise(err); });
  return out;
}

std::vector<storage::user_info> engine_core::read_users() {
  try {
    return storage::read_users(impl_->db->url(), impl_->clock.now_unix_s());
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
}

storage::user_info engine_core::read_user(const std::string& user_id) {
  try {
    return storage::read_user(impl_->db->url(), user_id,
                              impl_->clock.now_unix_s());
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
}

void engine_core::delete_user(const std::string& user_id) {
  try {
    storage::delete_user(impl_->db->url(), user_id);
  } catch (const storage::storage_error& e) {
    // A failed commit may still have happened: drop what is cached anyway.
    invalidate(user_id);
    throw engine_error(e.code(), e.what());
  }
  invalidate(user_id);
}

std::string engine_core::put_user(const storage::user_profile& profile) {
  try {
    auto id = storage::put_user(impl_->db->url(), profile);
    // Zone and availability shape the user's slots.
    invalidate(id);
    return id;
  } catch (const storage::storage_error& e) {
    throw engine_error(e.code(), e.what());
  }
}

void engine_core::invalidate(const std::string& user_id) {
  auto& d = *impl_;
  // Queued before any later read of this thread's caller reaches the cache.
  caf::anon_send(d.cache, atom::invalidate::value,
                 static_cast<std::uint8_t>(cache_all), user_id);
}

} // namespace catchup
