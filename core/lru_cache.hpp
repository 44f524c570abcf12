// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/assert.hpp"

namespace catchup {

/// Why entries left a cache.
struct cache_counters {
  std::int64_t hits = 0;
  std::int64_t misses = 0;
  /// Evicted to stay within `entries_max`.
  std::int64_t evictions_size = 0;
  /// Evicted to stay within `bytes_max`.
  std::int64_t evictions_bytes = 0;
  /// Found expired.
  std::int64_t evictions_ttl = 0;
  /// Evicted because memory pressure shrank the cache.
  std::int64_t evictions_pressure = 0;
  /// Puts not stored (value larger than the byte limit).
  std::int64_t refused = 0;
};

/// The limits of one cache.
struct cache_limits {
  /// Entries at most.
  std::size_t entries_max = 1000;
  /// Bytes at most, as the cache's size function counts them.
  std::size_t bytes_max = 50u << 20;
  /// Time to live of an entry, from its last put or get.
  std::int64_t ttl_ms = 3600000;
};

/// A least-recently-used cache bounded in entries and in bytes, with a time
/// to live. O(1) get, put and erase (a hash map into a recency list).
///
/// As the original service's caches: a get refreshes an entry's age and
/// recency (`updateAgeOnGet`), `has` changes neither (`updateAgeOnHas`
/// false). `bytes_of` measures what a value really holds on the heap; it is
/// called once per put and its result kept, so a value must not change
/// while cached. Time comes from `now_ms`, so tests can drive it. Memory
/// pressure shrinks the effective limits to a percentage of the configured
/// ones, evicting least recently used entries first; raising the
/// percentage restores the limits (nothing evicted comes back).
///
/// Not thread-safe: one cache actor owns each cache.
template <class Key, class Value, class Hash = std::hash<Key>>
class lru_cache {
public:
  using size_function = std::function<std::size_t(const Key&, const Value&)>;
  using clock_function = std::function<std::int64_t()>;

  lru_cache(cache_limits limits, size_function bytes_of,
            clock_function now_ms)
    : limits_(limits),
      bytes_of_(std::move(bytes_of)),
      now_ms_(std::move(now_ms)) {
    // nop
  }

  /// The value of `key`, or null (missing or expired). Refreshes its age
  /// and makes it the most recently used. The pointer is valid until the
  /// next call that changes the cache.
  const Value* get(const Key& key) {
    auto i = index_.find(key);
    if (i == index_.end()) {
      ++counters_.misses;
      return nullptr;
    }
    auto now = now_ms_();
    if (expired(*i->second, now)) {
      ++counters_.evictions_ttl;
      ++counters_.misses;
      remove(i);
      return nullptr;
    }
    ++counters_.hits;
    i->second->touched_ms = now;
    order_.splice(order_.begin(), order_, i->second);
    return &i->second->value;
  }

  /// True when `key` is cached and not expired; changes no age or order.
  bool has(const Key& key) const {
    auto i = index_.find(key);
    return i != index_.end() && !expired(*i->second, now_ms_());
  }

  /// Stores (or replaces) `key`, then evicts least recently used entries
  /// until the cache is within its limits. A value larger than the byte
  /// limit on its own, or any value while the limits are shrunk to no
  /// entry, is not stored (and an older value of `key` goes); that counts
  /// as a refusal, not an eviction.
  /// @returns whether the value is now cached.
  bool put(Key key, Value value) {
    auto size = bytes_of_(key, value);
    erase(key);
    if (size > effective_bytes_max() || effective_entries_max() == 0) {
      ++counters_.refused;
      return false;
    }
    order_.push_front(entry{key, std::move(value), size, now_ms_()});
    index_.emplace(std::move(key), order_.begin());
    bytes_ += size;
    trim(&cache_counters::evictions_size, &cache_counters::evictions_bytes);
    return true;
  }

  /// Removes `key`; false if it was not cached.
  bool erase(const Key& key) {
    auto i = index_.find(key);
    if (i == index_.end())
      return false;
    remove(i);
    return true;
  }

  /// Removes every entry whose key satisfies `pred` (invalidation by owner);
  /// O(n). @returns how many went.
  template <class Predicate>
  std::size_t erase_if(Predicate pred) {
    std::size_t n = 0;
    for (auto i = order_.begin(); i != order_.end();) {
      auto next = std::next(i);
      if (pred(i->key)) {
        remove(index_.find(i->key));
        ++n;
      }
      i = next;
    }
    return n;
  }

  /// Removes every entry.
  void clear() {
    index_.clear();
    order_.clear();
    bytes_ = 0;
  }

  /// Sets the effective limits to `percent` (1..100) of the configured
  /// ones and evicts least recently used entries to meet them.
  void set_capacity_percent(int percent) {
    percent_ = std::clamp(percent, 1, 100);
    trim(&cache_counters::evictions_pressure,
         &cache_counters::evictions_pressure);
  }

  int capacity_percent() const noexcept {
    return percent_;
  }

  std::size_t effective_entries_max() const noexcept {
    return limits_.entries_max * static_cast<std::size_t>(percent_) / 100;
  }

  std::size_t effective_bytes_max() const noexcept {
    return limits_.bytes_max / 100 * static_cast<std::size_t>(percent_)
           + limits_.bytes_max % 100 * static_cast<std::size_t>(percent_)
               / 100;
  }

  /// Keys from most to least recently used (for tests and inspection).
  std::vector<Key> keys_by_recency() const {
    std::vector<Key> out;
    out.reserve(order_.size());
    for (auto& e : order_)
      out.push_back(e.key);
    return out;
  }

  std::size_t size() const noexcept {
    return index_.size();
  }

  std::size_t bytes() const noexcept {
    return bytes_;
  }

  const cache_counters& counters() const noexcept {
    return counters_;
  }

  const cache_limits& limits() const noexcept {
    return limits_;
  }

private:
  struct entry {
    Key key;
    Value value;
    std::size_t bytes;
    std::int64_t touched_ms;
  };
  using list_type = std::list<entry>;
  using index_type
    = std::unordered_map<Key, typename list_type::iterator, Hash>;

  bool expired(const entry& e, std::int64_t now) const {
    return now - e.touched_ms >= limits_.ttl_ms;
  }

  // The index and the recency list name the same entries, and the byte
  // count is theirs: a drift would make the limits evict too much or too
  // little, silently.
  void check_accounting() const {
    CATCHUP_ASSERT(index_.size() == order_.size(),
                   "the index and the recency list hold the same entries");
    CATCHUP_ASSERT(!order_.empty() || bytes_ == 0,
                   "an empty cache counts no bytes");
  }

  void remove(typename index_type::iterator i) {
    CATCHUP_ASSERT(i != index_.end(), "only an indexed entry is removed");
    CATCHUP_ASSERT(bytes_ >= i->second->bytes,
                   "the cache's byte count never goes below zero");
    bytes_ -= i->second->bytes;
    order_.erase(i->second);
    index_.erase(i);
    check_accounting();
  }

  // Evicts from the least recently used end until within the effective
  // limits, counting each eviction under the limit that forced it.
  void trim(std::int64_t cache_counters::*for_entries,
            std::int64_t cache_counters::*for_bytes) {
    while (!order_.empty()) {
      std::int64_t cache_counters::*reason = nullptr;
      if (index_.size() > effective_entries_max())
        reason = for_entries;
      else if (bytes_ > effective_bytes_max())
        reason = for_bytes;
      else
        break;
      ++(counters_.*reason);
      remove(index_.find(order_.back().key));
    }
    check_accounting();
    CATCHUP_ASSERT(index_.size() <= effective_entries_max(),
                   "a trimmed cache is within its entry limit");
    CATCHUP_ASSERT(bytes_ <= effective_bytes_max(),
                   "a trimmed cache is within its byte limit");
  }

  cache_limits limits_;
  size_function bytes_of_;
  clock_function now_ms_;
  int percent_ = 100;
  list_type order_;
  index_type index_;
  std::size_t bytes_ = 0;
  cache_counters counters_;
};

/// Heap bytes a string owns beyond its own object (0 while it fits in the
/// small-string buffer).
inline std::size_t heap_bytes(const std::string& s) noexcept {
  // libstdc++ keeps up to 15 characters inside the object.
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

} // namespace catchup
