// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace catchup {

/// What a node reports about itself when asked for its status.
struct node_status {
  /// A stable identifier of the node process ("host:pid").
  std::string node_id;
  /// The engine version string, e.g. "0.1.0".
  std::string version;
  /// The schema version of the database the node runs against.
  std::int64_t schema_version = 0;
  /// True when the node owns a private PostgreSQL cluster.
  bool embedded_database = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_status& x) {
  return f(caf::meta::type_name("catchup::node_status"), x.node_id, x.version,
           x.schema_version, x.embedded_database);
}

inline bool operator==(const node_status& x, const node_status& y) {
  return x.node_id == y.node_id && x.version == y.version
         && x.schema_version == y.schema_version
         && x.embedded_database == y.embedded_database;
}

} // namespace catchup
