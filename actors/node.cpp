// SPDX-License-Identifier: Apache-2.0
#include "actors/node.hpp"

#include <unistd.h>

#include <caf/all.hpp>

namespace catchup {

namespace {

struct node_state {
  node_status status;
  static inline const char* name = "catchup-node";
};

node_actor::behavior_type
node(node_actor::stateful_pointer<node_state> self, node_config cfg) {
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  self->state.status.node_id = std::string{host} + ":"
                               + std::to_string(getpid());
  self->state.status.version = engine_version();
  self->state.status.schema_version = cfg.schema_version;
  self->state.status.embedded_database = cfg.embedded_database;
  return {
    [=](atom::status) -> node_status { return self->state.status; },
  };
}

} // namespace

node_actor spawn_node(caf::actor_system& sys, const node_config& cfg) {
  return sys.spawn(node, cfg);
}

const char* engine_version() {
  return "0.1.0";
}

} // namespace catchup
