// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace catchup::storage {

/// What `seed` creates. Every value is an input of the generator, so the
/// same options always produce the same rows.
struct seed_options {
  /// Number of users, 1..100000.
  std::int64_t users = 20;
  /// Contacts per user, 0..10000000.
  std::int64_t contacts_per_user = 10000;
  /// Seeds the generator; also part of each user's e-mail, so data sets of
  /// different seeds live side by side in one database.
  std::uint64_t seed = 1;
  /// The reference "now" in seconds since the epoch, 0..253370764800
  /// (9999-01-01T00:00:00Z). Last contacts lie in the 3 years (1095 days)
  /// before it, never before 1970; busy events in the 14 days after it.
  /// Never read from the clock, so a seeded data set can be regenerated
  /// exactly; callers pass their own clock's value for fresh data.
  std::int64_t now_unix_s = 0;
  /// Each user gets 0..this many calendar events, 0..10000.
  std::int64_t busy_events_per_user_max = 30;
};

/// What `seed` wrote.
struct seed_report {
  /// The users' ids, in creation order.
  std::vector<std::string> user_ids;
  /// Rows written, summed over all users.
  std::int64_t contacts = 0;
  std::int64_t groups = 0;
  std::int64_t events = 0;
  /// Time the whole call took.
  double wall_ms = 0;
};

/// The e-mail of seeded user `index` (1-based) of seed `seed`,
/// "user<index>@seed<seed>.example"; this is how re-seeding finds the users
/// it replaces.
std::string seed_user_email(std::int64_t index, std::uint64_t seed);

/// Creates `users` users with their contacts, groups, memberships,
/// availability and busy calendar events. The same options always produce
/// byte-identical data, ids and timestamps included: everything is drawn
/// from a PRNG seeded with `seed` (per user), never from gen_random_uuid or
/// the clock, so every generation result on seeded data is reproducible.
/// Re-seeding with the same seed first deletes the users it would create
/// (matched by `seed_user_email`, cascading), so it is idempotent. Contacts,
/// groups and memberships are loaded with COPY, and memberships are derived
/// by replaying the contact generator instead of buffering them, so memory
/// stays constant however many contacts a user has. One transaction per
/// user, so a failure never leaves a half-seeded user (users committed
/// before the failure stay).
///
/// The data: names from several scripts and naming orders; ~70% of contacts
/// with an e-mail; frequency preferences daily 2%, weekly 10%, biweekly 8%,
/// monthly 22%, quarterly 15%, yearly 10%, flexible 6%, na 5%, none 22%;
/// ~10% never contacted, the rest uniform over the 3 years before now; ~5%
/// archived; 5-8 groups per user with each contact in 0-2 of them; user
/// timezones cycling through ten zones (DST and half-hour offsets included);
/// availability windows for about a third of users; busy events of 30-180
/// minutes in [now, now + 14 days), mostly in local daytime, ~10% marked
/// free (transparent).
/// @throws storage_error (via detail::rethrow_as_storage_error) on database
///         failure; storage_error(ec::invalid_input) for out-of-range
///         options.
seed_report seed(const std::string& url, const seed_options& options);

/// The ids of the users `seed(url, options)` creates, in creation order, if
/// all of them exist with `contacts_per_user` contacts each; otherwise empty.
/// Lets a benchmark reuse a large data set instead of seeding it again.
/// @throws storage_error on database failure.
std::vector<std::string> seeded_users(const std::string& url,
                                      const seed_options& options);

} // namespace catchup::storage
