// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace catchup {

/// Frequency code meaning "no preference" (the classes are 0..7, in the
/// order of `catchup::frequency` in core/).
inline constexpr std::uint8_t no_frequency = 255;

/// One contact as streamed to a user actor. The minimal projection fills
/// the first six fields; the full projection fills the rest too.
struct contact_record {
  /// Lower-case UUID text.
  std::string id;
  std::string name;
  /// Last contact as Unix seconds; meaningless unless `has_last_contact`.
  std::int64_t last_contact_unix_s = 0;
  bool has_last_contact = false;
  /// 0..7 (see core/frequency.hpp) or `no_frequency`.
  std::uint8_t frequency = no_frequency;
  std::vector<std::string> group_ids;
  bool archived = false;
  /// The contact's own "every N days" cadence; 0 if none (a named class in
  /// `frequency`, or none at all).
  std::int32_t cadence_days = 0;
  /// The shortest cadence among its groups; 0 if none of them has one.
  std::int32_t group_cadence_days = 0;
  /// The cadence in effect (own, else groups'); 0 stands for the user's
  /// default cadence.
  std::int32_t effective_cadence_days = 0;
  /// Importance weight in quarters (contacts.importance_weight: inner 8,
  /// close 6, active 5, none 4, casual 3).
  std::int32_t importance_weight = 4;
  /// What the cadence counts from: the last contact, else when the contact
  /// was added (Unix seconds).
  std::int64_t due_from_unix_s = 0;
  /// Not suggested before this instant (Unix seconds); 0 if not paused.
  std::int64_t paused_until_unix_s = 0;
  // -- full projection only ---------------------------------------------------
  std::string email;
  std::string phone;
  std::string location;
  std::string organization;
  std::int64_t created_at_unix_s = 0;
  /// The Dunbar circle ("inner", "close", "active", "casual") or "".
  std::string importance;
  /// The user's default cadence (what effective_cadence_days 0 means).
  std::int32_t default_cadence_days = 30;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, contact_record& x) {
  return f(caf::meta::type_name("catchup::contact_record"), x.id, x.name,
           x.last_contact_unix_s, x.has_last_contact, x.frequency,
           x.group_ids, x.archived, x.cadence_days, x.group_cadence_days,
           x.effective_cadence_days, x.importance_weight, x.due_from_unix_s,
           x.paused_until_unix_s, x.email, x.phone, x.location,
           x.organization, x.created_at_unix_s, x.importance,
           x.default_cadence_days);
}

/// Which stream a cursor walks.
enum class stream_kind : std::uint8_t {
  /// All non-archived contacts in one order (keyset pagination).
  ordered = 0,
  /// Due, eligible contacts in suggestion priority order: one ordered index
  /// scan per (cadence, importance) class, merged.
  priority = 1,
  /// All non-archived contacts in one order through a server-side cursor:
  /// one snapshot, no re-planning per batch, for bulk reads. The stream
  /// holds one repository connection until it is done, closed or idle too
  /// long.
  bulk = 2,
};

/// Sort keys of an ordered stream; the contact id breaks ties.
enum class contact_order : std::uint8_t {
  last_contact = 0,
  name = 1,
  created_at = 2,
};

/// The position of a pull stream. The puller sends it with each request and
/// gets the advanced position back, so the repository keeps no state
/// between requests (and a stream costs nothing while it waits).
struct stream_cursor {
  std::string user_id;
  stream_kind kind = stream_kind::ordered;
  contact_order order = contact_order::last_contact;
  bool descending = false;
  bool full_projection = false;
  /// The generation's "now" (priority streams only).
  std::int64_t now_unix_s = 0;
  /// Keyset position of an ordered stream: the last row's sort key (as
  /// PostgreSQL text) and id; empty before the first batch.
  std::string after_key;
  std::string after_id;
  /// The user's default cadence and dismissal cool-down (0: one cadence
  /// period), priority streams only.
  std::int32_t default_cadence_days = 30;
  std::int32_t dismiss_cooldown_days = 0;
  /// The (cadence, importance) classes of the user's contacts, read on the
  /// first batch (priority streams); cadence 0 is the user's default.
  bool classes_loaded = false;
  std::vector<std::int32_t> class_cadence_days;
  std::vector<std::int32_t> class_weight;
  /// Keyset position per class (priority streams).
  std::vector<std::string> class_after_key;
  std::vector<std::string> class_after_id;
  /// Classes with no more due rows.
  std::vector<std::uint8_t> class_done;
  /// The server-side cursor of a bulk stream (0 before the first batch).
  std::uint64_t bulk_id = 0;
  /// True when the stream has no more rows.
  bool done = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_cursor& x) {
  return f(caf::meta::type_name("catchup::stream_cursor"), x.user_id, x.kind,
           x.order, x.descending, x.full_projection, x.now_unix_s,
           x.after_key, x.after_id, x.default_cadence_days,
           x.dismiss_cooldown_days, x.classes_loaded, x.class_cadence_days,
           x.class_weight, x.class_after_key, x.class_after_id,
           x.class_done, x.bulk_id, x.done);
}

/// One pulled batch: at most the requested number of rows, and the cursor
/// to continue from.
struct contact_batch {
  std::vector<contact_record> rows;
  stream_cursor next;
  /// Rows PostgreSQL returned to produce this batch (>= rows.size() for
  /// merged streams, which read ahead per class).
  std::int64_t rows_read = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, contact_batch& x) {
  return f(caf::meta::type_name("catchup::contact_batch"), x.rows, x.next,
           x.rows_read);
}

} // namespace catchup
