// SPDX-License-Identifier: Apache-2.0
#include "actors/cache.hpp"

#include <array>
#include <cctype>
#include <climits>
#include <chrono>
#include <string>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "core/lru_cache.hpp"
#include "core/pressure.hpp"

namespace catchup {

namespace {

// What one entry costs besides its key and value: the recency list node
// (two pointers plus the stored size and time) and the hash node (next
// pointer, cached hash, the iterator), rounded up to allocator classes.
constexpr std::size_t entry_overhead_bytes = 96;

std::size_t key_bytes(const std::string& key) {
  return entry_overhead_bytes + sizeof(std::string) + heap_bytes(key);
}

std::size_t contact_bytes(const std::string& key, const contact_record& c) {
  auto n = key_bytes(key) + sizeof(contact_record) + heap_bytes(c.id)
           + heap_bytes(c.name) + heap_bytes(c.email) + heap_bytes(c.phone)
           + heap_bytes(c.location) + heap_bytes(c.organization)
           + c.group_ids.capacity() * sizeof(std::string);
  for (auto& g : c.group_ids)
    n += heap_bytes(g);
  return n;
}

std::size_t busy_bytes(const std::string& key,
                       const std::vector<busy_record>& v) {
  return key_bytes(key) + sizeof(v) + v.capacity() * sizeof(busy_record);
}

std::size_t suggestions_bytes(const std::string& key,
                              const std::vector<suggestion_record>& v) {
  auto n = key_bytes(key) + sizeof(v)
           + v.capacity() * sizeof(suggestion_record);
  for (auto& s : v)
    n += heap_bytes(s.id) + heap_bytes(s.contact_id)
         + heap_bytes(s.contact_name) + heap_bytes(s.slot_timezone)
         + heap_bytes(s.reason) + heap_bytes(s.status);
  return n;
}

cache_limits limits_of(const config::cache_settings& s) {
  return {static_cast<std::size_t>(s.entries_max),
          static_cast<std::size_t>(s.bytes_max), s.ttl_ms};
}

// Keys: the user id first, so that a user's entries can be dropped by
// prefix. PostgreSQL reads a uuid in upper case, in braces or without
// hyphens too: every spelling maps to the canonical one, so a write by one
// spelling invalidates reads by another. (A user id never contains '/'.)
std::string user_prefix(const std::string& user_id) {
  std::string hex;
  for (auto ch : user_id)
    if (std::isxdigit(static_cast<unsigned char>(ch)))
      hex.push_back(static_cast<char>(
        std::tolower(static_cast<unsigned char>(ch))));
    else if (ch != '-' && ch != '{' && ch != '}')
      return user_id + "/"; // not a uuid: the database will say so
  if (hex.size() != 32)
    return user_id + "/";
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4)
         + "-" + hex.substr(16, 4) + "-" + hex.substr(20) + "/";
}

struct cache_metrics {
  gauge* entries = nullptr;
  gauge* bytes = nullptr;
  counter* hits = nullptr;
  counter* misses = nullptr;
  std::int64_t hits_published = 0;
  std::int64_t misses_published = 0;

  cache_metrics(metrics_registry* r, const std::string& name) {
    if (r == nullptr)
      return;
    auto base = "catchup_cache_" + name;
    entries = &r->gauge_named(base + "_entries", "entries in the " + name
                                                   + " cache");
    bytes = &r->gauge_named(base + "_bytes",
                            "bytes held by the " + name + " cache");
    hits = &r->counter_named(base + "_hits_total",
                             "reads the " + name + " cache answered");
    misses = &r->counter_named(base + "_misses_total",
                               "reads the " + name
                                 + " cache passed to the database");
  }

  template <class Cache>
  void publish(const Cache& c) {
    if (entries == nullptr)
      return;
    entries->set(static_cast<double>(c.size()));
    bytes->set(static_cast<double>(c.bytes()));
    hits->add(c.counters().hits - hits_published);
    misses->add(c.counters().misses - misses_published);
    hits_published = c.counters().hits;
    misses_published = c.counters().misses;
  }
};

using contact_cache = lru_cache<std::string, contact_record>;
using calendar_cache = lru_cache<std::string, std::vector<busy_record>>;
using suggestion_cache = lru_cache<std::string, std::vector<suggestion_record>>;

struct cache_state {
  repository_actor repo;
  std::unique_ptr<contact_cache> contacts;
  std::unique_ptr<calendar_cache> calendar;
  std::unique_ptr<suggestion_cache> suggestions;
  std::shared_ptr<metrics_registry> registry;
  std::vector<cache_metrics> metrics;
  // Entries dropped by invalidations, per cache.
  std::array<std::int64_t, 3> invalidations{};
  // Invalidations per cache: a read that missed before one of its cache
  // must not store what it read, which may predate the write.
  std::array<std::uint64_t, 3> epochs{};
  pressure_level level = pressure_level::normal;
  // The engine's pressure policy: capacity follows the level's share.
  pressure_policy_table policy;
  static inline const char* name = "cache";
};

using cache_pointer = cache_actor::stateful_pointer<cache_state>;

template <class Cache>
cache_figures figures_of(const std::string& name, const Cache& c,
                         std::int64_t invalidations) {
  cache_figures f;
  f.name = name;
  f.entries = static_cast<std::int64_t>(c.size());
  f.bytes = static_cast<std::int64_t>(c.bytes());
  f.entries_max = static_cast<std::int64_t>(c.effective_entries_max());
  f.bytes_max = static_cast<std::int64_t>(c.effective_bytes_max());
  f.capacity_percent = c.capacity_percent();
  auto& k = c.counters();
  f.hits = k.hits;
  f.misses = k.misses;
  f.evictions_size = k.evictions_size;
  f.evictions_bytes = k.evictions_bytes;
  f.evictions_ttl = k.evictions_ttl;
  f.evictions_pressure = k.evictions_pressure;
  f.invalidations = invalidations;
  return f;
}

void publish(cache_pointer self) {
  auto& st = self->state;
  if (st.metrics.empty())
    return;
  st.metrics[0].publish(*st.contacts);
  st.metrics[1].publish(*st.calendar);
  st.metrics[2].publish(*st.suggestions);
}

// Answers from `cache` or reads through the repository with `xs`; what the
// repository returns is stored unless an invalidation came in between.
template <class Value, class Cache, class... Ts>
caf::typed_response_promise<Value> read_through(cache_pointer self,
                                                Cache* cache, std::size_t kind,
                                                std::string key, Ts... xs) {
  auto rp = self->make_response_promise<Value>();
  if (auto* hit = cache->get(key)) {
    rp.deliver(*hit);
    publish(self);
    return rp;
  }
  publish(self);
  auto epoch = self->state.epochs[kind];
  // No timeout: the repository's calls are bounded by the server.
  self->request(self->state.repo, caf::infinite, xs...)
    .then(
      [=](Value& value) mutable {
        if (self->state.epochs[kind] == epoch) {
          cache->put(key, value);
          publish(self);
        }
        rp.deliver(std::move(value));
      },
      [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

// Drops the entries of `kinds` (cache_contacts, cache_calendar,
// cache_suggestions) of `user`, or of everyone when `user` is empty; reads
// in flight for them will not be stored (their epoch moves on).
void invalidate(cache_pointer self, std::uint8_t kinds,
                const std::string& user) {
  auto& st = self->state;
  for (std::size_t k = 0; k < 3; ++k)
    if (kinds & (1u << k))
      ++st.epochs[k];
  auto drop = [&](auto& c, std::int64_t& count) {
    if (user.empty()) {
      count += static_cast<std::int64_t>(c.size());
      c.clear();
      return;
    }
    auto prefix = user_prefix(user);
    count += static_cast<std::int64_t>(c.erase_if(
      [&](const std::string& k) { return k.rfind(prefix, 0) == 0; }));
  };
  if (kinds & cache_contacts)
    drop(*st.contacts, st.invalidations[0]);
  if (kinds & cache_calendar)
    drop(*st.calendar, st.invalidations[1]);
  if (kinds & cache_suggestions)
    drop(*st.suggestions, st.invalidations[2]);
  publish(self);
}

// Shrinks (or restores) every cache to the level's capacity.
void apply_level(cache_pointer self, pressure_level level) {
  auto& st = self->state;
  if (level == st.level)
    return;
  st.level = level;
  auto percent = st.policy.at(level).cache_capacity_percent;
  st.contacts->set_capacity_percent(percent);
  st.calendar->set_capacity_percent(percent);
  st.suggestions->set_capacity_percent(percent);
  spdlog::info("cache: capacity {}% at {} pressure", percent,
               to_string(level));
  publish(self);
}

cache_actor::behavior_type cache(cache_pointer self, repository_actor repo,
                                 config::caches_settings cfg,
                                 pressure_policy_table policy,
                                 std::shared_ptr<metrics_registry> registry,
                                 std::function<std::int64_t()> now_ms) {
  auto& st = self->state;
  st.repo = std::move(repo);
  st.policy = policy;
  if (!now_ms)
    now_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
    };
  st.contacts = std::make_unique<contact_cache>(limits_of(cfg.contacts),
                                                contact_bytes, now_ms);
  st.calendar = std::make_unique<calendar_cache>(limits_of(cfg.calendar),
                                                 busy_bytes, now_ms);
  st.suggestions = std::make_unique<suggestion_cache>(
    limits_of(cfg.suggestions), suggestions_bytes, now_ms);
  st.registry = std::move(registry);
  if (st.registry)
    for (auto* name : {"contacts", "calendar", "suggestions"})
      st.metrics.emplace_back(st.registry.get(), name);
  return {
    [=](atom::read a, const std::string& user, const std::string& status,
        std::int64_t now_unix_s)
      -> caf::typed_response_promise<std::vector<suggestion_record>> {
      if (status != "pending") {
        auto rp = self->make_response_promise<std::vector<suggestion_record>>();
        self->request(self->state.repo, caf::infinite, a, user, status,
                      now_unix_s)
          .then(
            [=](std::vector<suggestion_record>& v) mutable {
              rp.deliver(std::move(v));
            },
            [=](caf::error& err) mutable { rp.deliver(std::move(err)); });
        return rp;
      }
      return read_through<std::vector<suggestion_record>>(
        self, self->state.suggestions.get(), 2, user_prefix(user), a, user,
        status, now_unix_s);
    },
    [=](atom::busy a, const std::string& user, std::int64_t from,
        std::int64_t to) {
      return read_through<std::vector<busy_record>>(
        self, self->state.calendar.get(), 1,
        user_prefix(user) + std::to_string(from) + ":" + std::to_string(to),
        a, user, from, to);
    },
    [=](atom::contact a, const std::string& user, const std::string& id) {
      return read_through<contact_record>(self, self->state.contacts.get(), 0,
                                          user_prefix(user) + id, a, user,
                                          id);
    },
    [=](atom::invalidate, std::uint8_t kinds, const std::string& user) {
      invalidate(self, kinds, user);
    },
    [=](atom::pressure, const memory_status& x) { apply_level(self, x.level); },
    [=](atom::status) {
      auto& st = self->state;
      return std::vector<cache_figures>{
        figures_of("contacts", *st.contacts, st.invalidations[0]),
        figures_of("calendar", *st.calendar, st.invalidations[1]),
        figures_of("suggestions", *st.suggestions, st.invalidations[2]),
      };
    },
  };
}

} // namespace

cache_actor spawn_cache(caf::actor_system& sys, repository_actor repo,
                        config::caches_settings cfg,
                        std::int64_t memory_budget_bytes,
                        const pressure_policy_table& policy,
                        std::shared_ptr<metrics_registry> metrics,
                        std::function<std::int64_t()> now_ms) {
  // Saturating: three limits near the int64 maximum must not wrap.
  std::int64_t total = 0;
  for (auto b : {cfg.contacts.bytes_max, cfg.calendar.bytes_max,
                 cfg.suggestions.bytes_max})
    total = b > INT64_MAX - total ? INT64_MAX : total + b;
  // Split so that no product overflows: limits may be configured up to
  // the largest int64.
  auto share = memory_budget_bytes / 100 * cfg.budget_percent
               + memory_budget_bytes % 100 * cfg.budget_percent / 100;
  if (memory_budget_bytes > 0 && total > share) {
    // long double: a 64-bit mantissa keeps byte counts exact, and the
    // product of two large limits cannot overflow.
    for (auto* c : {&cfg.contacts, &cfg.calendar, &cfg.suggestions})
      c->bytes_max = static_cast<std::int64_t>(
        static_cast<long double>(c->bytes_max)
        * static_cast<long double>(share) / static_cast<long double>(total));
    spdlog::debug("cache: byte limits scaled to {} of {} bytes ({}% of a {} "
                  "byte budget)",
                  share, total, cfg.budget_percent, memory_budget_bytes);
  }
  return sys.spawn(cache, std::move(repo), cfg, policy, std::move(metrics),
                   std::move(now_ms));
}

} // namespace catchup
