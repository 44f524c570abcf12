// SPDX-License-Identifier: Apache-2.0
// The LRU cache against a reference model: long random sequences of get,
// has, put, erase, clock moves and pressure changes, with entry and byte
// limits and a TTL, compared after every step (contents in recency order,
// bytes equal to the sum of the size function, counters).

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>

#include "core/lru_cache.hpp"

using namespace catchup;

namespace {

// The obvious implementation: a vector in recency order, scanned.
struct model {
  struct item {
    int key;
    std::string value;
    std::size_t bytes;
    std::int64_t touched;
  };
  cache_limits limits;
  int percent = 100;
  std::vector<item> items; // most recent first
  cache_counters counters;

  std::size_t entries_max() const {
    return limits.entries_max * static_cast<std::size_t>(percent) / 100;
  }
  std::size_t bytes_max() const {
    return limits.bytes_max * static_cast<std::size_t>(percent) / 100;
  }
  std::size_t bytes() const {
    std::size_t n = 0;
    for (auto& i : items)
      n += i.bytes;
    return n;
  }
  std::vector<item>::iterator find(int key) {
    return std::find_if(items.begin(), items.end(),
                        [&](const item& i) { return i.key == key; });
  }
  void trim(std::int64_t cache_counters::*size_reason,
            std::int64_t cache_counters::*bytes_reason) {
    while (!items.empty()) {
      if (items.size() > entries_max())
        ++(counters.*size_reason);
      else if (bytes() > bytes_max())
        ++(counters.*bytes_reason);
      else
        break;
      items.pop_back();
    }
  }
  const std::string* get(int key, std::int64_t now) {
    auto i = find(key);
    if (i == items.end()) {
      ++counters.misses;
      return nullptr;
    }
    if (now - i->touched >= limits.ttl_ms) {
      ++counters.evictions_ttl;
      ++counters.misses;
      items.erase(i);
      return nullptr;
    }
    ++counters.hits;
    auto copy = *i;
    copy.touched = now;
    items.erase(i);
    items.insert(items.begin(), copy);
    return &items.front().value;
  }
  bool has(int key, std::int64_t now) {
    auto i = find(key);
    return i != items.end() && now - i->touched < limits.ttl_ms;
  }
  bool put(int key, std::string value, std::size_t bytes, std::int64_t now) {
    erase(key);
    if (bytes > bytes_max() || entries_max() == 0) {
      ++counters.refused;
      return false;
    }
    items.insert(items.begin(), item{key, std::move(value), bytes, now});
    trim(&cache_counters::evictions_size, &cache_counters::evictions_bytes);
    return true;
  }
  bool erase(int key) {
    auto i = find(key);
    if (i == items.end())
      return false;
    items.erase(i);
    return true;
  }
};

std::size_t value_bytes(const int&, const std::string& v) {
  return sizeof(std::string) + v.size();
}

void same(lru_cache<int, std::string>& cache, model& m) {
  std::vector<int> expected;
  for (auto& i : m.items)
    expected.push_back(i.key);
  BOOST_REQUIRE(cache.keys_by_recency() == expected);
  BOOST_REQUIRE_EQUAL(cache.bytes(), m.bytes());
  BOOST_REQUIRE_EQUAL(cache.size(), m.items.size());
  auto& c = cache.counters();
  BOOST_REQUIRE_EQUAL(c.hits, m.counters.hits);
  BOOST_REQUIRE_EQUAL(c.misses, m.counters.misses);
  BOOST_REQUIRE_EQUAL(c.evictions_size, m.counters.evictions_size);
  BOOST_REQUIRE_EQUAL(c.evictions_bytes, m.counters.evictions_bytes);
  BOOST_REQUIRE_EQUAL(c.evictions_ttl, m.counters.evictions_ttl);
  BOOST_REQUIRE_EQUAL(c.evictions_pressure, m.counters.evictions_pressure);
  BOOST_REQUIRE_EQUAL(c.refused, m.counters.refused);
  BOOST_REQUIRE(cache.size() <= cache.effective_entries_max());
  BOOST_REQUIRE(cache.bytes() <= cache.effective_bytes_max());
}

} // namespace

BOOST_AUTO_TEST_SUITE(core_lru_cache)

BOOST_AUTO_TEST_CASE(random_sequences_match_the_reference_model) {
  for (std::uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng{seed};
    auto pick = [&](int lo, int hi) {
      return std::uniform_int_distribution<int>{lo, hi}(rng);
    };
    cache_limits limits;
    limits.entries_max = static_cast<std::size_t>(pick(1, 12));
    // Multiples of 100, so percentages of it are exact in both.
    limits.bytes_max = static_cast<std::size_t>(pick(1, 8)) * 100;
    limits.ttl_ms = pick(5, 60);
    std::int64_t now = 0;
    lru_cache<int, std::string> cache{limits, value_bytes,
                                      [&] { return now; }};
    model m;
    m.limits = limits;
    for (int step = 0; step < 2000; ++step) {
      auto key = pick(0, 15);
      switch (pick(0, 9)) {
        case 0:
        case 1:
        case 2: {
          auto* got = cache.get(key);
          auto* want = m.get(key, now);
          BOOST_REQUIRE_EQUAL(got == nullptr, want == nullptr);
          if (got)
            BOOST_REQUIRE_EQUAL(*got, *want);
          break;
        }
        case 3:
          BOOST_REQUIRE_EQUAL(cache.has(key), m.has(key, now));
          break;
        case 4:
        case 5:
        case 6: {
          std::string value(static_cast<std::size_t>(pick(0, 120)), 'v');
          value += std::to_string(step);
          auto bytes = value_bytes(key, value);
          BOOST_REQUIRE_EQUAL(cache.put(key, value),
                              m.put(key, value, bytes, now));
          break;
        }
        case 7:
          BOOST_REQUIRE_EQUAL(cache.erase(key), m.erase(key));
          break;
        case 8:
          now += pick(0, 10);
          break;
        case 9: {
          static const int levels[] = {100, 75, 50, 10};
          auto percent = levels[pick(0, 3)];
          cache.set_capacity_percent(percent);
          m.percent = percent;
          m.trim(&cache_counters::evictions_pressure,
                 &cache_counters::evictions_pressure);
          break;
        }
      }
      same(cache, m);
    }
  }
}

BOOST_AUTO_TEST_CASE(get_refreshes_age_and_has_does_not) {
  std::int64_t now = 0;
  cache_limits limits{10, 1000, 100};
  lru_cache<int, std::string> cache{limits, value_bytes, [&] { return now; }};
  cache.put(1, "a");
  cache.put(2, "b");
  now = 90;
  BOOST_TEST(cache.has(1));
  BOOST_REQUIRE(cache.get(2) != nullptr); // age of 2 restarts at 90
  now = 150;
  BOOST_TEST(!cache.has(1)); // expired at 100: has did not refresh it
  BOOST_TEST(cache.has(2));
  BOOST_TEST(cache.get(1) == nullptr);
  BOOST_TEST(cache.counters().evictions_ttl == 1);
  BOOST_TEST((cache.keys_by_recency() == std::vector<int>{2}));
}

BOOST_AUTO_TEST_CASE(pressure_evicts_least_recent_first_and_restores) {
  std::int64_t now = 0;
  cache_limits limits{10, 100000, 1000000};
  lru_cache<int, std::string> cache{limits, value_bytes, [&] { return now; }};
  for (int k = 0; k < 10; ++k)
    cache.put(k, "x");
  cache.get(0); // 0 becomes the most recent
  cache.set_capacity_percent(50);
  BOOST_TEST((cache.keys_by_recency() == std::vector<int>{0, 9, 8, 7, 6}));
  BOOST_TEST(cache.counters().evictions_pressure == 5);
  cache.set_capacity_percent(10);
  BOOST_TEST((cache.keys_by_recency() == std::vector<int>{0}));
  cache.set_capacity_percent(100); // limits back, nothing comes back
  BOOST_TEST(cache.size() == 1u);
  for (int k = 1; k < 10; ++k)
    cache.put(k, "y");
  BOOST_TEST(cache.size() == 10u);
  BOOST_TEST(cache.counters().evictions_pressure == 9);
}

BOOST_AUTO_TEST_CASE(a_value_larger_than_the_byte_limit_is_not_kept) {
  std::int64_t now = 0;
  cache_limits limits{10, 100, 1000};
  lru_cache<int, std::string> cache{limits, value_bytes, [&] { return now; }};
  BOOST_TEST(cache.put(1, "small"));
  BOOST_TEST(!cache.put(1, std::string(200, 'x')));
  BOOST_TEST(!cache.has(1)); // the older value went too
  BOOST_TEST(cache.bytes() == 0u);
  BOOST_TEST(cache.counters().refused == 1);
  BOOST_TEST(cache.counters().evictions_bytes == 0);
}

BOOST_AUTO_TEST_CASE(erase_if_invalidates_an_owner) {
  std::int64_t now = 0;
  lru_cache<std::string, std::string> cache{
    cache_limits{10, 10000, 1000},
    [](const std::string& k, const std::string& v) {
      return k.size() + v.size();
    },
    [&] { return now; }};
  cache.put("u1/a", "1");
  cache.put("u2/a", "2");
  cache.put("u1/b", "3");
  BOOST_TEST(cache.erase_if([](const std::string& k) {
               return k.rfind("u1/", 0) == 0;
             })
             == 2u);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(cache.bytes() == 5u);
}

BOOST_AUTO_TEST_CASE(heap_bytes_counts_only_what_leaves_the_object) {
  BOOST_TEST(heap_bytes(std::string{"short"}) == 0u);
  std::string long_text(100, 'x');
  BOOST_TEST(heap_bytes(long_text) == long_text.capacity() + 1);
}

BOOST_AUTO_TEST_SUITE_END()
