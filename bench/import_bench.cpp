// SPDX-License-Identifier: Apache-2.0
#include "bench/import_bench.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

#include <catchup/admin.hpp>
#include <catchup/engine.hpp>

#include "bench/bench_support.hpp"
#include "bench/memory_report.hpp"
#include "core/memory.hpp"

namespace catchup::bench {

namespace {

// The bench's "now", as in the generation scenarios.
constexpr std::int64_t now_unix_s = bench_now_unix_s;
// Seeds of the import users: one fresh user per measured import.
constexpr std::uint64_t import_user_seed = 9100;

// Cards like a phone's export: UID, names, e-mail, phone, organisation,
// groups, and a note on every tenth.
void write_vcards(const std::string& path, std::int64_t n) {
  std::ofstream out{path, std::ios::binary};
  for (std::int64_t i = 1; i <= n; ++i) {
    auto k = std::to_string(i);
    out << "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:bench-" << k
        << "\r\nFN:Person " << k << "\r\nN:" << k << ";Person;;;\r\n"
        << "EMAIL;TYPE=INTERNET:p" << k << "@bench.example\r\n"
        << "TEL;TYPE=CELL:+49 30 " << (1000000 + i) << "\r\n"
        << "ORG:Company " << (i % 500) << "\r\n"
        << "CATEGORIES:group" << (i % 12) << "\r\n";
    if (i % 10 == 0)
      out << "NOTE:Met at the conference in spring\\, likes climbing.\r\n";
    out << "URL:https://www.linkedin.com/in/person-" << k << "\r\n"
        << "END:VCARD\r\n";
  }
}

std::string utc_text(std::int64_t t) {
  auto days = t / 86400;
  auto secs = t % 86400;
  // Civil from days (Howard Hinnant's algorithm).
  days += 719468;
  auto era = days / 146097;
  auto doe = days - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto y = yoe + era * 400;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto d = doy - (153 * mp + 2) / 5 + 1;
  auto m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char text[128];
  std::snprintf(text, sizeof text, "%04lld%02lld%02lldT%02lld%02lld%02lldZ",
                static_cast<long long>(y), static_cast<long long>(m),
                static_cast<long long>(d), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return text;
}

// Meetings over the 300 days before and after now, each with an attendee
// among the imported contacts; every tenth is free time.
void write_events(const std::string& path, std::int64_t n,
                  std::int64_t contacts) {
  std::ofstream out{path, std::ios::binary};
  out << "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//catchup//bench//EN\r\n";
  constexpr std::int64_t span_s = 600LL * 86400;
  auto first = now_unix_s - span_s / 2;
  for (std::int64_t i = 1; i <= n; ++i) {
    auto start = first + (span_s / n) * i / 900 * 900;
    out << "BEGIN:VEVENT\r\nUID:bench-event-" << i
        << "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" << utc_text(start)
        << "\r\nDTEND:" << utc_text(start + 3600) << "\r\nSUMMARY:Meeting "
        << i << "\r\nATTENDEE;CN=Person:mailto:p" << (1 + i % contacts)
        << "@bench.example\r\n";
    if (i % 10 == 0)
      out << "TRANSP:TRANSPARENT\r\n";
    out << "END:VEVENT\r\n";
  }
  out << "END:VCALENDAR\r\n";
}

std::string fresh_user(engine& e, std::uint64_t seed) {
  admin::seed_params params;
  params.users = 1;
  params.contacts_per_user = 0;
  params.seed = seed;
  params.now_unix_s = now_unix_s;
  params.busy_events_per_user_max = 0;
  return checked(admin::seed(e, params)).user_ids.front();
}

import_figures measure(engine& e, const std::string& user,
                       import_format format, const std::string& path,
                       std::int64_t items) {
  import_figures f;
  f.kind = format == import_format::icalendar ? "calendar" : "contacts";
  f.items = items;
  f.file_bytes = std::filesystem::file_size(path);
  process_memory_probe{}.release_free_memory();
  f.idle_resident_bytes = read_process_memory().resident_bytes;
  reset_peak_resident();
  import_params params;
  params.user_id = user;
  params.format = format;
  params.now_unix_s = now_unix_s;
  heap_peak_sampler heap;
  auto started = std::chrono::steady_clock::now();
  auto outcome = checked(e.import_file_outcome(path, params));
  f.wall_ms = std::chrono::duration<double, std::milli>(
                std::chrono::steady_clock::now() - started)
                .count();
  f.peak_allocated_bytes = heap.stop();
  f.peak_resident_bytes = read_process_memory().peak_resident_bytes;
  f.resident_growth_bytes = f.peak_resident_bytes - f.idle_resident_bytes;
  f.items_per_s = static_cast<double>(items) * 1000.0 / f.wall_ms;
  f.pages = static_cast<std::int64_t>(outcome.summary.pages);
  if (outcome.stopped.code != error_code::ok)
    throw std::runtime_error("bench: import of " + path
                             + " failed: " + outcome.stopped.message);
  return f;
}

} // namespace

std::vector<import_figures> run_import_bench(engine& e) {
  auto dir = std::filesystem::temp_directory_path()
             / ("catchup-import-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  struct cleanup {
    std::filesystem::path dir;
    ~cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove_dir{dir};
  std::vector<import_figures> all;
  std::uint64_t seed = import_user_seed;
  std::string user;
  for (std::int64_t n : {1000, 100000}) {
    auto path = (dir / ("contacts-" + std::to_string(n) + ".vcf")).string();
    write_vcards(path, n);
    user = fresh_user(e, seed++);
    say("bench: importing " + std::to_string(n) + " vCards");
    all.push_back(measure(e, user, import_format::vcard, path, n));
  }
  // The calendars go to the user holding 100,000 contacts, so each past
  // meeting moves a contact's last contact date.
  for (std::int64_t n : {1000, 100000}) {
    auto path = (dir / ("calendar-" + std::to_string(n) + ".ics")).string();
    write_events(path, n, 100000);
    say("bench: importing " + std::to_string(n) + " iCalendar events");
    all.push_back(measure(e, user, import_format::icalendar, path, n));
  }
  return all;
}

void print_import_table(const std::vector<import_figures>& all) {
  std::printf("\nimports (target: 100,000 items <= 3000 ms; peak RSS at "
              "100,000 <= 2 MiB above the peak at 1,000)\n");
  std::printf("%-9s %8s %9s %10s %11s %7s %13s %13s %12s\n", "kind", "items",
              "file MiB", "wall ms", "items/s", "pages", "peak RSS MiB",
              "growth KiB", "heap KiB");
  for (auto& f : all)
    std::printf("%-9s %8lld %9.1f %10.0f %11.0f %7lld %13.1f %13lld %12lld\n",
                f.kind.c_str(), static_cast<long long>(f.items),
                static_cast<double>(f.file_bytes) / (1024.0 * 1024.0),
                f.wall_ms, f.items_per_s, static_cast<long long>(f.pages),
                static_cast<double>(f.peak_resident_bytes) / (1024.0 * 1024.0),
                static_cast<long long>(f.resident_growth_bytes / 1024),
                static_cast<long long>(f.peak_allocated_bytes / 1024));
  for (std::size_t i = 0; i + 1 < all.size(); i += 2)
    std::printf("%s: peak RSS at %lld items minus at %lld items: %lld KiB\n",
                all[i].kind.c_str(), static_cast<long long>(all[i + 1].items),
                static_cast<long long>(all[i].items),
                static_cast<long long>((all[i + 1].peak_resident_bytes
                                        - all[i].peak_resident_bytes)
                                       / 1024));
}

nlohmann::json import_json(const std::vector<import_figures>& all) {
  auto out = nlohmann::json::array();
  for (auto& f : all)
    out.push_back({{"kind", f.kind},
                   {"items", f.items},
                   {"file_bytes", f.file_bytes},
                   {"wall_ms", f.wall_ms},
                   {"items_per_s", f.items_per_s},
                   {"pages", f.pages},
                   {"idle_resident_bytes", f.idle_resident_bytes},
                   {"peak_resident_bytes", f.peak_resident_bytes},
                   {"resident_growth_bytes", f.resident_growth_bytes},
                   {"peak_allocated_bytes", f.peak_allocated_bytes}});
  return out;
}

} // namespace catchup::bench
