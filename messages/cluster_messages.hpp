// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the nodes of a cluster tell each other: their status (pressure,
// memory, jobs) every membership interval, and the result of a generation
// one node ran for another.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "core/pressure.hpp"
#include "messages/generation_messages.hpp"

namespace catchup {

/// One node as the cluster sees it: what it says about itself, and what
/// its row in the `nodes` table says.
struct node_status {
  /// The node's name, the same text as its job leases' owner ("host:pid").
  std::string node_id;
  /// host:port of its cluster endpoint ("" when it does not cluster).
  std::string address;
  /// The engine version string, e.g. "0.1.0".
  std::string version;
  /// "up", "down" or "left" (from the table; "up" for a live peer).
  std::string state = "up";
  pressure_level level = pressure_level::normal;
  std::int64_t allocated_bytes = 0;
  std::int64_t budget_bytes = 0;
  /// allocated_bytes in percent of budget_bytes.
  double used_percent = 0;
  std::int64_t jobs_in_flight = 0;
  /// Time since its last heartbeat row, on the database's clock (0 when
  /// the status came from the node itself).
  std::int64_t heartbeat_age_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  // The level travels as its number and is clamped on load: a peer must
  // not be able to produce a level outside the enum.
  auto level = static_cast<std::uint8_t>(x.level);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    if (level > static_cast<std::uint8_t>(pressure_level::critical))
      level = static_cast<std::uint8_t>(pressure_level::critical);
    x.level = static_cast<pressure_level>(level);
    return caf::none;
  });
  return f(caf::meta::type_name("catchup::node_status"), x.node_id,
           x.address, x.version, x.state, level, x.allocated_bytes,
           x.budget_bytes, x.used_percent, x.jobs_in_flight,
           x.heartbeat_age_ms, load);
}

inline bool operator==(const node_status& x, const node_status& y) {
  return x.node_id == y.node_id && x.address == y.address
         && x.version == y.version && x.state == y.state
         && x.level == y.level && x.allocated_bytes == y.allocated_bytes
         && x.budget_bytes == y.budget_bytes
         && x.used_percent == y.used_percent
         && x.jobs_in_flight == y.jobs_in_flight
         && x.heartbeat_age_ms == y.heartbeat_age_ms;
}

/// A generation that was routed: which node ran it, and after how many
/// attempts (1, or 2 when the first node failed and another took over).
struct routed_generation {
  std::string node_id;
  std::int32_t attempts = 0;
  generation_result result;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, routed_generation& x) {
  return f(caf::meta::type_name("catchup::routed_generation"), x.node_id,
           x.attempts, x.result);
}

} // namespace catchup
