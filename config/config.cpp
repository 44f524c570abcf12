// SPDX-License-Identifier: Apache-2.0
#include "config/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iterator>
#include <limits>
#include <map>
#include <type_traits>
#include <variant>

#include "config/config_file.hpp"

extern char** environ;

namespace catchup::config {

namespace {

constexpr std::int64_t int_max = std::numeric_limits<std::int64_t>::max();

// 200 years either way: far beyond any rehearsal, and far from overflowing
// the milliseconds it becomes.
constexpr std::int64_t clock_offset_s_max = 200LL * 366 * 86400;

// -- the key table ------------------------------------------------------------

// One row per key: name, kind, default, the original service's environment
// variable, range, choices, help, and the field of `settings` it sets (which
// has the same default). Rows follow the order of the fields in
// `settings.hpp`; the unit tests check that every key round-trips through
// `load` into its own field and that the defaults agree.
constexpr key_spec all_keys[] = {
  {"database.url", value_kind::string, "", "DATABASE_URL", 0, 0, "",
   "PostgreSQL connection URL; empty runs a private cluster in "
   "database.data_dir",
   [](settings& s) -> auto& { return s.database.url; }},
  {"database.data_dir", value_kind::string, ".catchup/pg", "", 0, 0, "",
   "directory of the private PostgreSQL cluster",
   [](settings& s) -> auto& { return s.database.data_dir; }},
  {"database.pg_bin_dir", value_kind::string, "", "", 0, 0, "",
   "directory holding initdb and pg_ctl; empty searches "
   "/usr/lib/postgresql/*/bin, then PATH",
   [](settings& s) -> auto& { return s.database.pg_bin_dir; }},
  {"database.service_user", value_kind::string, "postgres", "", 0, 0, "",
   "unprivileged user that runs the private cluster when catchup runs as "
   "root",
   [](settings& s) -> auto& { return s.database.service_user; }},
  {"database.start_timeout_ms", value_kind::integer, "60000", "", 1000,
   600000, "", "upper bound for creating and starting the private cluster",
   [](settings& s) -> auto& { return s.database.start_timeout_ms; }},
  {"database.tcp_port", value_kind::integer, "0", "", 0, 65535, "",
   "TCP port of the private cluster on localhost; 0 = unix socket only",
   [](settings& s) -> auto& { return s.database.tcp_port; }},
  {"database.connections_max", value_kind::integer, "4", "", 1, 64, "",
   "database connections one engine process opens at most",
   [](settings& s) -> auto& { return s.database.connections_max; }},
  {"database.migrate_on_start", value_kind::boolean, "true", "", 0, 0, "",
   "apply pending schema migrations when the engine opens the database",
   [](settings& s) -> auto& { return s.database.migrate_on_start; }},
  {"log.level", value_kind::choice, "info", "", 0, 0,
   "trace|debug|info|warn|error|off", "lowest level that is logged",
   [](settings& s) -> auto& { return s.log.level; }},
  {"log.format", value_kind::choice, "text", "", 0, 0, "text|json",
   "text for people, json for one JSON object per line",
   [](settings& s) -> auto& { return s.log.format; }},
  {"memory.max_heap_percent", value_kind::integer, "80", "MAX_HEAP_PERCENT",
   10, 100, "", "heap use in percent of the budget at which pressure is "
   "critical and new work is refused",
   [](settings& s) -> auto& { return s.memory.max_heap_percent; }},
  {"memory.monitoring_enabled", value_kind::boolean, "true",
   "ENABLE_MEMORY_MONITORING", 0, 0, "",
   "sample memory and shrink work under pressure",
   [](settings& s) -> auto& { return s.memory.monitoring_enabled; }},
  {"memory.forced_gc_enabled", value_kind::boolean, "true", "ENABLE_FORCED_GC",
   0, 0, "", "return freed memory to the OS when pressure rises",
   [](settings& s) -> auto& { return s.memory.forced_gc_enabled; }},
  {"memory.budget_bytes", value_kind::integer, "0", "", 0, int_max, "",
   "memory budget (suffixes KiB MiB GiB); 0 = cgroup limit, else physical "
   "memory",
   [](settings& s) -> auto& { return s.memory.budget_bytes; }},
  {"memory.sample_interval_ms", value_kind::integer, "1000", "", 10, 600000,
   "", "interval between memory samples",
   [](settings& s) -> auto& { return s.memory.sample_interval_ms; }},
  {"memory.budget_check_enabled", value_kind::boolean, "true", "", 0, 0, "",
   "refuse to start with a budget below the heap the process holds at rest "
   "(off only for a drill of the memory breaker)",
   [](settings& s) -> auto& { return s.memory.budget_check_enabled; }},
  {"generation.batch_rows_max", value_kind::integer, "100",
   "SUGGESTION_BATCH_SIZE", 1, 10000, "",
   "contacts pulled per batch at normal memory pressure",
   [](settings& s) -> auto& { return s.generation.batch_rows_max; }},
  {"generation.suggestions_max", value_kind::integer, "50",
   "MAX_SUGGESTIONS_PER_GENERATION", 1, 1000, "",
   "suggestions one generation produces at most at normal pressure",
   [](settings& s) -> auto& { return s.generation.suggestions_max; }},
  {"generation.concurrent_users_max", value_kind::integer, "8", "", 1, 1024,
   "", "user generations one node runs at once in a multi-user run",
   [](settings& s) -> auto& { return s.generation.concurrent_users_max; }},
  {"generation.breaker_wait_max_ms", value_kind::integer, "60000", "", 0,
   86400000, "",
   "users of a run held by the open memory breaker this long fail with "
   "memory_critical instead of waiting",
   [](settings& s) -> auto& { return s.generation.breaker_wait_max_ms; }},
  {"cache.budget_percent", value_kind::integer, "25", "", 1, 100, "",
   "share of the memory budget the caches may hold together at most",
   [](settings& s) -> auto& { return s.cache.budget_percent; }},
  {"cache.contacts_entries_max", value_kind::integer, "1000", "", 0, 10000000,
   "", "entries of the contacts cache (contacts by id) at normal pressure",
   [](settings& s) -> auto& { return s.cache.contacts.entries_max; }},
  {"cache.contacts_bytes_max", value_kind::integer, "52428800", "", 0, int_max, "",
   "bytes of the contacts cache (suffixes KiB MiB GiB) at normal pressure",
   [](settings& s) -> auto& { return s.cache.contacts.bytes_max; }},
  {"cache.contacts_ttl_ms", value_kind::integer, "3600000", "", 1, int_max, "",
   "time to live of a contacts cache entry since its last use",
   [](settings& s) -> auto& { return s.cache.contacts.ttl_ms; }},
  {"cache.calendar_entries_max", value_kind::integer, "5000", "", 0, 10000000,
   "", "entries of the calendar cache (busy calendar intervals per user and day) at normal pressure",
   [](settings& s) -> auto& { return s.cache.calendar.entries_max; }},
  {"cache.calendar_bytes_max", value_kind::integer, "104857600", "", 0, int_max, "",
   "bytes of the calendar cache (suffixes KiB MiB GiB) at normal pressure",
   [](settings& s) -> auto& { return s.cache.calendar.bytes_max; }},
  {"cache.calendar_ttl_ms", value_kind::integer, "86400000", "", 1, int_max, "",
   "time to live of a calendar cache entry since its last use",
   [](settings& s) -> auto& { return s.cache.calendar.ttl_ms; }},
  {"cache.suggestions_entries_max", value_kind::integer, "500", "", 0, 10000000,
   "", "entries of the suggestions cache (pending suggestions per user) at normal pressure",
   [](settings& s) -> auto& { return s.cache.suggestions.entries_max; }},
  {"cache.suggestions_bytes_max", value_kind::integer, "26214400", "", 0, int_max, "",
   "bytes of the suggestions cache (suffixes KiB MiB GiB) at normal pressure",
   [](settings& s) -> auto& { return s.cache.suggestions.bytes_max; }},
  {"cache.suggestions_ttl_ms", value_kind::integer, "1800000", "", 1, int_max, "",
   "time to live of a suggestions cache entry since its last use",
   [](settings& s) -> auto& { return s.cache.suggestions.ttl_ms; }},
  {"sync.contacts_page_items", value_kind::integer, "500", "", 1, 1000, "",
   "contacts imported per page (one transaction) at normal pressure",
   [](settings& s) -> auto& { return s.sync.contacts_page_items; }},
  {"sync.events_page_items", value_kind::integer, "100", "", 1, 2500, "",
   "calendar events imported per page (one transaction) at normal pressure",
   [](settings& s) -> auto& { return s.sync.events_page_items; }},
  {"sync.calendar_past_days", value_kind::integer, "365", "", 0, 36500, "",
   "days before now in which calendar events are imported",
   [](settings& s) -> auto& { return s.sync.calendar_past_days; }},
  {"sync.calendar_future_days", value_kind::integer, "365", "", 1, 36500, "",
   "days after now in which calendar events are imported",
   [](settings& s) -> auto& { return s.sync.calendar_future_days; }},
  {"sync.line_bytes_max", value_kind::integer, "65536", "", 256, 16777216, "",
   "longest physical line of an import file (suffixes KiB MiB)",
   [](settings& s) -> auto& { return s.sync.line_bytes_max; }},
  {"sync.item_bytes_max", value_kind::integer, "1048576", "", 1024,
   268435456, "", "largest card or event of an import file (suffixes KiB MiB)",
   [](settings& s) -> auto& { return s.sync.item_bytes_max; }},
  {"sync.indexed_field_bytes_max", value_kind::integer, "1000", "", 64, 2000,
   "", "longest imported name, key, e-mail, group or event id; a longer "
       "item is skipped with the reason",
   [](settings& s) -> auto& { return s.sync.indexed_field_bytes_max; }},
  {"sync.google_people_url", value_kind::string,
   "https://people.googleapis.com", "", 0, 0, "",
   "base URL of the Google People API",
   [](settings& s) -> auto& { return s.sync.google_people_url; }},
  {"sync.google_calendar_url", value_kind::string,
   "https://www.googleapis.com", "", 0, 0, "",
   "base URL of the Google Calendar API",
   [](settings& s) -> auto& { return s.sync.google_calendar_url; }},
  {"sync.google_token_url", value_kind::string,
   "https://oauth2.googleapis.com/token", "", 0, 0, "",
   "OAuth token endpoint used to refresh the access token",
   [](settings& s) -> auto& { return s.sync.google_token_url; }},
  {"sync.google_pages_max", value_kind::integer, "20000", "", 1, 10000000, "",
   "pages one Google listing may have before its sync stops with an error",
   [](settings& s) -> auto& { return s.sync.google_pages_max; }},
  {"sync.google_empty_pages_max", value_kind::integer, "100", "", 1, 1000000,
   "", "empty pages in a row after which a Google sync stops with an error",
   [](settings& s) -> auto& { return s.sync.google_empty_pages_max; }},
  {"node.owner", value_kind::string, "", "", 0, 0, "",
   "this node's name in job leases; empty = host:pid",
   [](settings& s) -> auto& { return s.node.owner; }},
  {"node.lease_ms", value_kind::integer, "30000", "", 300, 3600000, "",
   "lease of a claimed job, renewed every third of it while it runs",
   [](settings& s) -> auto& { return s.node.lease_ms; }},
  {"node.poll_interval_ms", value_kind::integer, "1000", "", 10, 600000, "",
   "claim at least this often when no notification wakes the node",
   [](settings& s) -> auto& { return s.node.poll_interval_ms; }},
  {"node.jobs_max", value_kind::integer, "8", "", 1, 1024, "",
   "jobs one node runs at once at normal memory pressure",
   [](settings& s) -> auto& { return s.node.jobs_max; }},
  {"node.shutdown_grace_ms", value_kind::integer, "30000", "", 0, 3600000,
   "", "on SIGTERM or SIGINT, time jobs in flight get to finish",
   [](settings& s) -> auto& { return s.node.shutdown_grace_ms; }},
  {"node.retry_backoff_initial_ms", value_kind::integer, "1000", "", 1,
   86400000, "", "first retry delay of a failed job (doubles per attempt)",
   [](settings& s) -> auto& { return s.node.retry_backoff_initial_ms; }},
  {"node.retry_backoff_max_ms", value_kind::integer, "600000", "", 1,
   86400000, "", "longest retry delay of a failed job",
   [](settings& s) -> auto& { return s.node.retry_backoff_max_ms; }},
  {"node.transient_retry_max_ms", value_kind::integer, "60000", "", 0,
   86400000, "",
   "how long a job stopped by a database outage is run again without using "
   "an attempt",
   [](settings& s) -> auto& { return s.node.transient_retry_max_ms; }},
  {"http.enabled", value_kind::boolean, "true", "", 0, 0, "",
   "serve /metrics /livez /readyz /status while `catchup serve` runs",
   [](settings& s) -> auto& { return s.http.enabled; }},
  {"http.address", value_kind::string, "127.0.0.1", "", 0, 0, "",
   "address of the node's HTTP endpoint (/metrics /livez /readyz /status)",
   [](settings& s) -> auto& { return s.http.address; }},
  {"http.port", value_kind::integer, "9464", "", 0, 65535, "",
   "port of the node's HTTP endpoint; 0 picks a free one",
   [](settings& s) -> auto& { return s.http.port; }},
  {"http.connections_max", value_kind::integer, "512", "", 1, 800, "",
   "open connections to the HTTP endpoint at most; one more gets 503",
   [](settings& s) -> auto& { return s.http.connections_max; }},
  {"http.request_timeout_ms", value_kind::integer, "5000", "", 1, 600000, "",
   "a request header must be whole this long after its connection opened "
   "(a total, not renewed by each byte), or it gets 408",
   [](settings& s) -> auto& { return s.http.request_timeout_ms; }},
  {"schedule.generate_interval_ms", value_kind::integer, "21600000", "", 0,
   int_max, "", "enqueue generation for every active user this often "
   "(spread over the interval); 0 = off",
   [](settings& s) -> auto& { return s.schedule.generate_interval_ms; }},
  {"cluster.enabled", value_kind::boolean, "false", "", 0, 0, "",
   "join the cluster while `catchup serve` runs",
   [](settings& s) -> auto& { return s.cluster.enabled; }},
  {"cluster.address", value_kind::string, "127.0.0.1", "", 0, 0, "",
   "address the node's cluster endpoint listens on",
   [](settings& s) -> auto& { return s.cluster.address; }},
  {"cluster.port", value_kind::integer, "4242", "", 0, 65535, "",
   "port of the cluster endpoint; 0 picks a free one",
   [](settings& s) -> auto& { return s.cluster.port; }},
  {"cluster.advertise", value_kind::string, "", "", 0, 0, "",
   "host the other nodes reach this one at; empty = cluster.address",
   [](settings& s) -> auto& { return s.cluster.advertise; }},
  {"cluster.seeds", value_kind::string, "", "", 0, 0, "",
   "nodes to connect to besides those registered, as host:port,host:port",
   [](settings& s) -> auto& { return s.cluster.seeds; }},
  {"cluster.heartbeat_ms", value_kind::integer, "500", "", 10, 60000, "",
   "heartbeat between connected nodes",
   [](settings& s) -> auto& { return s.cluster.heartbeat_ms; }},
  {"cluster.peer_timeout_ms", value_kind::integer, "2000", "", 50, 600000,
   "", "a peer silent this long is down and its jobs are rescued",
   [](settings& s) -> auto& { return s.cluster.peer_timeout_ms; }},
  {"cluster.membership_interval_ms", value_kind::integer, "1000", "", 10,
   600000, "", "how often a node writes its row and looks for new peers",
   [](settings& s) -> auto& { return s.cluster.membership_interval_ms; }},
  {"cluster.peers_max", value_kind::integer, "64", "", 1, 1024, "",
   "peers one node connects to at most",
   [](settings& s) -> auto& { return s.cluster.peers_max; }},
  {"cluster.route_timeout_ms", value_kind::integer, "30000", "", 10,
   3600000, "", "default time limit of a routed generation",
   [](settings& s) -> auto& { return s.cluster.route_timeout_ms; }},
  {"cluster.insecure", value_kind::boolean, "false", "", 0, 0, "",
   "cluster without TLS (never silently: CAF would use anonymous TLS)",
   [](settings& s) -> auto& { return s.cluster.insecure; }},
  {"cluster.tls.cert", value_kind::string, "", "", 0, 0, "",
   "this node's certificate (PEM)",
   [](settings& s) -> auto& { return s.cluster.tls_cert; }},
  {"cluster.tls.key", value_kind::string, "", "", 0, 0, "",
   "the key of this node's certificate (PEM)",
   [](settings& s) -> auto& { return s.cluster.tls_key; }},
  {"cluster.tls.ca", value_kind::string, "", "", 0, 0, "",
   "the CA certificate every node's certificate must be signed by (PEM)",
   [](settings& s) -> auto& { return s.cluster.tls_ca; }},
  {"clock.offset_s", value_kind::integer, "0", "", -clock_offset_s_max,
   clock_offset_s_max, "",
   "seconds added to the engine's clock, to rehearse another date (the "
   "same on every node of a cluster)",
   [](settings& s) -> auto& { return s.clock.offset_s; }},
};

// The kind of every row fits the type of its field, and no key is declared
// twice.
constexpr bool fits(value_kind kind, const field_ref& field) {
  switch (kind) {
    case value_kind::integer:
      return std::holds_alternative<field_ref::integer_field>(field.get);
    case value_kind::boolean:
      return std::holds_alternative<field_ref::boolean_field>(field.get);
    case value_kind::string:
    case value_kind::choice:
      return std::holds_alternative<field_ref::string_field>(field.get);
  }
  return false;
}

constexpr bool every_kind_fits_its_field() {
  for (auto& spec : all_keys)
    if (!fits(spec.kind, spec.field))
      return false;
  return true;
}
static_assert(every_kind_fits_its_field(),
              "a key's kind must fit its field: integer - std::int64_t, "
              "boolean - bool, string or choice - std::string");

constexpr bool every_key_is_declared_once() {
  for (auto& a : all_keys)
    for (auto& b : all_keys)
      if (&a != &b && a.key == b.key)
        return false;
  return true;
}
static_assert(every_key_is_declared_once(), "a key has two rows");

// -- parsing values -----------------------------------------------------------

struct bad_value {
  std::string why;
};

std::string lower(std::string_view s) {
  std::string out{s};
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool parse_bool(const std::string& text) {
  auto v = lower(text);
  if (v == "true" || v == "1" || v == "yes" || v == "on")
    return true;
  if (v == "false" || v == "0" || v == "no" || v == "off")
    return false;
  throw bad_value{"must be a boolean (true, false, yes, no, on, off, 1, 0)"};
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size()
         && s.substr(s.size() - suffix.size()) == suffix;
}

std::int64_t parse_int(const key_spec& spec, const std::string& text) {
  auto range = "must be an integer from " + std::to_string(spec.min_value)
               + " to " + std::to_string(spec.max_value);
  std::string_view digits = text;
  std::int64_t multiplier = 1;
  // Byte sizes (and byte limits) may carry a binary or decimal unit suffix.
  if (ends_with(spec.key, "_bytes") || ends_with(spec.key, "_bytes_max")) {
    static const std::pair<std::string_view, std::int64_t> units[] = {
      {"KiB", 1LL << 10}, {"MiB", 1LL << 20}, {"GiB", 1LL << 30},
      {"TiB", 1LL << 40}, {"KB", 1000},       {"MB", 1000000},
      {"GB", 1000000000}, {"TB", 1000000000000}, {"B", 1},
    };
    for (auto& [suffix, factor] : units)
      if (ends_with(digits, suffix)) {
        digits.remove_suffix(suffix.size());
        while (!digits.empty() && digits.back() == ' ')
          digits.remove_suffix(1);
        multiplier = factor;
        break;
      }
  }
  std::int64_t value = 0;
  auto [end, err] = std::from_chars(digits.data(),
                                    digits.data() + digits.size(), value);
  if (digits.empty() || err != std::errc{}
      || end != digits.data() + digits.size())
    throw bad_value{range};
  if (value > 0 && value > int_max / multiplier)
    throw bad_value{range};
  value *= multiplier;
  if (value < spec.min_value || value > spec.max_value)
    throw bad_value{range};
  return value;
}

void check_choice(const key_spec& spec, const std::string& text) {
  std::string_view rest = spec.choices;
  while (!rest.empty()) {
    auto bar = rest.find('|');
    auto choice = rest.substr(0, bar);
    if (choice == text)
      return;
    rest = bar == std::string_view::npos ? std::string_view{}
                                         : rest.substr(bar + 1);
  }
  std::string list{spec.choices};
  std::replace(list.begin(), list.end(), '|', ' ');
  throw bad_value{"must be one of: " + list};
}

// Stores a canonical value (see `canonical`) into its field.
void apply_value(settings& s, const key_spec& spec, const std::string& text) {
  std::visit(
    [&](auto get) {
      auto& field = get(s);
      using type = std::decay_t<decltype(field)>;
      if constexpr (std::is_same_v<type, bool>)
        field = text == "true";
      else if constexpr (std::is_same_v<type, std::int64_t>)
        field = std::stoll(text);
      else
        field = text;
    },
    spec.field.get);
}

// Validates `text` for `spec`; returns its canonical form (integers with
// unit suffixes become plain byte counts, booleans become true/false).
std::string canonical(const key_spec& spec, const std::string& text) {
  switch (spec.kind) {
    case value_kind::string:
      return text;
    case value_kind::integer:
      return std::to_string(parse_int(spec, text));
    case value_kind::boolean:
      return parse_bool(text) ? "true" : "false";
    case value_kind::choice:
      check_choice(spec, lower(text));
      return lower(text);
  }
  return text;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    auto diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      auto above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1,
                         diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

[[noreturn]] void unknown_key(std::string_view key, const value_origin& from) {
  auto msg = "invalid configuration: unknown key " + std::string{key} + " ("
             + from.describe() + ")";
  if (auto close = suggest_key(key); !close.empty())
    msg += "; did you mean " + close + "?";
  throw config_error(msg);
}

} // namespace

// -- public API ---------------------------------------------------------------

std::string value_origin::describe() const {
  switch (kind) {
    case source_kind::built_in: return "built-in default";
    case source_kind::file: return "file " + where;
    case source_kind::environment: return "environment " + where;
    case source_kind::flag: return "flag " + where;
  }
  return where;
}

const std::vector<key_spec>& key_specs() {
  static const std::vector<key_spec> keys{std::begin(all_keys),
                                          std::end(all_keys)};
  return keys;
}

const key_spec* find_key(std::string_view key) {
  for (auto& spec : all_keys)
    if (spec.key == key)
      return &spec;
  return nullptr;
}

std::string flag_name(std::string_view key) {
  std::string out = "--";
  for (char c : key)
    out += (c == '.' || c == '_') ? '-' : c;
  return out;
}

std::string env_name(std::string_view key) {
  std::string out = "CATCHUP_";
  for (char c : key)
    out += c == '.' ? '_'
                    : static_cast<char>(
                      std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string suggest_key(std::string_view key) {
  std::string best;
  std::size_t best_distance = 4; // farther than this is not a typo
  for (auto& spec : all_keys) {
    auto d = edit_distance(key, spec.key);
    if (d < best_distance) {
      best_distance = d;
      best = std::string{spec.key};
    }
  }
  return best;
}

std::vector<std::pair<std::string, std::string>> process_environment() {
  std::vector<std::pair<std::string, std::string>> out;
  for (char** p = environ; p != nullptr && *p != nullptr; ++p) {
    std::string_view item{*p};
    auto eq = item.find('=');
    if (eq == std::string_view::npos)
      continue;
    out.emplace_back(std::string{item.substr(0, eq)},
                     std::string{item.substr(eq + 1)});
  }
  return out;
}

configuration load(const config_input& input) {
  // Raw value and origin per key; later sources overwrite earlier ones.
  std::map<std::string_view, entry> chosen;
  for (auto& spec : all_keys)
    chosen[spec.key] = entry{std::string{spec.key},
                             std::string{spec.default_value}, value_origin{}};
  auto set = [&](std::string_view key, const std::string& value,
                 value_origin origin) {
    auto* spec = find_key(key);
    if (spec == nullptr)
      unknown_key(key, origin);
    chosen[spec->key] = entry{std::string{spec->key}, value, std::move(origin)};
  };
  // 1. The config file.
  if (input.file) {
    for (auto& item : parse_config_file(*input.file))
      set(item.key, item.value,
          {source_kind::file, *input.file + ":" + std::to_string(item.line)});
  }
  // 2. The environment: the original service's names first, then the
  //    CATCHUP_* names, which are more specific and therefore win.
  std::map<std::string, std::string> env{input.environment.begin(),
                                         input.environment.end()};
  for (auto& spec : all_keys)
    if (!spec.legacy_env.empty())
      if (auto i = env.find(std::string{spec.legacy_env}); i != env.end())
        set(spec.key, i->second,
            {source_kind::environment, std::string{spec.legacy_env}});
  for (auto& [name, value] : env) {
    if (name.rfind("CATCHUP_", 0) != 0 || name == config_file_env)
      continue;
    const key_spec* match = nullptr;
    for (auto& spec : all_keys)
      if (env_name(spec.key) == name)
        match = &spec;
    if (match == nullptr)
      throw config_error("invalid configuration: unknown environment variable "
                         + name + "; known ones are CATCHUP_<SECTION>_<KEY>, "
                         "e.g. " + env_name("database.url"));
    set(match->key, value, {source_kind::environment, name});
  }
  // 3. Command-line flags, in the order given.
  for (auto& [key, value] : input.flags)
    set(key, value, {source_kind::flag, flag_name(key)});
  // Validate and type every value, defaults included.
  configuration result;
  for (auto& spec : all_keys) {
    auto& item = chosen[spec.key];
    try {
      item.value = canonical(spec, item.value);
      apply_value(result.values, spec, item.value);
    } catch (const bad_value& e) {
      throw config_error("invalid configuration: " + std::string{spec.key}
                         + " = \"" + item.value + "\" ("
                         + item.origin.describe() + "): " + e.why);
    }
    result.entries.push_back(item);
  }
  return result;
}

} // namespace catchup::config
