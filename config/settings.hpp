// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

namespace catchup::config {

// Every field below is one configuration key: its row in the key table in
// `config.cpp` names it, binds it to the field and repeats the default given
// here (the unit tests check both agree and that the rows keep this order).

/// Where the engine keeps its data and how it reaches PostgreSQL.
struct database_settings {
  /// Connection URL of an external server; empty means the private cluster.
  std::string url;
  /// Directory of the private cluster (created on first use).
  std::string data_dir = ".catchup/pg";
  /// Directory holding initdb and pg_ctl; empty means search for them.
  std::string pg_bin_dir;
  /// Unprivileged user that runs the private cluster when we run as root.
  std::string service_user = "postgres";
  /// Upper bound for initdb plus server start-up.
  std::int64_t start_timeout_ms = 60000;
  /// TCP port of the private cluster; 0 keeps it on its unix socket only.
  std::int64_t tcp_port = 0;
  /// Upper bound on connections one engine process opens.
  std::int64_t connections_max = 4;
  /// Apply pending schema migrations when the engine opens the database.
  bool migrate_on_start = true;
};

/// Log output.
struct log_settings {
  /// One of trace, debug, info, warn, error, off.
  std::string level = "info";
  /// "text" for people, "json" for one JSON object per line.
  std::string format = "text";
};

/// Memory budget and the supervisor's sampling.
struct memory_settings {
  /// Heap use, in percent of the budget, at which pressure is critical.
  std::int64_t max_heap_percent = 80;
  /// Sample memory and react to pressure at all.
  bool monitoring_enabled = true;
  /// Return freed memory to the OS when pressure rises.
  bool forced_gc_enabled = true;
  /// The memory budget; 0 means the cgroup limit, else physical memory.
  std::int64_t budget_bytes = 0;
  /// Interval between memory samples.
  std::int64_t sample_interval_ms = 1000;
  /// Refuse a budget below the heap the process holds at rest: nothing
  /// could ever run under it. Off only for a drill of the breaker.
  bool budget_check_enabled = true;
};

/// Suggestion generation.
struct generation_settings {
  /// Contacts pulled per batch at normal pressure.
  std::int64_t batch_rows_max = 100;
  /// Suggestions one generation produces at most, at normal pressure.
  std::int64_t suggestions_max = 50;
  /// User generations a node runs at once in a multi-user run; more than
  /// database.connections_max only queue at the repository.
  std::int64_t concurrent_users_max = 8;
  /// Users of a run held by the open memory breaker this long fail with
  /// memory_critical instead of waiting.
  std::int64_t breaker_wait_max_ms = 60000;
};

/// Limits of one cache at normal memory pressure (pressure shrinks them).
struct cache_settings {
  std::int64_t entries_max = 0;
  std::int64_t bytes_max = 0;
  /// Time to live since the entry's last put or get.
  std::int64_t ttl_ms = 0;
};

/// The cache actor's three caches (the original service's defaults).
struct caches_settings {
  /// The three caches together hold at most this share of the memory
  /// budget: their byte limits shrink in proportion when they add up to
  /// more, so a small budget is not spent on caches.
  std::int64_t budget_percent = 25;
  /// Contacts by id.
  cache_settings contacts{1000, 50LL << 20, 3600000};
  /// Busy calendar intervals per user and day.
  cache_settings calendar{5000, 100LL << 20, 86400000};
  /// Pending suggestions per user.
  cache_settings suggestions{500, 25LL << 20, 1800000};
};

/// Contact and calendar imports and syncs.
struct sync_settings {
  /// Contacts per page (one transaction) at normal pressure; pages shrink
  /// with the pressure level like generation batches.
  std::int64_t contacts_page_items = 500;
  /// Calendar events per page at normal pressure.
  std::int64_t events_page_items = 100;
  /// The calendar window: recurrences are expanded, and events kept, in
  /// [now - past days, now + future days).
  std::int64_t calendar_past_days = 365;
  std::int64_t calendar_future_days = 365;
  /// Longest physical line and largest card or event of an import file.
  std::int64_t line_bytes_max = 64 * 1024;
  std::int64_t item_bytes_max = 1 << 20;
  /// Bytes of an imported field an index holds (name, key, e-mail, group,
  /// event id): kept below PostgreSQL's btree row limit (2,704 bytes).
  std::int64_t indexed_field_bytes_max = 1000;
  /// Google API endpoints (tests point them at a local server).
  std::string google_people_url = "https://people.googleapis.com";
  std::string google_calendar_url = "https://www.googleapis.com";
  std::string google_token_url = "https://oauth2.googleapis.com/token";
  /// Bounds of one Google listing (see google_paging_limits).
  std::int64_t google_pages_max = 20000;
  std::int64_t google_empty_pages_max = 100;
};

/// A standalone node (`catchup serve`): its job queue worker.
struct node_settings {
  /// This node's name in job leases; empty means "host:pid".
  std::string owner;
  /// A claimed job's lease; renewed every third of it while it runs.
  std::int64_t lease_ms = 30000;
  /// Claim at least this often when no NOTIFY wakes the node.
  std::int64_t poll_interval_ms = 1000;
  /// Jobs in flight at normal memory pressure.
  std::int64_t jobs_max = 8;
  /// On SIGTERM/SIGINT, jobs in flight get this long to finish.
  std::int64_t shutdown_grace_ms = 30000;
  /// Backoff of failed jobs: doubling from the initial value to the max.
  std::int64_t retry_backoff_initial_ms = 1000;
  std::int64_t retry_backoff_max_ms = 600000;
  /// How long a job retries a database outage without using an attempt.
  std::int64_t transient_retry_max_ms = 60000;
};

/// The node's HTTP endpoint (/metrics, /livez, /readyz, /status).
struct http_settings {
  bool enabled = true;
  std::string address = "127.0.0.1";
  /// 0 picks a free port (logged at start).
  std::int64_t port = 9464;
  /// Open connections at most; one more gets 503.
  std::int64_t connections_max = 512;
  /// A request header must be whole this long after its accept, in total.
  std::int64_t request_timeout_ms = 5000;
};

/// Work the nodes enqueue by themselves.
struct schedule_settings {
  /// Generation for every active user this often (spread over it); 0 off.
  std::int64_t generate_interval_ms = 6LL * 3600 * 1000;
};

/// Several nodes working as one engine: they find each other through the
/// `nodes` table and `seeds`, talk over CAF's middleman (TLS by default),
/// watch each other with heartbeats, share their memory pressure and route
/// interactive generations to the least-pressured node.
struct cluster_settings {
  /// Join the cluster while `catchup serve` runs.
  bool enabled = false;
  /// Address the node's cluster endpoint listens on.
  std::string address = "127.0.0.1";
  /// Port of the cluster endpoint; 0 picks a free one (registered).
  std::int64_t port = 4242;
  /// Host the other nodes reach this one at; empty means `address`.
  std::string advertise;
  /// Nodes to connect to besides those in the `nodes` table, as
  /// "host:port,host:port".
  std::string seeds;
  /// CAF heartbeat between connected nodes.
  std::int64_t heartbeat_ms = 500;
  /// A peer silent this long (no heartbeat, SIGSTOP, a cut link) is down:
  /// its jobs are rescued at once.
  std::int64_t peer_timeout_ms = 2000;
  /// How often the node writes its row (level, memory, jobs) and looks for
  /// new peers in the table.
  std::int64_t membership_interval_ms = 1000;
  /// Peers one node connects to at most.
  std::int64_t peers_max = 64;
  /// A routed generation's default time limit (a caller may give its own).
  std::int64_t route_timeout_ms = 30000;
  /// Cluster without TLS. Only when set explicitly: without certificates
  /// CAF 0.17 would silently use anonymous, unauthenticated TLS.
  bool insecure = false;
  /// This node's certificate, its key and the CA that signs every node's
  /// certificate (PEM files). Required unless `insecure`.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
};

/// Where "now" comes from.
struct clock_settings {
  /// Seconds added to the clock (the system clock unless a host gives its
  /// own): rehearses another date. Every node of one cluster, and every
  /// host that enqueues, must use the same offset, since job run times
  /// written on one are compared with another's clock.
  std::int64_t offset_s = 0;
};

/// The effective, validated configuration.
struct settings {
  database_settings database;
  log_settings log;
  memory_settings memory;
  generation_settings generation;
  caches_settings cache;
  sync_settings sync;
  node_settings node;
  http_settings http;
  schedule_settings schedule;
  cluster_settings cluster;
  clock_settings clock;
};

} // namespace catchup::config
