// SPDX-License-Identifier: Apache-2.0
#include "storage/seed.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <tuple>

#include <pqxx/pqxx>
#include <spdlog/spdlog.h>

#include "storage/detail/pg_errors.hpp"
#include "storage/detail/session_impl.hpp"
#include "storage/storage_error.hpp"

namespace catchup::storage {

namespace {

constexpr std::int64_t minute_s = 60;
constexpr std::int64_t day_s = 86400;
// 1095 days is never longer than the calendar's "3 years" (1095 or 1096
// days), so every date also passes `now - interval '3 years'` checks.
constexpr std::int64_t history_s = 3 * 365 * day_s;
constexpr std::int64_t event_window_s = 14 * day_s;
constexpr std::int64_t now_max = 253370764800; // 9999-01-01T00:00:00Z

// -- random numbers -----------------------------------------------------------

// std::mt19937_64 and std::seed_seq are specified bit for bit by the
// standard; the distributions are not, so we draw from the engine directly
// with integer arithmetic only and get the same data on every platform.
class prng {
public:
  prng(std::uint64_t seed, std::uint64_t stream) {
    // seed_seq takes the whole 128-bit (seed, stream) pair, so no two users
    // of any two seeds share a sequence (a 64-bit mix of both could).
    std::seed_seq seq{static_cast<std::uint32_t>(seed),
                      static_cast<std::uint32_t>(seed >> 32),
                      static_cast<std::uint32_t>(stream),
                      static_cast<std::uint32_t>(stream >> 32),
                      0x73656564u}; // "seed": a tag for this generator
    engine_.seed(seq);
  }

  std::uint64_t next() {
    return engine_();
  }

  /// Uniform in [0, n), n > 0, without modulo bias (rejects the few values
  /// below 2^64 mod n).
  std::uint64_t below(std::uint64_t n) {
    std::uint64_t threshold = (0 - n) % n;
    for (;;) {
      auto x = engine_();
      if (x >= threshold)
        return x % n;
    }
  }

  /// Uniform in [lo, hi] (inclusive); lo if hi <= lo.
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    if (hi <= lo)
      return lo;
    return lo + static_cast<std::int64_t>(
             below(static_cast<std::uint64_t>(hi - lo) + 1));
  }

  /// True with probability per_mille / 1000.
  bool chance(std::uint64_t per_mille) {
    return below(1000) < per_mille;
  }

  /// An index into `weights`, each chosen with probability weight / sum.
  template <std::size_t N>
  std::size_t pick(const std::array<unsigned, N>& weights) {
    std::uint64_t total = 0;
    for (auto w : weights)
      total += w;
    auto x = below(total);
    for (std::size_t i = 0; i < N; ++i) {
      if (x < weights[i])
        return i;
      x -= weights[i];
    }
    return N - 1;
  }

  template <class T, std::size_t N>
  const T& element(const std::array<T, N>& items) {
    return items[below(N)];
  }

  /// A random UUID in the version-4 layout, as lower-case text.
  std::string uuid() {
    std::array<unsigned char, 16> b;
    for (int half = 0; half < 2; ++half) {
      auto x = engine_();
      for (int i = 0; i < 8; ++i)
        b[half * 8 + i] = static_cast<unsigned char>(x >> (8 * i));
    }
    b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40); // version 4
    b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80); // RFC 4122
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
      if (i == 4 || i == 6 || i == 8 || i == 10)
        out += '-';
      out += hex[b[i] >> 4];
      out += hex[b[i] & 0x0f];
    }
    return out;
  }

private:
  std::mt19937_64 engine_;
};

// -- time ---------------------------------------------------------------------

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  auto q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/// "YYYY-MM-DD hh:mm:ss+00", computed without the C library's time zone
/// state (Howard Hinnant's civil_from_days), so it is fast and pure.
std::string timestamp_text(std::int64_t unix_s) {
  auto days = floor_div(unix_s, day_s);
  auto secs = unix_s - days * day_s;
  auto z = days + 719468;
  auto era = floor_div(z, 146097);
  auto doe = z - era * 146097;
  auto yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  auto doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  auto mp = (5 * doy + 2) / 153;
  auto day = doy - (153 * mp + 2) / 5 + 1;
  auto month = mp < 10 ? mp + 3 : mp - 9;
  auto year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  char buf[96]; // room for any int64 the formatter could see
  std::snprintf(buf, sizeof(buf), "%04lld-%02lld-%02lld %02lld:%02lld:%02lld+00",
                static_cast<long long>(year), static_cast<long long>(month),
                static_cast<long long>(day),
                static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60),
                static_cast<long long>(secs % 60));
  return buf;
}

// -- vocabulary ---------------------------------------------------------------

/// A name part as shown, and its ASCII spelling for e-mail addresses.
struct name_part {
  const char* text;
  const char* ascii;
};

enum class name_order {
  given_family,       // "José García"
  family_given_joined // "王芳": CJK names, family name first, no space
};

struct culture {
  unsigned weight; // share of contacts, in percent
  name_order order;
  std::vector<name_part> given;
  std::vector<name_part> family;
};

// Names in the scripts and spellings a real address book mixes, so that
// sorting, escaping and display are exercised beyond ASCII.
const std::vector<culture>& cultures() {
  static const std::vector<culture> all = {
    {28, name_order::given_family,
     {{"James", "james"}, {"Mary", "mary"}, {"Olivia", "olivia"},
      {"Liam", "liam"}, {"Emma", "emma"}, {"Noah", "noah"},
      {"Charlotte", "charlotte"}, {"Oliver", "oliver"},
      {"Amelia", "amelia"}, {"Jack", "jack"}, {"Grace", "grace"},
      {"Harry", "harry"}, {"Chloe", "chloe"}, {"Ethan", "ethan"}},
     {{"Smith", "smith"}, {"Johnson", "johnson"}, {"Brown", "brown"},
      {"Taylor", "taylor"}, {"Wilson", "wilson"}, {"Davies", "davies"},
      {"Evans", "evans"}, {"Thomas", "thomas"}, {"Walker", "walker"},
      {"O'Brien", "obrien"}, {"Murphy", "murphy"}, {"Campbell", "campbell"},
      {"Clarke", "clarke"}, {"Nguyen", "nguyen"}}},
    {12, name_order::given_family,
     {{"José", "jose"}, {"María", "maria"}, {"Lucía", "lucia"},
      {"Sofía", "sofia"}, {"Mateo", "mateo"}, {"Ana", "ana"},
      {"Alejandro", "alejandro"}, {"Inés", "ines"}, {"Ramón", "ramon"},
      {"Camila", "camila"}},
     {{"García", "garcia"}, {"Fernández", "fernandez"}, {"López", "lopez"},
      {"Martínez", "martinez"}, {"Rodríguez", "rodriguez"},
      {"Peña", "pena"}, {"Muñoz", "munoz"}, {"Ortega", "ortega"}}},
    {6, name_order::given_family,
     {{"João", "joao"}, {"Ana", "ana"}, {"Luíza", "luiza"},
      {"Thiago", "thiago"}, {"Beatriz", "beatriz"}, {"Gonçalo", "goncalo"}},
     {{"Silva", "silva"}, {"Gonçalves", "goncalves"}, {"Araújo", "araujo"},
      {"Conceição", "conceicao"}, {"Oliveira", "oliveira"},
      {"Magalhães", "magalhaes"}}},
    {7, name_order::given_family,
     {{"Zoë", "zoe"}, {"Jürgen", "juergen"}, {"Lena", "lena"},
      {"Maximilian", "maximilian"}, {"Käthe", "kaethe"}, {"Lukas", "lukas"},
      {"Anja", "anja"}},
     {{"Müller", "mueller"}, {"Schröder", "schroeder"}, {"Weiß", "weiss"},
      {"Becker", "becker"}, {"Hoffmann", "hoffmann"}, {"Krüger", "krueger"}}},
    {5, name_order::given_family,
     {{"Søren", "soren"}, {"Þóra", "thora"}, {"Björn", "bjorn"},
      {"Åsa", "asa"}, {"Sigurður", "sigurdur"}, {"Freja", "freja"},
      {"Mikael", "mikael"}},
     {{"Nielsen", "nielsen"}, {"Lindqvist", "lindqvist"}, {"Åberg", "aberg"},
      {"Bjørnstad", "bjornstad"}, {"Eriksen", "eriksen"},
      {"Sæther", "saether"}}},
    {5, name_order::given_family,
     {{"Łukasz", "lukasz"}, {"Agnieszka", "agnieszka"}, {"Paweł", "pawel"},
      {"Małgorzata", "malgorzata"}, {"Jiří", "jiri"}, {"Zuzana", "zuzana"}},
     {{"Nowak", "nowak"}, {"Wójcik", "wojcik"}, {"Kowalczyk", "kowalczyk"},
      {"Dvořák", "dvorak"}, {"Mazur", "mazur"}, {"Król", "krol"}}},
    {4, name_order::given_family,
     {{"Ngọc", "ngoc"}, {"Minh", "minh"}, {"Thảo", "thao"},
      {"Phương", "phuong"}, {"Anh", "anh"}, {"Hùng", "hung"}},
     {{"Nguyễn", "nguyen"}, {"Trần", "tran"}, {"Lê", "le"},
      {"Phạm", "pham"}, {"Hoàng", "hoang"}}},
    {6, name_order::family_given_joined,
     {{"芳", "fang"}, {"伟", "wei"}, {"娜", "na"}, {"敏", "min"},
      {"静", "jing"}, {"磊", "lei"}, {"秀英", "xiuying"}},
     {{"王", "wang"}, {"李", "li"}, {"张", "zhang"}, {"刘", "liu"},
      {"陈", "chen"}, {"杨", "yang"}}},
    {4, name_order::family_given_joined,
     {{"陽翔", "haruto"}, {"結衣", "yui"}, {"蓮", "ren"}, {"美咲", "misaki"},
      {"大輝", "daiki"}},
     {{"佐藤", "sato"}, {"鈴木", "suzuki"}, {"高橋", "takahashi"},
      {"田中", "tanaka"}, {"渡辺", "watanabe"}}},
    // Ukrainian -enko and Korean surnames do not change with gender, so any
    // given name fits any surname.
    {5, name_order::given_family,
     {{"Иван", "ivan"}, {"Ольга", "olga"}, {"Дмитрий", "dmitry"},
      {"Наталья", "natalya"}, {"Алексей", "alexey"}, {"Анна", "anna"}},
     {{"Шевченко", "shevchenko"}, {"Коваленко", "kovalenko"},
      {"Бондаренко", "bondarenko"}, {"Ткаченко", "tkachenko"},
      {"Ким", "kim"}}},
    {5, name_order::given_family,
     {{"محمد", "mohammed"}, {"فاطمة", "fatima"}, {"أحمد", "ahmed"},
      {"ليلى", "layla"}, {"عمر", "omar"}, {"نور", "nour"}},
     {{"حداد", "haddad"}, {"منصور", "mansour"}, {"خوري", "khoury"},
      {"العلي", "alali"}, {"ناصر", "nasser"}}},
    {5, name_order::given_family,
     {{"Ayşe", "ayse"}, {"Mehmet", "mehmet"}, {"Çağla", "cagla"},
      {"Emre", "emre"}, {"Gökhan", "gokhan"}, {"Şule", "sule"},
      {"İbrahim", "ibrahim"}},
     {{"Yılmaz", "yilmaz"}, {"Kaya", "kaya"}, {"Demir", "demir"},
      {"Şahin", "sahin"}, {"Öztürk", "ozturk"}, {"Çelik", "celik"}}},
    {8, name_order::given_family,
     {{"Priya", "priya"}, {"Arjun", "arjun"}, {"Ananya", "ananya"},
      {"Rohan", "rohan"}, {"Lakshmi", "lakshmi"}, {"Vikram", "vikram"},
      {"Aditi", "aditi"}},
     {{"Sharma", "sharma"}, {"Patel", "patel"}, {"Iyer", "iyer"},
      {"Reddy", "reddy"}, {"Banerjee", "banerjee"}, {"Nair", "nair"}}},
  };
  return all;
}

/// A person's display name and the ASCII parts for their e-mail.
struct person_name {
  std::string text;
  const char* given_ascii;
  const char* family_ascii;
};

person_name draw_name(prng& rng) {
  static const std::vector<unsigned> weights = [] {
    std::vector<unsigned> w;
    for (auto& c : cultures())
      w.push_back(c.weight);
    return w;
  }();
  static const unsigned total = [] {
    unsigned sum = 0;
    for (auto w : weights)
      sum += w;
    return sum;
  }();
  auto x = rng.below(total);
  std::size_t i = 0;
  while (x >= weights[i])
    x -= weights[i++];
  auto& c = cultures()[i];
  auto& given = c.given[rng.below(c.given.size())];
  auto& family = c.family[rng.below(c.family.size())];
  person_name out;
  out.given_ascii = given.ascii;
  out.family_ascii = family.ascii;
  if (c.order == name_order::family_given_joined) {
    out.text = family.text;
    out.text += given.text;
  } else {
    out.text = given.text;
    out.text += ' ';
    out.text += family.text;
  }
  return out;
}

// Reserved for documentation (RFC 2606, RFC 6761): never a real mailbox.
constexpr std::array<const char*, 5> email_domains = {
  "example.com", "example.org", "example.net", "mail.example",
  "post.example"};

std::string draw_email(prng& rng, const person_name& name) {
  std::string given = name.given_ascii;
  std::string family = name.family_ascii;
  std::string local;
  switch (rng.below(4)) {
    case 0:
      local = given + "." + family;
      break;
    case 1:
      local = given + family + std::to_string(rng.between(10, 99));
      break;
    case 2:
      local = given.substr(0, 1) + "." + family;
      break;
    default:
      local = family + "_" + given;
      break;
  }
  return local + "@" + rng.element(email_domains);
}

// The shares of the frequency classes in per mille; nullptr is NULL ("no
// preference").
constexpr std::array<const char*, 9> frequencies = {
  "daily",     "weekly", "biweekly", "monthly", "quarterly",
  "yearly",    "flexible", "na",     nullptr};
constexpr std::array<unsigned, 9> frequency_weights = {20,  100, 80, 220, 150,
                                                       100, 60,  50, 220};

constexpr std::array<const char*, 12> group_names = {
  "Family",        "Close friends", "Work",           "Climbing",
  "Book club",     "University",    "Neighbours",     "Running club",
  "Old colleagues", "Choir",        "Board games",    "School friends"};

/// A user's zone and its standard UTC offset in minutes. The offset only
/// places busy events in local daytime; daylight saving time shifts them by
/// an hour, which still looks like a real calendar.
struct zone {
  const char* name;
  int offset_min;
};

// Cycled through in user order: DST in both hemispheres, half- and
// quarter-hour offsets.
constexpr std::array<zone, 10> zones = {{
  {"Europe/Berlin", 60},
  {"America/New_York", -300},
  {"Asia/Kolkata", 330},
  {"Australia/Sydney", 600},
  {"UTC", 0},
  {"America/Sao_Paulo", -180},
  {"Asia/Kathmandu", 345},
  {"America/St_Johns", -210},
  {"Europe/London", 0},
  {"Asia/Tokyo", 540},
}};

constexpr std::array<const char*, 18> event_summaries = {
  "Team standup",      "1:1 with manager",  "Dentist",
  "Gym",               "Climbing session",  "Dinner with parents",
  "Doctor's appointment", "Project review", "Flight",
  "Yoga",              "Parent-teacher meeting", "Lunch with Sam",
  "Haircut",           "Focus time",        "Piano lesson",
  "Café with Zoë",     "Tax advisor",       "Sprint planning"};

constexpr std::array<const char*, 5> event_locations = {
  "Office", "Home", "Video call", "Café Central", "City centre"};

// -- rows ---------------------------------------------------------------------

struct user_plan {
  std::int64_t index = 0; // 1-based
  std::string id;
  std::string email;
  std::string name;
  const zone* tz = nullptr;
  std::int64_t created = 0;
};

struct group_plan {
  std::string id;
  const char* name;
  std::int64_t created;
};

struct contact_plan {
  std::string id;
  std::string name;
  std::optional<std::string> email;
  std::int64_t created = 0;
  std::optional<std::int64_t> last_contact;
  const char* frequency = nullptr;
  std::optional<std::int64_t> archived;
  int group_count = 0;
  std::array<int, 2> groups{};
};

/// Draws one contact. Called twice per contact with the same generator
/// state (once for the contacts, once for the memberships), so it must draw
/// the same numbers every time.
contact_plan draw_contact(prng& rng, const user_plan& user,
                          std::size_t group_total, std::int64_t now) {
  contact_plan c;
  c.id = rng.uuid();
  auto name = draw_name(rng);
  c.name = std::move(name.text);
  if (rng.chance(700))
    c.email = draw_email(rng, name);
  c.created = rng.between(user.created, now);
  if (!rng.chance(100)) {
    // Never before 1970: the schema counts "never" as 1970-01-01, and an
    // earlier real date would outrank it.
    auto lo = now - history_s < 0 ? 0 : now - history_s;
    c.last_contact = rng.between(lo, now);
  } else {
    // A contact never contacted was added lately (an import, someone new):
    // within the last 90 days, so it becomes due one cadence after that
    // like anyone else instead of topping every list. Derived from the
    // draw above, so the random sequence stays what it was.
    constexpr std::int64_t recent_s = 90 * 86400;
    c.created = std::max(user.created, now - (c.created - user.created) % recent_s);
  }
  c.frequency = frequencies[rng.pick(frequency_weights)];
  if (rng.chance(50))
    c.archived = rng.between(c.created, now);
  // Half of all contacts in no group, 35% in one, 15% in two.
  auto r = rng.below(100);
  c.group_count = r < 50 ? 0 : r < 85 ? 1 : 2;
  if (c.group_count > 0 && group_total > 0) {
    c.groups[0] = static_cast<int>(rng.below(group_total));
    if (c.group_count == 2) {
      // A second, different group: skip over the first.
      auto second = static_cast<int>(rng.below(group_total - 1));
      c.groups[1] = second >= c.groups[0] ? second + 1 : second;
    }
  }
  return c;
}

void check_range(const char* what, std::int64_t value, std::int64_t lo,
                 std::int64_t hi) {
  if (value < lo || value > hi)
    throw storage_error(ec::invalid_input,
                        std::string{"seed: "} + what + " must be in "
                          + std::to_string(lo) + ".." + std::to_string(hi)
                          + ", got " + std::to_string(value));
}

void write_availability(pqxx::work& tx, prng& rng, const user_plan& user) {
  pqxx::stream_to out{tx, "availability_windows",
                      std::vector<std::string>{"user_id", "weekday",
                                               "start_minute", "end_minute"}};
  // Weekday evenings, sometimes without one evening (a standing
  // commitment), sometimes with lunch breaks; weekends usually.
  auto evening_start = 17 * 60 + 30 * static_cast<int>(rng.below(5));
  auto evening_end = evening_start + 120 + 30 * static_cast<int>(rng.below(5));
  if (evening_end > 1440)
    evening_end = 1440;
  auto busy_evening = rng.chance(300) ? static_cast<int>(rng.between(1, 5)) : 0;
  auto lunch = rng.chance(300);
  for (int day = 1; day <= 5; ++day) {
    if (lunch)
      out << std::make_tuple(user.id, day, 12 * 60, 13 * 60);
    if (day != busy_evening)
      out << std::make_tuple(user.id, day, evening_start, evening_end);
  }
  if (rng.chance(800)) {
    auto start = 9 * 60 + 60 * static_cast<int>(rng.below(3));
    auto end = 17 * 60 + 60 * static_cast<int>(rng.below(5));
    for (int day = 6; day <= 7; ++day)
      out << std::make_tuple(user.id, day, start, end);
  }
  out.complete();
}

std::int64_t write_events(pqxx::work& tx, prng& rng, const user_plan& user,
                          const seed_options& options) {
  auto count = rng.between(0, options.busy_events_per_user_max);
  if (count == 0)
    return 0;
  auto now = options.now_unix_s;
  pqxx::stream_to out{tx, "calendar_events",
                      std::vector<std::string>{
                        "id", "user_id", "calendar_id", "external_id",
                        "source", "summary", "location", "start_time",
                        "end_time", "timezone", "is_busy", "created_at",
                        "updated_at"}};
  // Events start on quarter hours, like the ones people create.
  auto first_slot = floor_div(now + 899, 900) * 900;
  for (std::int64_t k = 1; k <= count; ++k) {
    auto id = rng.uuid();
    auto duration = (30 + 15 * static_cast<std::int64_t>(rng.below(11)))
                    * minute_s;
    auto last_slot = now + event_window_s - duration;
    auto slots = last_slot < first_slot ? 1 : (last_slot - first_slot) / 900 + 1;
    // Prefer local daytime (07:00-20:00 start) but give up after a few
    // draws, so the number of draws stays bounded.
    std::int64_t start = first_slot;
    for (int attempt = 0; attempt < 8; ++attempt) {
      start = first_slot + 900 * static_cast<std::int64_t>(rng.below(
                                   static_cast<std::uint64_t>(slots)));
      auto local = start + user.tz->offset_min * minute_s;
      auto minute_of_day = (local - floor_div(local, day_s) * day_s) / 60;
      if (minute_of_day >= 7 * 60 && minute_of_day <= 20 * 60)
        break;
    }
    auto summary = rng.element(event_summaries);
    const char* location = rng.chance(300) ? rng.element(event_locations)
                                           : nullptr;
    auto is_busy = !rng.chance(100);
    auto created = now - rng.between(0, 30 * day_s);
    auto created_text = timestamp_text(created);
    out << std::make_tuple(id, user.id, "primary",
                           "seed" + std::to_string(options.seed) + "-u"
                             + std::to_string(user.index) + "-e"
                             + std::to_string(k),
                           "seed", summary, location, timestamp_text(start),
                           timestamp_text(start + duration), user.tz->name,
                           is_busy, created_text, created_text);
  }
  out.complete();
  return count;
}

struct user_counts {
  std::int64_t contacts = 0;
  std::int64_t groups = 0;
  std::int64_t events = 0;
};

// 5-8 distinct groups: a partial Fisher-Yates shuffle of the names.
std::vector<group_plan> draw_groups(prng& rng, const user_plan& user,
                                    std::int64_t now) {
  std::array<std::size_t, group_names.size()> order;
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  auto group_total = static_cast<std::size_t>(rng.between(5, 8));
  std::vector<group_plan> groups;
  for (std::size_t i = 0; i < group_total; ++i) {
    auto j = i + rng.below(order.size() - i);
    std::swap(order[i], order[j]);
    groups.push_back({rng.uuid(), group_names[order[i]],
                      rng.between(user.created, now)});
  }
  return groups;
}

void write_groups(pqxx::work& tx, const user_plan& user,
                  const std::vector<group_plan>& groups) {
  pqxx::stream_to out{tx, "groups",
                      std::vector<std::string>{"id", "user_id", "name",
                                               "created_at", "updated_at"}};
  for (auto& g : groups) {
    auto t = timestamp_text(g.created);
    out << std::make_tuple(g.id, user.id, g.name, t, t);
  }
  out.complete();
}

void write_contacts(pqxx::work& tx, prng& rng, const user_plan& user,
                    std::size_t group_count, const seed_options& options) {
  pqxx::stream_to out{tx, "contacts",
                      std::vector<std::string>{
                        "id", "user_id", "name", "email",
                        "last_contact_date", "frequency_preference",
                        "archived_at", "source", "created_at",
                        "updated_at"}};
  std::optional<std::string> last_contact;
  std::optional<std::string> archived;
  for (std::int64_t i = 0; i < options.contacts_per_user; ++i) {
    auto c = draw_contact(rng, user, group_count, options.now_unix_s);
    last_contact.reset();
    if (c.last_contact)
      last_contact = timestamp_text(*c.last_contact);
    archived.reset();
    if (c.archived)
      archived = timestamp_text(*c.archived);
    auto created = timestamp_text(c.created);
    out << std::make_tuple(c.id, user.id, c.name, c.email, last_contact,
                           c.frequency, archived, "seed", created, created);
  }
  out.complete();
}

// `replay` draws the contacts write_contacts drew, from a copy of its
// generator taken before.
void write_memberships(pqxx::work& tx, prng& replay, const user_plan& user,
                       const std::vector<group_plan>& groups,
                       const seed_options& options) {
  pqxx::stream_to out{tx, "contact_groups",
                      std::vector<std::string>{"user_id", "contact_id",
                                               "group_id", "created_at"}};
  for (std::int64_t i = 0; i < options.contacts_per_user; ++i) {
    auto c = draw_contact(replay, user, groups.size(), options.now_unix_s);
    for (int k = 0; k < c.group_count; ++k) {
      auto& g = groups[static_cast<std::size_t>(c.groups[k])];
      auto joined = c.created > g.created ? c.created : g.created;
      out << std::make_tuple(user.id, c.id, g.id, timestamp_text(joined));
    }
  }
  out.complete();
}

user_counts seed_user(pqxx::connection& conn, const user_plan& user,
                      prng& rng, const seed_options& options) {
  user_counts counts;
  pqxx::work tx{conn, "seed"};
  // Cascades to everything the user owns; in this transaction, so a
  // failure below restores the previous data set.
  tx.exec_params("DELETE FROM users WHERE email = $1", user.email);
  auto created_text = timestamp_text(user.created);
  tx.exec_params("INSERT INTO users (id, email, name, timezone, created_at, "
                 "updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
                 user.id, user.email, user.name, user.tz->name, created_text);

  auto groups = draw_groups(rng, user, options.now_unix_s);
  write_groups(tx, user, groups);
  counts.groups = static_cast<std::int64_t>(groups.size());

  // Contacts, then memberships by replaying the same draws from a copy of
  // the generator: one COPY at a time per connection, and no buffer that
  // grows with the number of contacts.
  auto replay = rng;
  write_contacts(tx, rng, user, groups.size(), options);
  counts.contacts = options.contacts_per_user;
  write_memberships(tx, replay, user, groups, options);

  // About a third of users set their own windows; the rest get the
  // engine's default by having no rows.
  if (rng.below(3) == 0)
    write_availability(tx, rng, user);
  counts.events = write_events(tx, rng, user, options);
  tx.commit();
  return counts;
}

} // namespace

std::string seed_user_email(std::int64_t index, std::uint64_t seed) {
  return "user" + std::to_string(index) + "@seed" + std::to_string(seed)
         + ".example";
}

seed_report seed(const std::string& url, const seed_options& options) {
  check_range("users", options.users, 1, 100000);
  check_range("contacts_per_user", options.contacts_per_user, 0, 10000000);
  check_range("now_unix_s", options.now_unix_s, 0, now_max);
  check_range("busy_events_per_user_max", options.busy_events_per_user_max, 0,
              10000);
  auto started = std::chrono::steady_clock::now();
  seed_report report;
  std::string email;
  try {
    pqxx::connection conn{url};
    // Names are UTF-8 whatever the environment's PGCLIENTENCODING says.
    conn.set_client_encoding("UTF8");
    for (std::int64_t index = 1; index <= options.users; ++index) {
      // Each user has its own stream, so a user's data does not depend on
      // how many contacts the users before it got.
      prng rng{options.seed, static_cast<std::uint64_t>(index)};
      user_plan user;
      user.index = index;
      user.id = rng.uuid();
      user.email = seed_user_email(index, options.seed);
      email = user.email;
      user.name = draw_name(rng).text;
      user.tz = &zones[static_cast<std::size_t>(index - 1) % zones.size()];
      // Accounts are between three and four years old.
      user.created = options.now_unix_s - history_s
                     - rng.between(0, 365 * day_s);
      auto counts = seed_user(conn, user, rng, options);
      report.user_ids.push_back(user.id);
      report.contacts += counts.contacts;
      report.groups += counts.groups;
      report.events += counts.events;
    }
    // Bulk-loaded tables have no statistics until autovacuum gets to them;
    // without them the planner guesses badly for the first generations.
    pqxx::nontransaction tx{conn};
    tx.exec0("ANALYZE contacts, contact_groups, groups, calendar_events, "
             "availability_windows");
  } catch (...) {
    detail::rethrow_as_storage_error(
      email.empty() ? std::string{"seeding failed"}
                    : "seeding " + email
                        + " failed; its transaction was rolled back");
  }
  report.wall_ms = std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - started)
                     .count();
  spdlog::info("seeded {} users with {} contacts, {} groups and {} events "
               "(seed {}) in {:.0f} ms",
               report.user_ids.size(), report.contacts, report.groups,
               report.events, options.seed, report.wall_ms);
  return report;
}

std::vector<std::string> seeded_users(const std::string& url,
                                      const seed_options& options) {
  std::vector<std::string> emails;
  for (std::int64_t index = 1; index <= options.users; ++index)
    emails.push_back(seed_user_email(index, options.seed));
  std::vector<std::string> ids;
  try {
    pqxx::connection conn{url};
    pqxx::read_transaction tx{conn};
    auto rows = tx.exec_params(
      "SELECT u.id::text, (SELECT count(*) FROM contacts c "
      "  WHERE c.user_id = u.id) "
      "FROM unnest($1::text[]) WITH ORDINALITY AS e(email, n) "
      "LEFT JOIN users u ON u.email = e.email ORDER BY e.n",
      detail::array_literal(emails));
    for (auto row : rows) {
      if (row[0].is_null()
          || row[1].as<std::int64_t>() != options.contacts_per_user)
        return {};
      ids.emplace_back(row[0].c_str());
    }
  } catch (...) {
    detail::rethrow_as_storage_error("cannot look for seeded users");
  }
  return ids;
}

} // namespace catchup::storage
