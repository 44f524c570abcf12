// SPDX-License-Identifier: Apache-2.0
#include "adapters/google_client.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "adapters/http_header_check.hpp"
#include "core/utf8.hpp"

namespace catchup {

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;
using query_params = std::vector<std::pair<std::string, std::string>>;

// What a google_item_error keeps of its item, as the file readers do.
constexpr std::size_t item_excerpt_bytes_max = 60;
// What an exception quotes of a body or of Google's message: enough for
// Google's one-sentence messages, never a whole page.
constexpr std::size_t message_excerpt_bytes_max = 200;
// Nesting accepted in a response. Google's replies nest about six deep; the
// bound keeps a hostile body from driving the recursive parts of the JSON
// library (dump, comparisons) deep into the stack.
constexpr int json_depth_max = 64;
// A token is renewed this long before Google says it expires, so no request
// starts with a token about to lapse on the way.
constexpr std::chrono::seconds token_expiry_margin{60};
// expires_in is clamped to this: a bound on how long a token is trusted
// before asking again, whatever the endpoint says.
constexpr std::int64_t token_lifetime_max_s = 24 * 3600;
// Google's documented page size ranges.
constexpr int people_page_size_max = 1000;
constexpr int events_page_size_max = 2500;
// Retry-After delta-seconds longer than this many digits are not a wait
// anyone means; they are ignored (the backoff applies).
constexpr std::size_t retry_after_digits_max = 9;

const char* const people_connections_path = "/v1/people/me/connections";
const char* const person_fields
  = "names,emailAddresses,phoneNumbers,addresses,biographies,organizations,"
    "urls,memberships,metadata";

// -- text and URLs ------------------------------------------------------------

std::string excerpt(std::string_view text, std::size_t bytes_max) {
  return printable_excerpt(text::trim(text), bytes_max);
}

bool is_ascii_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9');
}

char ascii_lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ascii_lowercase(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
  return out;
}

// RFC 3986 percent-encoding of everything but the unreserved characters:
// tokens are base64 ('+', '/', '='), calendar ids hold '@' and '#', and
// none of it may be read as URL syntax.
std::string percent_encode(std::string_view s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_ascii_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += hex[byte >> 4];
      out += hex[byte & 0x0F];
    }
  }
  return out;
}

// "k1=v1&k2=v2", for query strings and form bodies alike.
std::string encode_form(const query_params& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty())
      out += '&';
    out += percent_encode(key);
    out += '=';
    out += percent_encode(value);
  }
  return out;
}

// A base URL split into what httplib connects to and the path it prefixes.
struct url_parts {
  /// "https://host[:port]": the key of one httplib client.
  std::string origin;
  /// "" or "/prefix", no trailing slash.
  std::string path;
};

bool valid_host_port(std::string_view s) {
  std::string_view host = s;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    // An IPv6 literal, as httplib reads it: hex digits and colons.
    const auto close = s.find(']');
    if (close == std::string_view::npos || close == 1)
      return false;
    for (char c : s.substr(1, close - 1))
      if (!(c == ':' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
            || (c >= 'A' && c <= 'F')))
        return false;
    const auto rest = s.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return false;
    host = {};
    port = rest.empty() ? rest : rest.substr(1);
    if (!rest.empty() && port.empty())
      return false;
  } else {
    const auto colon = s.find(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
      if (port.empty())
        return false;
    }
    if (host.empty())
      return false;
    for (char c : host)
      if (!(is_ascii_alnum(c) || c == '-' || c == '.' || c == '_'))
        return false;
  }
  if (port.size() > 5)
    return false;
  int number = 0;
  for (char c : port) {
    if (c < '0' || c > '9')
      return false;
    number = number * 10 + (c - '0');
  }
  return port.empty() || (number >= 1 && number <= 65535);
}

// Throws std::invalid_argument naming the option (`what`) and the URL.
url_parts split_url(const std::string& url, const char* what) {
  auto fail = [&](const char* why) {
    throw std::invalid_argument(std::string{"google_client_options: "} + what
                                + " \"" + url + "\": " + why);
  };
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    fail("not an absolute URL");
  const auto scheme
    = ascii_lowercase(std::string_view{url}.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http")
    fail("the scheme must be https (or http, for tests)");
  if (url.find_first_of("?# ") != std::string::npos)
    fail("a base URL has no query, fragment or blank");
  const auto host_begin = scheme_end + 3;
  const auto path_begin = url.find('/', host_begin);
  const auto host_port = url.substr(host_begin, path_begin == std::string::npos
                                                  ? std::string::npos
                                                  : path_begin - host_begin);
  if (host_port.find('@') != std::string::npos)
    fail("credentials in the URL are not accepted");
  if (!valid_host_port(host_port))
    fail("the host or port is not valid");
  url_parts out;
  out.origin = scheme + "://" + host_port;
  if (path_begin != std::string::npos)
    out.path = url.substr(path_begin);
  while (!out.path.empty() && out.path.back() == '/')
    out.path.pop_back();
  return out;
}

// -- times --------------------------------------------------------------------

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
std::int64_t days_from_civil(std::int64_t y, int m, int d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

struct civil_date {
  std::int64_t year;
  int month;
  int day;
};

// The inverse of days_from_civil.
civil_date civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe
    = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

int days_in_month(std::int64_t year, int month) noexcept {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}

// `count` decimal digits at `pos`.
bool read_digits(std::string_view s, std::size_t pos, std::size_t count,
                 int& out) noexcept {
  if (pos + count > s.size())
    return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// "YYYY-MM-DD" at the start of `s`, as days since the epoch.
std::optional<std::int64_t> parse_date_prefix(std::string_view s) {
  int year = 0, month = 0, day = 0;
  if (!read_digits(s, 0, 4, year) || s.size() < 10 || s[4] != '-'
      || !read_digits(s, 5, 2, month) || s[7] != '-'
      || !read_digits(s, 8, 2, day))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month))
    return std::nullopt;
  return days_from_civil(year, month, day);
}

// An all-day "date": midnight UTC of that day.
std::optional<std::int64_t> parse_date(std::string_view s) {
  if (s.size() != 10)
    return std::nullopt;
  auto days = parse_date_prefix(s);
  if (!days)
    return std::nullopt;
  return *days * 86400;
}

// An RFC 3339 "dateTime": YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM);
// the fraction is dropped.
std::optional<std::int64_t> parse_date_time(std::string_view s) {
  auto days = parse_date_prefix(s);
  if (!days || s.size() < 20 || (s[10] != 'T' && s[10] != 't'))
    return std::nullopt;
  int hour = 0, minute = 0, second = 0;
  if (!read_digits(s, 11, 2, hour) || s[13] != ':'
      || !read_digits(s, 14, 2, minute) || s[16] != ':'
      || !read_digits(s, 17, 2, second))
    return std::nullopt;
  // 60: a leap second, as RFC 3339 allows.
  if (hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t pos = 19;
  if (s[pos] == '.') {
    ++pos;
    const auto digits_begin = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9')
      ++pos;
    if (pos == digits_begin)
      return std::nullopt;
  }
  std::int64_t offset_s = 0;
  const auto zone = s.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset_s = 0;
  } else {
    int offset_hours = 0, offset_minutes = 0;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-')
        || !read_digits(zone, 1, 2, offset_hours) || zone[3] != ':'
        || !read_digits(zone, 4, 2, offset_minutes) || offset_hours > 23
        || offset_minutes > 59)
      return std::nullopt;
    offset_s = (offset_hours * 3600 + offset_minutes * 60)
               * (zone[0] == '-' ? -1 : 1);
  }
  return *days * 86400 + hour * 3600 + minute * 60 + second - offset_s;
}

// "YYYY-MM-DDTHH:MM:SSZ", as timeMin/timeMax want it.
std::string format_date_time_utc(std::int64_t unix_s, const char* what) {
  const std::int64_t days = unix_s / 86400 - (unix_s % 86400 < 0 ? 1 : 0);
  const std::int64_t seconds = unix_s - days * 86400;
  const auto date = civil_from_days(days);
  if (date.year < 0 || date.year > 9999)
    throw std::invalid_argument(std::string{"google_client::list_events: "}
                                + what + " " + std::to_string(unix_s)
                                + " is outside the years 0000..9999");
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ",
                static_cast<int>(date.year), date.month, date.day,
                static_cast<int>(seconds / 3600),
                static_cast<int>(seconds / 60 % 60),
                static_cast<int>(seconds % 60));
  return buffer;
}

// -- JSON ---------------------------------------------------------------------

// True when `body` nests arrays and objects deeper than `depth_max`. A
// linear scan, before parsing, so depth is bounded whatever the parser does.
bool json_too_deep(std::string_view body, int depth_max) noexcept {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : body) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > depth_max)
        return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// Thrown while mapping one item: the item is skipped and reported.
struct bad_item {
  std::string reason;
};

// `key` of `object`, or null when absent or JSON null.
const json* member(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null())
    return nullptr;
  return &*it;
}

std::string where_key(const std::string& where, const char* key) {
  return where.empty() ? std::string{key} : where + "." + key;
}

// A string member, trimmed; "" when absent.
std::string string_member(const json& object, const char* key,
                          const std::string& where = {}) {
  const json* value = member(object, key);
  if (value == nullptr)
    return {};
  if (!value->is_string())
    throw bad_item{where_key(where, key) + " is not a string"};
  return std::string{text::trim(value->get_ref<const std::string&>())};
}

// An object member, or null when absent.
const json* object_member(const json& object, const char* key,
                          const std::string& where = {}) {
  const json* value = member(object, key);
  if (value != nullptr && !value->is_object())
    throw bad_item{where_key(where, key) + " is not an object"};
  return value;
}

// The elements of an array member, each an object; empty when absent.
std::vector<const json*> object_array_member(const json& object,
                                             const char* key) {
  std::vector<const json*> out;
  const json* value = member(object, key);
  if (value == nullptr)
    return out;
  if (!value->is_array())
    throw bad_item{std::string{key} + " is not an array"};
  for (std::size_t i = 0; i < value->size(); ++i) {
    const json& element = (*value)[i];
    if (!element.is_object())
      throw bad_item{std::string{key} + "[" + std::to_string(i)
                     + "] is not an object"};
    out.push_back(&element);
  }
  return out;
}

std::string element_where(const char* key, std::size_t i) {
  return std::string{key} + "[" + std::to_string(i) + "]";
}

// The values of `key` in each element of `elements` (named `array` in
// errors), non-empty ones only.
std::vector<std::string> values_of(const std::vector<const json*>& elements,
                                   const char* array, const char* key) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < elements.size(); ++i) {
    auto value = string_member(*elements[i], key, element_where(array, i));
    if (!value.empty())
      out.push_back(std::move(value));
  }
  return out;
}

// The element marked metadata.primary, else the first; null when none.
// Google lists the primary first, but does not promise it.
const json* primary_or_first(const std::vector<const json*>& elements) {
  for (const json* element : elements) {
    const json* metadata = member(*element, "metadata");
    if (metadata == nullptr || !metadata->is_object())
      continue;
    const json* primary = member(*metadata, "primary");
    if (primary != nullptr && primary->is_boolean() && primary->get<bool>())
      return element;
  }
  return elements.empty() ? nullptr : elements.front();
}

std::string item_excerpt(const json& item) {
  return excerpt(item.dump(-1, ' ', false, json::error_handler_t::replace),
                 item_excerpt_bytes_max);
}

// "message (STATUS; reason)" from Google's error body, the OAuth
// "error: error_description", else an excerpt of the body itself.
std::string google_message(const std::string& body) {
  if (body.empty())
    return "(empty body)";
  if (!json_too_deep(body, json_depth_max)) {
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_object()) {
      const json* error = member(doc, "error");
      if (error != nullptr && error->is_string()) {
        std::string out = error->get<std::string>();
        const json* description = member(doc, "error_description");
        if (description != nullptr && description->is_string())
          out += ": " + description->get<std::string>();
        return excerpt(out, message_excerpt_bytes_max);
      }
      if (error != nullptr && error->is_object()) {
        std::string out;
        const json* message = member(*error, "message");
        if (message != nullptr && message->is_string())
          out = message->get<std::string>();
        std::string tags;
        const json* status = member(*error, "status");
        if (status != nullptr && status->is_string())
          tags = status->get<std::string>();
        // Calendar puts reasons in errors[], People in details[] (ErrorInfo).
        for (const char* list : {"errors", "details"}) {
          const json* entries = member(*error, list);
          if (entries == nullptr || !entries->is_array())
            continue;
          for (const auto& entry : *entries) {
            if (!entry.is_object())
              continue;
            const json* reason = member(entry, "reason");
            if (reason != nullptr && reason->is_string())
              tags += (tags.empty() ? "" : "; ") + reason->get<std::string>();
          }
        }
        if (!tags.empty())
          out += (out.empty() ? "(" : " (") + tags + ")";
        if (!out.empty())
          return excerpt(out, message_excerpt_bytes_max);
      }
    }
  }
  return excerpt(body, message_excerpt_bytes_max);
}

// -- HTTP ---------------------------------------------------------------------

struct http_request {
  std::string method;
  /// Which httplib client: "https://host[:port]".
  std::string origin;
  /// The path and query as sent.
  std::string target;
  /// Form body (POST).
  std::string body;
  /// "Bearer ..." or empty.
  std::string authorization;
  /// What error messages call it: "GET /v1/people/me/connections".
  std::string label;
  /// What google_error::path() says.
  std::string error_path;
};

struct http_outcome {
  httplib::Error error = httplib::Error::Success;
  bool body_too_large = false;
  bool too_slow = false;
  int status = 0;
  std::string body;
  std::string retry_after;
};

bool transient(const http_outcome& out) {
  if (out.too_slow)
    return true;
  switch (out.error) {
  case httplib::Error::Success:
    return out.status == 429 || (out.status >= 500 && out.status <= 599);
  // No response, or a broken one: the network or a server restart, which
  // the next attempt may not meet. Certificate and setup errors are not.
  case httplib::Error::Connection:
  case httplib::Error::Read:
  case httplib::Error::Write:
  case httplib::Error::ConnectionTimeout:
  case httplib::Error::SSLConnection:
    return true;
  default:
    return false;
  }
}

// Why an attempt failed, for the final error.
std::string failure_text(const http_outcome& out,
                         const google_client_options& options) {
  if (out.too_slow)
    return "no complete response within request_timeout_ms ("
           + std::to_string(options.request_timeout_ms) + " ms)";
  if (out.error != httplib::Error::Success)
    return "no response: " + httplib::to_string(out.error);
  return "HTTP " + std::to_string(out.status) + ": " + google_message(out.body);
}

// Retry-After as delta-seconds, capped; nullopt for an absent or
// HTTP-date value (the backoff applies then).
std::optional<int> retry_after_ms(std::string_view header, int cap_ms) {
  header = text::trim(header);
  if (header.empty() || header.size() > retry_after_digits_max)
    return std::nullopt;
  std::int64_t seconds = 0;
  for (char c : header) {
    if (c < '0' || c > '9')
      return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return static_cast<int>(std::min<std::int64_t>(seconds * 1000, cap_ms));
}

void check_options(const google_client_options& o) {
  auto require = [](bool ok, const char* why) {
    if (!ok)
      throw std::invalid_argument(std::string{"google_client_options: "}
                                  + why);
  };
  require(o.attempts_max >= 1 && o.attempts_max <= 100,
          "attempts_max must be 1..100");
  require(o.backoff_initial_ms >= 0, "backoff_initial_ms must be >= 0");
  require(o.backoff_max_ms >= o.backoff_initial_ms,
          "backoff_max_ms must be >= backoff_initial_ms");
  require(o.retry_after_max_ms >= 0, "retry_after_max_ms must be >= 0");
  require(o.request_timeout_ms >= 1, "request_timeout_ms must be >= 1");
  require(o.response_bytes_max >= 1, "response_bytes_max must be >= 1");
}

} // namespace

// -- the client ---------------------------------------------------------------

struct google_client::state {
  google_credentials credentials;
  google_client_options options;
  url_parts people;
  url_parts calendar;
  url_parts token;
  /// One client per origin, so paging reuses its connection (keep-alive).
  std::map<std::string, std::unique_ptr<httplib::Client>> clients;
  std::minstd_rand jitter{std::random_device{}()};
  /// When the access token is to be renewed; unset while unknown (a token
  /// from the caller), then a 401 tells.
  std::optional<steady::time_point> token_renew_at;
  int requests_made = 0;
  int retries_made = 0;
  int token_refreshes = 0;

  state(google_credentials creds, google_client_options opts)
    : credentials(std::move(creds)), options(std::move(opts)) {
    check_options(options);
    people = split_url(options.endpoints.people_base_url, "people_base_url");
    calendar
      = split_url(options.endpoints.calendar_base_url, "calendar_base_url");
    token = split_url(options.endpoints.token_url, "token_url");
    if (token.path.empty())
      token.path = "/";
    if (!options.sleep)
      options.sleep = [](int ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      };
  }

  httplib::Client& client_for(const std::string& origin) {
    auto it = clients.find(origin);
    if (it != clients.end())
      return *it->second;
    auto client = std::make_unique<httplib::Client>(origin);
    if (!client->is_valid())
      throw google_error(0, origin, "cannot set up an HTTP client for "
                                      + origin);
    const auto timeout = std::chrono::milliseconds(options.request_timeout_ms);
    client->set_connection_timeout(timeout);
    client->set_read_timeout(timeout);
    client->set_write_timeout(timeout);
    client->set_keep_alive(true);
    // A redirect from an API endpoint is not expected; following one could
    // carry the bearer token to another host.
    client->set_follow_location(false);
    // Targets are percent-encoded here, exactly once.
    client->set_url_encode(false);
    client->enable_server_certificate_verification(true);
    if (!options.ca_cert_path.empty())
      client->set_ca_cert_path(options.ca_cert_path);
    return *clients.emplace(origin, std::move(client)).first->second;
  }

  http_outcome send_once(const http_request& r) {
    ++requests_made;
    http_outcome out;
    httplib::Request req;
    req.method = r.method;
    req.path = r.target;
    req.headers.emplace("Accept", "application/json");
    // Pages of JSON shrink several times over; httplib inflates them before
    // they reach the receiver below, so the size bound is on JSON bytes.
    req.headers.emplace("Accept-Encoding", "gzip");
    if (!r.authorization.empty()) {
      // The last line of defence: nothing that reaches the wire from here
      // can end the header line early.
      if (auto problem = header_value_problem(r.authorization))
        throw google_error(0, r.error_path,
                           r.label + ": refused to send the Authorization "
                                     "header: "
                             + *problem);
      req.headers.emplace("Authorization", r.authorization);
    }
    if (r.method == "POST") {
      req.body = r.body;
      req.headers.emplace("Content-Type", "application/x-www-form-urlencoded");
    }
    const auto deadline
      = steady::now() + std::chrono::milliseconds(options.request_timeout_ms);
    req.response_handler = [&](const httplib::Response& res) {
      out.status = res.status;
      out.retry_after = res.get_header_value("Retry-After");
      return true;
    };
    req.content_receiver = [&](const char* data, std::size_t size,
                               std::uint64_t, std::uint64_t) {
      if (size > options.response_bytes_max - out.body.size()) {
        out.body_too_large = true;
        return false;
      }
      // A server trickling bytes just inside the read timeout would hold
      // the caller for ever; the whole exchange has the one bound.
      if (steady::now() > deadline) {
        out.too_slow = true;
        return false;
      }
      out.body.append(data, size);
      return true;
    };
    auto result = client_for(r.origin).send(req);
    out.error = out.body_too_large || out.too_slow ? httplib::Error::Success
                                                   : result.error();
    if (result) {
      out.status = result->status;
      out.retry_after = result->get_header_value("Retry-After");
    }
    return out;
  }

  int backoff_ms(int attempt) {
    std::int64_t base = options.backoff_initial_ms;
    for (int i = 1; i < attempt && base < options.backoff_max_ms; ++i)
      base *= 2;
    base = std::min<std::int64_t>(base, options.backoff_max_ms);
    if (base < 2)
      return static_cast<int>(base);
    std::uniform_int_distribution<std::int64_t> pick{base / 2, base};
    return static_cast<int>(pick(jitter));
  }

  // Sends `r`, repeating it after a 429, 5xx, connection failure or timeout
  // up to attempts_max times; returns any other response.
  http_outcome send_with_retries(const http_request& r) {
    for (int attempt = 1;; ++attempt) {
      auto out = send_once(r);
      if (out.body_too_large)
        throw google_error(out.status, r.error_path,
                           r.label + ": response body larger than "
                             "response_bytes_max ("
                             + std::to_string(options.response_bytes_max)
                             + " bytes)");
      if (!transient(out)) {
        if (out.error != httplib::Error::Success)
          throw google_error(0, r.error_path,
                             r.label + ": " + failure_text(out, options));
        return out;
      }
      if (attempt >= options.attempts_max)
        throw google_error(out.status, r.error_path,
                           r.label + ": gave up after "
                             + std::to_string(attempt) + " attempts; last: "
                             + failure_text(out, options));
      const int wait_ms
        = retry_after_ms(out.retry_after, options.retry_after_max_ms)
            .value_or(backoff_ms(attempt));
      ++retries_made;
      options.sleep(wait_ms);
    }
  }

  json parse_body(const http_outcome& out, const http_request& r) {
    auto fail = [&](const std::string& why) {
      return google_error(out.status, r.error_path, r.label + ": " + why);
    };
    if (json_too_deep(out.body, json_depth_max))
      throw fail("response nests deeper than " + std::to_string(json_depth_max)
                 + " levels");
    try {
      return json::parse(out.body);
    } catch (const json::parse_error& e) {
      throw fail("response is not JSON: "
                 + excerpt(e.what(), message_excerpt_bytes_max));
    }
  }

  void refresh_access_token() {
    const std::string& url = options.endpoints.token_url;
    http_request r;
    r.method = "POST";
    r.origin = token.origin;
    r.target = token.path;
    r.label = "POST " + url + " (access token refresh)";
    r.error_path = url;
    if (credentials.client_id.empty() || credentials.refresh_token.empty())
      throw google_error(0, url, r.label + ": the credentials have no "
                                   "client_id or refresh_token");
    r.body = encode_form({{"grant_type", "refresh_token"},
                          {"client_id", credentials.client_id},
                          {"client_secret", credentials.client_secret},
                          {"refresh_token", credentials.refresh_token}});
    auto out = send_with_retries(r);
    if (out.status != 200)
      throw google_error(out.status, url,
                         r.label + ": failed: HTTP "
                           + std::to_string(out.status) + ": "
                           + google_message(out.body));
    auto doc = parse_body(out, r);
    const json* access_token = doc.is_object() ? member(doc, "access_token")
                                               : nullptr;
    if (access_token == nullptr || !access_token->is_string()
        || access_token->get_ref<const std::string&>().empty())
      throw google_error(out.status, url,
                         r.label + ": the response has no access_token");
    // A token goes into a header line: one that is not a bearer token
    // (RFC 6750) could inject headers. It is not quoted: it may be real.
    if (!is_bearer_token(access_token->get_ref<const std::string&>()))
      throw google_error(out.status, url,
                         r.label + ": the access_token in the response is "
                                   "not a bearer token (RFC 6750 characters, "
                                   "at most "
                           + std::to_string(bearer_token_bytes_max)
                           + " bytes); refused");
    credentials.access_token = access_token->get<std::string>();
    token_renew_at.reset();
    const json* expires_in = member(doc, "expires_in");
    if (expires_in != nullptr && expires_in->is_number()) {
      const auto seconds = std::clamp<std::int64_t>(
        expires_in->get<std::int64_t>(), 0, token_lifetime_max_s);
      token_renew_at = steady::now() + std::chrono::seconds(seconds)
                       - token_expiry_margin;
    }
    ++token_refreshes;
  }

  // GET `path` (below `base`) with the access token, refreshing it first
  // when there is none or it is about to expire, and once more on a 401.
  http_outcome authorized_get(const url_parts& base, const std::string& path,
                              const std::string& query, http_request& r) {
    // A stored token that could not be a bearer token (a damaged
    // credentials file) is replaced rather than sent.
    if (credentials.access_token.empty()
        || !is_bearer_token(credentials.access_token)
        || (token_renew_at && steady::now() >= *token_renew_at))
      refresh_access_token();
    r.method = "GET";
    r.origin = base.origin;
    r.target = base.path + path + "?" + query;
    r.label = "GET " + base.path + path;
    r.error_path = base.path + path;
    r.authorization = "Bearer " + credentials.access_token;
    auto out = send_with_retries(r);
    if (out.status == 401) {
      // The token was revoked or expired early: one new token, one more
      // try. A second 401 is an error like any other 4xx.
      refresh_access_token();
      r.authorization = "Bearer " + credentials.access_token;
      out = send_with_retries(r);
    }
    return out;
  }

  [[noreturn]] void fail_status(const http_outcome& out,
                                const http_request& r) {
    throw google_error(out.status, r.error_path,
                       r.label + ": HTTP " + std::to_string(out.status) + ": "
                         + google_message(out.body));
  }

  // The page's top level: an object. Returns it parsed.
  json page_body(const http_outcome& out, const http_request& r) {
    if (out.status < 200 || out.status > 299)
      fail_status(out, r);
    auto doc = parse_body(out, r);
    if (!doc.is_object())
      throw google_error(out.status, r.error_path,
                         r.label + ": response is not a JSON object");
    return doc;
  }

  // A page-level string member ("nextPageToken"); another type is a
  // google_error since the whole sync depends on it.
  std::string page_string(const json& doc, const char* key,
                          const http_outcome& out, const http_request& r) {
    const json* value = member(doc, key);
    if (value == nullptr)
      return {};
    if (!value->is_string())
      throw google_error(out.status, r.error_path,
                         r.label + ": response member " + key
                           + " is not a string");
    return value->get<std::string>();
  }

  const json* page_items(const json& doc, const char* key,
                         const http_outcome& out, const http_request& r) {
    const json* items = member(doc, key);
    if (items != nullptr && !items->is_array())
      throw google_error(out.status, r.error_path,
                         r.label + ": response member " + key
                           + " is not an array");
    return items;
  }
};

namespace {

// -- people -------------------------------------------------------------------

void map_person(const json& item, people_page& page) {
  if (!item.is_object())
    throw bad_item{"person is not a JSON object"};
  auto resource_name = string_member(item, "resourceName");
  if (resource_name.empty())
    throw bad_item{"person has no resourceName"};
  if (const json* metadata = object_member(item, "metadata")) {
    const json* deleted = member(*metadata, "deleted");
    if (deleted != nullptr && !deleted->is_boolean())
      throw bad_item{"metadata.deleted is not a boolean"};
    if (deleted != nullptr && deleted->get<bool>()) {
      page.deleted_resource_names.push_back(std::move(resource_name));
      return;
    }
  }
  vcard card;
  card.uid = std::move(resource_name);
  card.revision = string_member(item, "etag");

  const auto names = object_array_member(item, "names");
  if (const json* name = primary_or_first(names)) {
    const std::string where = "names[]";
    card.given_name = string_member(*name, "givenName", where);
    card.family_name = string_member(*name, "familyName", where);
    card.formatted_name = string_member(*name, "displayName", where);
    if (card.formatted_name.empty())
      card.formatted_name = string_member(*name, "unstructuredName", where);
    if (card.formatted_name.empty()) {
      card.formatted_name = card.given_name;
      if (!card.family_name.empty())
        card.formatted_name
          += (card.formatted_name.empty() ? "" : " ") + card.family_name;
    }
  }

  card.emails
    = values_of(object_array_member(item, "emailAddresses"), "emailAddresses",
                "value");

  const auto phones = object_array_member(item, "phoneNumbers");
  for (std::size_t i = 0; i < phones.size(); ++i) {
    const auto where = element_where("phoneNumbers", i);
    auto value = string_member(*phones[i], "value", where);
    if (value.empty())
      value = string_member(*phones[i], "canonicalForm", where);
    if (!value.empty())
      card.phones.push_back(std::move(value));
  }

  const auto addresses = object_array_member(item, "addresses");
  for (std::size_t i = 0; i < addresses.size() && card.locality.empty(); ++i)
    card.locality
      = string_member(*addresses[i], "city", element_where("addresses", i));

  if (const json* bio = primary_or_first(object_array_member(item,
                                                             "biographies")))
    card.note = string_member(*bio, "value", "biographies[]");
  if (const json* org
      = primary_or_first(object_array_member(item, "organizations")))
    card.organization = string_member(*org, "name", "organizations[]");

  card.urls = values_of(object_array_member(item, "urls"), "urls", "value");

  const auto memberships = object_array_member(item, "memberships");
  const std::string_view group_prefix = "contactGroups/";
  for (std::size_t i = 0; i < memberships.size(); ++i) {
    const auto where = element_where("memberships", i);
    const json* group
      = object_member(*memberships[i], "contactGroupMembership", where);
    if (group == nullptr)
      continue;
    auto group_name = string_member(*group, "contactGroupResourceName",
                                    where + ".contactGroupMembership");
    if (group_name.compare(0, group_prefix.size(), group_prefix) == 0)
      group_name.erase(0, group_prefix.size());
    // Every contact is in myContacts, and starred is a flag, not a group
    // the user made: neither says anything as a category.
    if (group_name.empty() || group_name == "myContacts"
        || group_name == "starred")
      continue;
    card.categories.push_back(std::move(group_name));
  }
  page.people.push_back(std::move(card));
}

// -- events -------------------------------------------------------------------

struct event_time {
  std::int64_t unix_s = 0;
  bool all_day = false;
  std::string zone;
};

// start, end or originalStartTime; nullopt when absent or holding neither
// dateTime nor date.
std::optional<event_time> read_event_time(const json& event, const char* key) {
  const json* when = object_member(event, key);
  if (when == nullptr)
    return std::nullopt;
  event_time out;
  out.zone = string_member(*when, "timeZone", key);
  const auto date_time = string_member(*when, "dateTime", key);
  if (!date_time.empty()) {
    auto unix_s = parse_date_time(date_time);
    if (!unix_s)
      throw bad_item{std::string{key} + ".dateTime \""
                     + excerpt(date_time, 40) + "\" is not an RFC 3339 time"};
    out.unix_s = *unix_s;
    return out;
  }
  const auto date = string_member(*when, "date", key);
  if (!date.empty()) {
    auto unix_s = parse_date(date);
    if (!unix_s)
      throw bad_item{std::string{key} + ".date \"" + excerpt(date, 40)
                     + "\" is not a YYYY-MM-DD date"};
    out.unix_s = *unix_s;
    out.all_day = true;
    return out;
  }
  return std::nullopt;
}

bool is_utc_zone(const std::string& zone) {
  return zone == "UTC" || zone == "Etc/UTC" || zone == "GMT"
         || zone == "Etc/GMT";
}

void add_email(std::vector<std::string>& emails, const std::string& value) {
  // A value without '@' (Google shows some calendars' ids there) is not an
  // address anyone can be matched by.
  if (value.find('@') == std::string::npos
      || emails.size() >= attendees_max)
    return;
  auto email = ascii_lowercase(value);
  if (std::find(emails.begin(), emails.end(), email) == emails.end())
    emails.push_back(std::move(email));
}

calendar_event_item map_event(const json& item, std::size_t index) {
  if (!item.is_object())
    throw bad_item{"event is not a JSON object"};
  calendar_event_item event;
  event.position = index;
  event.external_id = string_member(item, "id");
  if (event.external_id.empty())
    throw bad_item{"event has no id"};
  event.series_id = string_member(item, "recurringEventId");
  if (event.series_id.empty())
    event.series_id = event.external_id;
  event.cancelled = string_member(item, "status") == "cancelled";
  event.busy = string_member(item, "transparency") != "transparent";
  event.summary = string_member(item, "summary");
  event.location = string_member(item, "location");

  auto start = read_event_time(item, "start");
  if (!start && event.cancelled)
    start = read_event_time(item, "originalStartTime");
  if (!start && !event.cancelled)
    throw bad_item{"event has no start (dateTime or date)"};
  if (start) {
    event.start_unix_s = start->unix_s;
    event.all_day = start->all_day;
    if (!is_utc_zone(start->zone))
      event.timezone = start->zone;
    auto end = read_event_time(item, "end");
    event.end_unix_s = end ? end->unix_s
                           : start->unix_s + (start->all_day ? 86400 : 0);
    event.end_unix_s = std::max(event.end_unix_s, event.start_unix_s);
  }

  for (const json* attendee : object_array_member(item, "attendees"))
    add_email(event.attendee_emails,
              string_member(*attendee, "email", "attendees[]"));
  if (const json* organizer = object_member(item, "organizer"))
    add_email(event.attendee_emails,
              string_member(*organizer, "email", "organizer"));
  return event;
}

} // namespace

google_client::google_client(google_credentials credentials,
                             google_client_options options)
  : state_(std::make_unique<state>(std::move(credentials),
                                   std::move(options))) {
  // nop
}

google_client::~google_client() = default;
google_client::google_client(google_client&&) noexcept = default;
google_client& google_client::operator=(google_client&&) noexcept = default;

people_page google_client::list_connections(const std::string& page_token,
                                            const std::string& sync_token,
                                            int page_size) {
  auto& s = *state_;
  query_params query{
    {"personFields", person_fields},
    {"pageSize",
     std::to_string(std::clamp(page_size, 1, people_page_size_max))},
    {"requestSyncToken", "true"}};
  if (!page_token.empty())
    query.emplace_back("pageToken", page_token);
  if (!sync_token.empty())
    query.emplace_back("syncToken", sync_token);
  http_request r;
  auto out = s.authorized_get(s.people, people_connections_path,
                              encode_form(query), r);
  // Google: "an error with a google.rpc.ErrorInfo with reason
  // EXPIRED_SYNC_TOKEN", sent as 400 FAILED_PRECONDITION; 410 is accepted
  // too, as Calendar's way of saying the same.
  if ((out.status == 400 || out.status == 410)
      && out.body.find("EXPIRED_SYNC_TOKEN") != std::string::npos)
    throw google_sync_token_expired(
      r.error_path, r.label + ": the sync token has expired (HTTP "
                      + std::to_string(out.status) + ": "
                      + google_message(out.body) + "); a full sync is needed");
  const auto doc = s.page_body(out, r);

  people_page page;
  page.next_page_token = s.page_string(doc, "nextPageToken", out, r);
  page.next_sync_token = s.page_string(doc, "nextSyncToken", out, r);
  if (const json* items = s.page_items(doc, "connections", out, r)) {
    for (std::size_t i = 0; i < items->size(); ++i) {
      const json& item = (*items)[i];
      try {
        map_person(item, page);
      } catch (const bad_item& e) {
        page.errors.push_back({i, e.reason, item_excerpt(item)});
      }
    }
  }
  return page;
}

events_page google_client::list_events(const std::string& calendar_id,
                                       const std::string& page_token,
                                       const std::string& sync_token,
                                       int page_size,
                                       std::int64_t time_min_unix_s,
                                       std::int64_t time_max_unix_s) {
  auto& s = *state_;
  if (calendar_id.empty())
    throw std::invalid_argument(
      "google_client::list_events: empty calendar id");
  query_params query{
    {"singleEvents", "true"},
    {"maxResults",
     std::to_string(std::clamp(page_size, 1, events_page_size_max))}};
  if (!page_token.empty())
    query.emplace_back("pageToken", page_token);
  if (!sync_token.empty()) {
    // Google refuses timeMin/timeMax with a sync token: the window is the
    // one of the full sync that issued it.
    query.emplace_back("syncToken", sync_token);
  } else {
    if (time_min_unix_s >= time_max_unix_s)
      throw std::invalid_argument(
        "google_client::list_events: time_min_unix_s "
        + std::to_string(time_min_unix_s) + " is not before time_max_unix_s "
        + std::to_string(time_max_unix_s));
    query.emplace_back(
      "timeMin", format_date_time_utc(time_min_unix_s, "time_min_unix_s"));
    query.emplace_back(
      "timeMax", format_date_time_utc(time_max_unix_s, "time_max_unix_s"));
  }
  http_request r;
  auto out = s.authorized_get(
    s.calendar, "/calendar/v3/calendars/" + percent_encode(calendar_id)
                  + "/events",
    encode_form(query), r);
  // 410 Gone (fullSyncRequired, updatedMinTooLongAgo): only a full sync
  // helps.
  if (out.status == 410)
    throw google_sync_token_expired(
      r.error_path, r.label + ": the sync token has expired (HTTP 410: "
                      + google_message(out.body) + "); a full sync is needed");
  const auto doc = s.page_body(out, r);

  events_page page;
  page.next_page_token = s.page_string(doc, "nextPageToken", out, r);
  page.next_sync_token = s.page_string(doc, "nextSyncToken", out, r);
  if (const json* items = s.page_items(doc, "items", out, r)) {
    for (std::size_t i = 0; i < items->size(); ++i) {
      const json& item = (*items)[i];
      try {
        page.events.push_back(map_event(item, i));
      } catch (const bad_item& e) {
        page.errors.push_back({i, e.reason, item_excerpt(item)});
      }
    }
  }
  return page;
}

const std::string& google_client::access_token() const {
  return state_->credentials.access_token;
}

int google_client::requests_made() const {
  return state_->requests_made;
}

int google_client::retries_made() const {
  return state_->retries_made;
}

int google_client::token_refreshes() const {
  return state_->token_refreshes;
}

} // namespace catchup
