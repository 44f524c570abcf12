// SPDX-License-Identifier: Apache-2.0
#include "catchup/node.hpp"

#include <unistd.h>

#include <algorithm>
#include <mutex>

#include <caf/all.hpp>

#include "actors/engine_core.hpp"
#include "actors/interfaces.hpp"
#include "actors/memory_supervisor.hpp"
#include "actors/system_config.hpp"
#include "convert.hpp"
#include "messages/atoms.hpp"
#include "load_settings.hpp"

namespace catchup {

namespace {

/// Database writes of the node (responses) run here, never on the host's
/// scheduler threads.
constexpr std::size_t blocking_workers = 4;

/// Who hears about pressure changes; filled by the node, read on the memory
/// supervisor's thread.
/// Sends happen under the mutex, so a new subscriber's first message (the
/// current level) and the changes after it arrive in order.
struct pressure_listeners {
  std::mutex mtx;
  std::vector<caf::actor> actors;
  memory_status latest;

  void on_sample(const memory_status& m) {
    std::lock_guard<std::mutex> guard{mtx};
    if (m.change_seq == latest.change_seq)
      return;
    latest = m;
    auto snapshot = api::to_public(m);
    for (auto& a : actors)
      caf::anon_send(a, node_atoms::pressure::value, snapshot);
  }

  void add(caf::actor subscriber) {
    std::lock_guard<std::mutex> guard{mtx};
    caf::anon_send(subscriber, node_atoms::pressure::value,
                   api::to_public(latest));
    actors.push_back(std::move(subscriber));
  }
};

caf::error to_caf(const error& e) {
  return caf::make_error(e.code, e.message);
}

caf::error failure_in_flight() {
  return to_caf(api::current_error());
}

/// The node's blocking workers (detached: each on its own thread).
using blocking_worker_actor = caf::typed_actor<
  caf::replies_to<node_atoms::respond, suggestion_response>::with<suggestion>>;

blocking_worker_actor::behavior_type
blocking_worker(blocking_worker_actor::pointer,
                std::shared_ptr<engine_core> core) {
  return {
    [core](node_atoms::respond,
           const suggestion_response& r) -> caf::result<suggestion> {
      try {
        return api::to_public(core->respond(api::to_internal(r)).suggestion);
      } catch (...) {
        return failure_in_flight();
      }
    },
  };
}

struct node_state {
  std::shared_ptr<engine_core> core;
  std::shared_ptr<pressure_listeners> listeners;
  std::vector<blocking_worker_actor> workers;
  std::size_t next_worker = 0;
  node_info info;
  static inline const char* name = "catchup-node";
  // The engine (and with it its actors and a private database server)
  // ends when the node and its workers have let go of it.
};

node_actor::behavior_type
node_impl(node_actor::stateful_pointer<node_state> self,
          std::shared_ptr<engine_core> core,
          std::shared_ptr<pressure_listeners> listeners, node_info info) {
  self->state.core = core;
  self->state.listeners = listeners;
  self->state.info = std::move(info);
  for (std::size_t i = 0; i < blocking_workers; ++i)
    self->state.workers.push_back(
      self->spawn<caf::detached + caf::linked>(blocking_worker, core));
  self->set_down_handler([self](const caf::down_msg& down) {
    auto& l = *self->state.listeners;
    std::lock_guard<std::mutex> guard{l.mtx};
    l.actors.erase(std::remove_if(l.actors.begin(), l.actors.end(),
                                  [&](const caf::actor& a) {
                                    return a.address() == down.source;
                                  }),
                   l.actors.end());
  });
  auto timeout = core->generation_timeout() + std::chrono::seconds(10);
  // Internal failures reach the host as error_code plus the message.
  auto render = [](const caf::error& err) { return to_caf(to_error(err)); };
  return {
    [self](node_atoms::status) { return self->state.info; },
    [self, timeout, render](node_atoms::generate, const std::string& user_id,
                            std::int64_t now_unix_s)
      -> caf::result<generation_summary> {
      auto rp = self->make_response_promise<generation_summary>();
      self
        ->request(self->state.core->coordinator(), timeout,
                  atom::generate::value,
                  generation_request{
                    user_id,
                    self->state.core->clock().or_now_unix_s(now_unix_s)})
        .then([rp](generation_result& r) mutable { rp.deliver(api::to_public(r)); },
              [rp, render](caf::error& err) mutable { rp.deliver(render(err)); });
      return rp;
    },
    [self, render](node_atoms::genall,
                   std::int64_t now_unix_s) -> caf::result<run_totals> {
      auto rp = self->make_response_promise<run_totals>();
      // A run over many users may take long; each user has its own
      // timeout inside the coordinator.
      self
        ->request(self->state.core->coordinator(), caf::infinite,
                  atom::generate::value,
                  self->state.core->clock().or_now_unix_s(now_unix_s),
                  caf::actor{})
        .then([rp](run_summary& r) mutable { rp.deliver(api::to_public(r)); },
              [rp, render](caf::error& err) mutable { rp.deliver(render(err)); });
      return rp;
    },
    [self, render](node_atoms::suggest, const std::string& user_id)
      -> caf::result<std::vector<suggestion>> {
      auto rp = self->make_response_promise<std::vector<suggestion>>();
      self
        ->request(self->state.core->cache(), std::chrono::seconds(60),
                  atom::read::value, user_id, std::string{"pending"},
                  self->state.core->clock().now_unix_s())
        .then(
          [rp](std::vector<suggestion_record>& rs) mutable {
            std::vector<suggestion> out;
            out.reserve(rs.size());
            for (const auto& r : rs)
              out.push_back(api::to_public(r));
            rp.deliver(std::move(out));
          },
          [rp, render](caf::error& err) mutable { rp.deliver(render(err)); });
      return rp;
    },
    [self](node_atoms::respond, suggestion_response& r) {
      auto& st = self->state;
      auto worker = st.workers[st.next_worker++ % st.workers.size()];
      return self->delegate(worker, node_atoms::respond::value, std::move(r));
    },
    [self, render](node_atoms::memory) -> caf::result<memory_snapshot> {
      auto rp = self->make_response_promise<memory_snapshot>();
      auto supervisor = self->state.core->supervisor();
      if (!supervisor) {
        // Unmonitored: the fixed reading, no request needed.
        rp.deliver(api::to_public(self->state.core->sample_memory()));
        return rp;
      }
      self
        ->request(supervisor, std::chrono::seconds(10), atom::sample::value)
        .then([rp](memory_status& m) mutable { rp.deliver(api::to_public(m)); },
              [rp, render](caf::error& err) mutable { rp.deliver(render(err)); });
      return rp;
    },
    [self](node_atoms::subscribe, caf::actor subscriber) {
      if (!subscriber)
        return false;
      self->monitor(subscriber);
      self->state.listeners->add(std::move(subscriber));
      return true;
    },
  };
}

} // namespace

void add_node_types(caf::actor_system_config& cfg) {
  // The engine's own types too: its actors run in this system.
  add_engine_types(cfg);
  cfg.add_message_type<node_info>("catchup.node_info");
  cfg.add_message_type<suggestion>("catchup.suggestion");
  cfg.add_message_type<generation_summary>("catchup.generation_summary");
  cfg.add_message_type<run_totals>("catchup.run_totals");
  cfg.add_message_type<suggestion_response>("catchup.suggestion_response");
  cfg.add_message_type<memory_snapshot>("catchup.memory_snapshot");
  cfg.add_error_category(
    caf::atom("catchupapi"),
    [](std::uint8_t code, caf::atom_value, const caf::message& context) {
      std::string text = "catchup::";
      text += to_string(static_cast<error_code>(code));
      if (context.size() == 1 && context.match_element<std::string>(0))
        text += ": " + context.get_as<std::string>(0);
      return text;
    });
}

result<node_actor> spawn_node(caf::actor_system& sys,
                              const engine_config& config) {
  try {
    auto settings = api::load_settings(config);
    if (!settings)
      return settings.error();
    auto listeners = std::make_shared<pressure_listeners>();
    engine_options options;
    options.clock = wall_clock{config.clock_unix_ms};
    options.on_memory_sample = [listeners](const memory_status& m) {
      listeners->on_sample(m);
    };
    std::shared_ptr<engine_core> core;
    try {
      core = std::make_shared<engine_core>(sys, *settings, std::move(options));
    } catch (...) {
      auto err = api::current_error();
      if (err.code == error_code::internal)
        err.code = error_code::database_unavailable;
      return err;
    }
    {
      std::lock_guard<std::mutex> guard{listeners->mtx};
      if (listeners->latest.change_seq == 0)
        listeners->latest = core->last_memory_status();
    }
    node_info info;
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    info.node_id = std::string{host} + ":" + std::to_string(getpid());
    info.version = version();
    info.schema_version = core->schema_version();
    info.embedded_database = core->embedded_database();
    return sys.spawn(node_impl, std::move(core), std::move(listeners),
                     std::move(info));
  } catch (...) {
    return api::current_error();
  }
}

error to_error(const caf::error& err) {
  if (!err)
    return {};
  std::string text;
  if (err.context().size() == 1 && err.context().match_element<std::string>(0))
    text = err.context().get_as<std::string>(0);
  else
    text = caf::to_string(err);
  if (err.category() == caf::atom("catchupapi"))
    return {static_cast<error_code>(err.code()), text};
  return api::from_caf(err, text);
}

} // namespace catchup
