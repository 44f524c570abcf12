// SPDX-License-Identifier: Apache-2.0
// The node actor answers status requests with what it was started with.

#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include "actors/node.hpp"
#include "actors/system_config.hpp"

using namespace catchup;

BOOST_AUTO_TEST_SUITE(actors_node)

BOOST_AUTO_TEST_CASE(node_reports_its_status) {
  system_config cfg;
  caf::actor_system sys{cfg};
  auto node = spawn_node(sys, node_config{3, true});
  caf::scoped_actor self{sys};
  bool answered = false;
  self->request(node, std::chrono::seconds(5), atom::status::value)
    .receive(
      [&](const node_status& st) {
        answered = true;
        BOOST_TEST(st.schema_version == 3);
        BOOST_TEST(st.embedded_database);
        BOOST_TEST(st.version == engine_version());
        BOOST_TEST(st.node_id.find(':') != std::string::npos);
      },
      [&](const caf::error& err) { BOOST_FAIL(sys.render(err)); });
  BOOST_TEST(answered);
  self->send_exit(node, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
