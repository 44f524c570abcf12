// SPDX-License-Identifier: Apache-2.0
// A host with its own CAF actor system: it spawns the engine's node into
// that system, mirrors and imports a user through the facade it also has,
// then works with the node by messages only: status, a subscription to
// memory pressure, a generation, the suggestions, and accepting the first.
//
//   actor-host [VCARD_FILE [DATA_DIR]]

#include <iostream>
#include <string>

#include <caf/all.hpp>

#include <catchup/engine.hpp>
#include <catchup/node.hpp>

namespace {

struct host_config : caf::actor_system_config {
  host_config() {
    // The node's message types and error category, so a node published
    // over the network is understood too.
    catchup::add_node_types(*this);
  }
};

int fail(const std::string& what, const catchup::error& err) {
  std::cerr << "actor-host: " << what << ": " << catchup::to_string(err.code)
            << ": " << err.message << "\n";
  return 1;
}

} // namespace

int main(int argc, char** argv) {
  std::string vcards = argc > 1 ? argv[1]
                                : "../shared/data/real/vcard/"
                                  "ezvcard_gmail-list.vcf";
  catchup::engine_config config;
  config.data_dir = argc > 2 ? argv[2] : "catchup-data";
  config.settings = {{"log.level", "warn"}};

  // The user and their contacts, through the facade (then closed: the
  // private database is free for the node).
  std::string user_id;
  // Contacts just imported are due one cadence after they were added (a
  // month unless set otherwise): the node generates as of 31 days from now.
  std::int64_t in_a_month = 0;
  {
    auto eng = catchup::engine::open(config);
    if (!eng)
      return fail("open", eng.error());
    catchup::user_profile grace;
    grace.email = "grace@example.org";
    grace.name = "Grace";
    grace.timezone = "America/New_York";
    auto user = eng->put_user(grace);
    if (!user)
      return fail("put_user", user.error());
    user_id = *user;
    in_a_month = eng->now_unix_s() + 31 * 86400;
    catchup::import_params params;
    params.user_id = user_id;
    auto imported = eng->import_file(vcards, params);
    if (!imported)
      return fail("import", imported.error());
  }

  host_config cfg;
  caf::actor_system sys{cfg};
  auto node = catchup::spawn_node(sys, config);
  if (!node)
    return fail("spawn_node", node.error());

  caf::scoped_actor self{sys};
  int status = 0;
  auto on_error = [&](const std::string& what) {
    return [&, what](caf::error& err) {
      status = fail(what, catchup::to_error(err));
    };
  };
  const auto timeout = std::chrono::seconds(60);

  self->request(*node, timeout, catchup::node_atoms::status::value)
    .receive(
      [&](const catchup::node_info& info) {
        std::cout << "node " << info.node_id << ", engine " << info.version
                  << ", schema " << info.schema_version
                  << (info.embedded_database ? ", private database\n"
                                             : "\n");
      },
      on_error("status"));

  self->request(*node, timeout, catchup::node_atoms::subscribe::value,
                caf::actor_cast<caf::actor>(self))
    .receive([](bool) {}, on_error("subscribe"));

  self
    ->request(*node, timeout, catchup::node_atoms::generate::value, user_id,
              in_a_month)
    .receive(
      [&](const catchup::generation_summary& s) {
        std::cout << "generated " << s.suggestions << " suggestions from "
                  << s.contacts_read << " contacts\n";
      },
      on_error("generate"));

  std::vector<catchup::suggestion> pending;
  self->request(*node, timeout, catchup::node_atoms::suggest::value, user_id)
    .receive(
      [&](std::vector<catchup::suggestion>& xs) { pending = std::move(xs); },
      on_error("suggest"));
  for (const auto& s : pending)
    std::cout << "  " << s.rank << ". " << s.contact_name << ": " << s.reason
              << "\n";

  if (!pending.empty()) {
    catchup::suggestion_response accept;
    accept.user_id = user_id;
    accept.suggestion_id = pending.front().id;
    accept.action = catchup::suggestion_action::accept;
    self->request(*node, timeout, catchup::node_atoms::respond::value, accept)
      .receive(
        [&](const catchup::suggestion& s) {
          std::cout << "accepted " << s.contact_name << ": now "
                    << catchup::to_string(s.status) << "\n";
        },
        on_error("respond"));
  } else {
    std::cerr << "actor-host: no suggestions\n";
    status = 1;
  }

  self->request(*node, timeout, catchup::node_atoms::memory::value)
    .receive(
      [&](const catchup::memory_snapshot& m) {
        std::cout << "memory " << catchup::to_string(m.level) << ", "
                  << m.heap_bytes / 1024 << " KiB heap\n";
      },
      on_error("memory"));

  // The node owns the engine; it ends (and stops its private database)
  // when told to, before the actor system does.
  self->send_exit(*node, caf::exit_reason::user_shutdown);
  self->wait_for(*node);
  return status;
}
