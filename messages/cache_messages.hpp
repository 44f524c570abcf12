// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace catchup {

/// Which of the cache actor's caches an invalidation concerns (a bit set).
enum cache_kinds : std::uint8_t {
  cache_contacts = 1,
  cache_calendar = 2,
  cache_suggestions = 4,
  cache_all = 7,
};

/// One cache's figures, as the cache actor reports them.
struct cache_figures {
  std::string name;
  std::int64_t entries = 0;
  std::int64_t bytes = 0;
  /// The limits in force (shrunk under memory pressure).
  std::int64_t entries_max = 0;
  std::int64_t bytes_max = 0;
  std::int32_t capacity_percent = 100;
  std::int64_t hits = 0;
  std::int64_t misses = 0;
  std::int64_t evictions_size = 0;
  std::int64_t evictions_bytes = 0;
  std::int64_t evictions_ttl = 0;
  std::int64_t evictions_pressure = 0;
  /// Entries removed because their data was written.
  std::int64_t invalidations = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cache_figures& x) {
  return f(caf::meta::type_name("catchup::cache_figures"), x.name, x.entries,
           x.bytes, x.entries_max, x.bytes_max, x.capacity_percent, x.hits,
           x.misses, x.evictions_size, x.evictions_bytes, x.evictions_ttl,
           x.evictions_pressure, x.invalidations);
}

} // namespace catchup
