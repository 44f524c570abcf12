// SPDX-License-Identifier: Apache-2.0
#include "core/memory.hpp"

#include <cstdio>
#include <cstring>

#include <fstream>
#include <string>

#include <malloc.h>
#include <unistd.h>

// jemalloc's control interface, if jemalloc is linked into the process. A
// weak reference: null when the allocator is glibc's (or a sanitizer's).
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp,
                       void* newp, std::size_t newlen)
  __attribute__((weak));

// The sanitizers' allocator statistics, if a sanitizer runtime is linked
// (ASan replaces malloc, and glibc's mallinfo2 then sees none of the heap).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes()
  __attribute__((weak));

namespace catchup {

process_memory read_process_memory() noexcept {
  process_memory m;
  // statm: size resident shared text lib data dt, in pages.
  if (auto* f = std::fopen("/proc/self/statm", "r")) {
    long long size = 0;
    long long resident = 0;
    if (std::fscanf(f, "%lld %lld", &size, &resident) == 2)
      m.resident_bytes = resident * sysconf(_SC_PAGESIZE);
    std::fclose(f);
  }
  if (auto* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      long long kib = 0;
      if (std::strncmp(line, "VmHWM:", 6) == 0
          && std::sscanf(line + 6, "%lld", &kib) == 1) {
        m.peak_resident_bytes = kib * 1024;
        break;
      }
    }
    std::fclose(f);
  }
  return m;
}

namespace {

// jemalloc's statistics are cached per "epoch"; advancing it refreshes them.
bool jemalloc_read(const char* name, std::int64_t& out) noexcept {
  if (mallctl == nullptr)
    return false;
  std::uint64_t epoch = 1;
  auto len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  std::size_t value = 0;
  len = sizeof(value);
  if (mallctl(name, &value, &len, nullptr, 0) != 0)
    return false;
  out = static_cast<std::int64_t>(value);
  return true;
}

// A limit file's value; 0 for "max", absent or unreadable.
std::int64_t read_limit(const std::string& path) noexcept {
  try {
    std::ifstream in{path};
    std::string text;
    if (!(in >> text) || text == "max")
      return 0;
    return std::stoll(text);
  } catch (...) {
    return 0;
  }
}

} // namespace

bool process_memory_probe::uses_jemalloc() noexcept {
  std::int64_t ignored = 0;
  return jemalloc_read("stats.allocated", ignored);
}

std::int64_t process_memory_probe::allocated_bytes() noexcept {
  std::int64_t out = 0;
  if (jemalloc_read("stats.allocated", out))
    return out; // exact, from jemalloc
  if (__sanitizer_get_current_allocated_bytes != nullptr)
    return static_cast<std::int64_t>(__sanitizer_get_current_allocated_bytes());
  auto info = mallinfo2();
  return static_cast<std::int64_t>(info.uordblks + info.hblkhd);
}

memory_sample process_memory_probe::sample() {
  memory_sample s;
  s.allocated_bytes = allocated_bytes();
  s.resident_bytes = read_process_memory().resident_bytes;
  return s;
}

void process_memory_probe::release_free_memory() {
  if (mallctl != nullptr) {
    // MALLCTL_ARENAS_ALL is 4096 in jemalloc 5.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
  malloc_trim(0);
}

std::int64_t default_memory_budget_bytes(const char* cgroup_root) noexcept {
  std::int64_t physical = static_cast<std::int64_t>(sysconf(_SC_PHYS_PAGES))
                          * sysconf(_SC_PAGESIZE);
  std::string root{cgroup_root};
  auto limit = read_limit(root + "/memory.max"); // v2 unified
  if (limit <= 0)
    limit = read_limit(root + "/memory/memory.limit_in_bytes"); // v1
  // v1 reports "no limit" as a huge page-rounded number.
  if (limit > 0 && (physical <= 0 || limit < physical))
    return limit;
  return physical;
}

bool reset_peak_resident() noexcept {
  auto* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f)
    return false;
  bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

} // namespace catchup
