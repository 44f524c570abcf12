// SPDX-License-Identifier: Apache-2.0
#include "actors/system_config.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>

#include "messages/error_codes.hpp"
#include "messages/type_ids.hpp"

namespace catchup {

system_config::system_config() {
  add_engine_types(*this);
  set("logger.console", caf::atom("none"));
}

void add_engine_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::catchup>();
  // The templated add_error_category<T> of 0.17.6 does not compile; the
  // renderer form does the same.
  cfg.add_error_category(caf::atom("catchup"),
                     [](std::uint8_t code, caf::atom_value,
                        const caf::message& context) {
                       auto text = "catchup::" + to_string(static_cast<ec>(code));
                       if (context.size() == 1
                           && context.match_element<std::string>(0))
                         text += ": " + context.get_as<std::string>(0);
                       else if (!context.empty())
                         text += ": " + caf::to_string(context);
                       return text;
                     });
}

} // namespace catchup
