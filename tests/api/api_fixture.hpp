// SPDX-License-Identifier: Apache-2.0
#pragma once

// What the public API suites share. Only the engine's public headers and
// the test database helper are reachable from here: the build gives these
// suites no other include path, so an API that needs an internal header
// fails to compile.

#include <ostream>
#include <sstream>
#include <string>

#include <catchup/engine.hpp>

#include "test_database.hpp"

namespace catchup {

// Readable values in failed assertions.
inline std::ostream& operator<<(std::ostream& out, error_code x) {
  return out << to_string(x);
}
inline std::ostream& operator<<(std::ostream& out, suggestion_status x) {
  return out << to_string(x);
}
inline std::ostream& operator<<(std::ostream& out, memory_level x) {
  return out << to_string(x);
}
inline std::ostream& operator<<(std::ostream& out, suggestion_action x) {
  return out << static_cast<int>(x);
}

} // namespace catchup

namespace catchup::api_test {

/// "Now" of every generation here: 2026-11-18T11:06:40Z.
inline constexpr std::int64_t now_unix_s = 1795000000;

/// A config on a fresh database of the shared test cluster, its clock
/// standing at `now_unix_s`.
inline engine_config config_for(const test::test_database& db) {
  engine_config c;
  c.database_url = db.url();
  c.configure_logging = false;
  c.clock_unix_ms = [] { return now_unix_s * 1000; };
  c.settings = {{"database.connections_max", "4"}, {"log.level", "warn"}};
  return c;
}

/// A vCard file's text with `n` contacts named "Friend <tag>-<i>".
inline std::string vcards(const std::string& tag, int n) {
  std::ostringstream out;
  for (int i = 0; i < n; ++i)
    out << "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:" << tag << "-" << i
        << "\r\nFN:Friend " << tag << "-" << i << "\r\nEMAIL:friend-" << tag
        << "-" << i << "@example.org\r\nEND:VCARD\r\n";
  return out.str();
}

/// Creates a user named by `tag` and imports `n` contacts for them, added
/// 31 days before `now_unix_s`: due then on the default monthly cadence.
inline std::string user_with_contacts(engine& eng, const std::string& tag,
                                      int n) {
  user_profile p;
  p.email = tag + "@example.org";
  p.name = tag;
  p.timezone = "Europe/Berlin";
  auto id = eng.put_user(p);
  BOOST_TEST_REQUIRE(id.ok(), (id.ok() ? "" : id.error().message));
  std::istringstream in{vcards(tag, n)};
  import_params params;
  params.user_id = *id;
  params.format = import_format::vcard;
  params.now_unix_s = now_unix_s - 31 * 86400;
  auto imported = eng.import_stream(in, tag + ".vcf", params);
  BOOST_TEST_REQUIRE(imported.ok(),
                     (imported.ok() ? "" : imported.error().message));
  BOOST_TEST_REQUIRE(imported->inserted == n);
  return *id;
}

} // namespace catchup::api_test
