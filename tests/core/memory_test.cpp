// SPDX-License-Identifier: Apache-2.0
// The process memory probe and the default budget (cgroup v2, v1, none).

#include <boost/test/unit_test.hpp>

#include <cstring>
#include <fstream>
#include <memory>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/memory.hpp"
#include "tests/support/temp_dir.hpp"

using namespace catchup;

namespace {

void write_file(const std::string& path, const std::string& text) {
  std::ofstream{path} << text << '\n';
}

std::int64_t physical_bytes() {
  return static_cast<std::int64_t>(sysconf(_SC_PHYS_PAGES))
         * sysconf(_SC_PAGESIZE);
}

} // namespace

BOOST_AUTO_TEST_SUITE(core_memory)

BOOST_AUTO_TEST_CASE(the_probe_sees_touched_memory_become_resident) {
  process_memory_probe probe;
  auto before = probe.sample();
  BOOST_TEST(before.resident_bytes > 0);
  constexpr std::size_t size = 64 << 20;
  auto block = std::make_unique<char[]>(size);
  std::memset(block.get(), 1, size);
  auto after = probe.sample();
  BOOST_TEST(after.resident_bytes - before.resident_bytes
             >= static_cast<std::int64_t>(size / 2));
  BOOST_TEST(block[size - 1] == 1);
}

BOOST_AUTO_TEST_CASE(peak_resident_can_be_reset) {
  // mmap, not the allocator: unmapping surely returns the pages.
  constexpr std::size_t size = 48 << 20;
  auto* block = static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE,
                                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  BOOST_REQUIRE(block != MAP_FAILED);
  std::memset(block, 1, size);
  munmap(block, size);
  auto high = read_process_memory().peak_resident_bytes;
  BOOST_REQUIRE(reset_peak_resident());
  auto now = read_process_memory();
  BOOST_TEST(high - now.peak_resident_bytes
             >= static_cast<std::int64_t>(size / 2));
  BOOST_TEST(now.peak_resident_bytes >= now.resident_bytes);
}

BOOST_AUTO_TEST_CASE(the_budget_is_the_cgroup_limit_when_below_physical) {
  test::temp_dir v2;
  write_file(v2.path() + "/memory.max", "1073741824");
  BOOST_TEST(default_memory_budget_bytes(v2.path().c_str()) == 1073741824);

  test::temp_dir unlimited;
  write_file(unlimited.path() + "/memory.max", "max");
  BOOST_TEST(default_memory_budget_bytes(unlimited.path().c_str())
             == physical_bytes());

  test::temp_dir v1;
  mkdir((v1.path() + "/memory").c_str(), 0755);
  write_file(v1.path() + "/memory/memory.limit_in_bytes", "536870912");
  BOOST_TEST(default_memory_budget_bytes(v1.path().c_str()) == 536870912);

  // cgroup v1 says "no limit" with a huge number.
  test::temp_dir v1_unlimited;
  mkdir((v1_unlimited.path() + "/memory").c_str(), 0755);
  write_file(v1_unlimited.path() + "/memory/memory.limit_in_bytes",
             "9223372036854771712");
  BOOST_TEST(default_memory_budget_bytes(v1_unlimited.path().c_str())
             == physical_bytes());

  test::temp_dir none;
  BOOST_TEST(default_memory_budget_bytes(none.path().c_str())
             == physical_bytes());
}

BOOST_AUTO_TEST_SUITE_END()
