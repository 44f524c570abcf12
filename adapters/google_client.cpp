// SPDX-License-Identifier: Apache-2.0
#include "adapters/google_client.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "adapters/google_json.hpp"
#include "adapters/http_client.hpp"
#include "adapters/http_header_check.hpp"
#include "adapters/http_url.hpp"
#include "core/utf8.hpp"

namespace catchup {

namespace {

using namespace google_json;
using steady = std::chrono::steady_clock;
using query_params = std::vector<std::pair<std::string, std::string>>;

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
    "urls,memberships,birthdays,events,metadata";

// -- URLs ---------------------------------------------------------------------

bool is_ascii_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9');
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

// A base URL as the options give it: an http(s) URL (see parse_http_url)
// without query or fragment, its trailing slashes dropped, so API paths
// append to it. Throws std::invalid_argument naming the option (`what`) and
// the URL.
http_url base_url(const std::string& text, const char* what) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument(std::string{"google_client_options: "} + what
                                + " \"" + text + "\": " + why);
  };
  if (text.find_first_of("?#") != std::string::npos)
    fail("a base URL has no query or fragment");
  std::string problem;
  auto url = parse_http_url(text, problem);
  if (!url)
    fail(problem);
  while (!url->path.empty() && url->path.back() == '/')
    url->path.pop_back();
  return *url;
}

// -- HTTP ---------------------------------------------------------------------

// One request of the client, as its retries and error messages see it.
struct api_call {
  std::string method;
  /// The absolute URL as sent, query included.
  std::string url;
  /// Form body (POST).
  std::string body;
  /// "Bearer ..." or empty.
  std::string authorization;
  /// What error messages call it: "GET /v1/people/me/connections".
  std::string label;
  /// What google_error::path() says.
  std::string error_path;
};

bool transient(const http_result& out) {
  if (out.ok())
    return out.response.status == 429
           || (out.response.status >= 500 && out.response.status <= 599);
  switch (out.error.failure) {
  // No response, or a broken one: the network or a server restart, which
  // the next attempt may not meet. Certificate, policy and setup errors
  // are not.
  case http_failure::name_resolution:
  case http_failure::connect:
  case http_failure::tls_handshake:
  case http_failure::timeout:
  case http_failure::io:
    return true;
  default:
    return false;
  }
}

// Why an attempt failed, for the final error.
std::string failure_text(const http_result& out) {
  if (out.ok())
    return "HTTP " + std::to_string(out.response.status) + ": "
           + google_message(out.response.body);
  switch (out.error.failure) {
  case http_failure::name_resolution:
  case http_failure::connect:
  case http_failure::tls_handshake:
  case http_failure::tls_verification:
  case http_failure::io:
  case http_failure::other:
    return "no response: " + out.error.message;
  default:
    return out.error.message;
  }
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

// The shared client's limits, from the options: request_timeout_ms bounds
// connecting, each read and write, and each attempt as a whole.
http_client_params http_params_of(const google_client_options& o,
                                  const std::vector<http_url>& endpoints) {
  http_client_params p;
  p.connect_timeout_ms = o.request_timeout_ms;
  p.read_timeout_ms = o.request_timeout_ms;
  p.write_timeout_ms = o.request_timeout_ms;
  p.request_timeout_ms = o.request_timeout_ms;
  p.response_bytes_max = o.response_bytes_max;
  // A redirect from an API endpoint is not expected; following one could
  // carry the bearer token to another host.
  p.redirects_max = 0;
  p.ca_cert_path = o.ca_cert_path;
  p.destinations = o.destinations;
  // An endpoint configured as an address (a local test server or
  // emulator) is where its operator wants the requests to go, private or
  // not; a host name must still resolve to public addresses.
  for (const auto& url : endpoints)
    if (names_address_literally(url.host))
      p.destinations.private_hosts_allowed.push_back(url.host);
  return p;
}

} // namespace

// -- the client ---------------------------------------------------------------

struct google_client::state {
  google_credentials credentials;
  google_client_options options;
  http_url people;
  http_url calendar;
  http_url token;
  /// Every request goes through it; it keeps one connection per origin,
  /// so paging reuses its connection (keep-alive).
  std::optional<http_client> http;
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
    people = base_url(options.endpoints.people_base_url, "people_base_url");
    calendar
      = base_url(options.endpoints.calendar_base_url, "calendar_base_url");
    token = base_url(options.endpoints.token_url, "token_url");
    if (token.path.empty())
      token.path = "/";
    http.emplace(http_params_of(options, {people, calendar, token}));
    if (!options.sleep)
      options.sleep = [](int ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      };
  }

  http_result send_once(const api_call& r) {
    ++requests_made;
    http_request req;
    req.method = r.method;
    req.url = r.url;
    req.headers.emplace_back("Accept", "application/json");
    // Pages of JSON shrink several times over; the client inflates them
    // before counting, so the size bound is on JSON bytes.
    req.headers.emplace_back("Accept-Encoding", "gzip");
    if (!r.authorization.empty())
      req.headers.emplace_back("Authorization", r.authorization);
    if (r.method == "POST") {
      req.body = r.body;
      req.headers.emplace_back("Content-Type",
                               "application/x-www-form-urlencoded");
    }
    return http->send(req);
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
  http_response send_with_retries(const api_call& r) {
    for (int attempt = 1;; ++attempt) {
      auto out = send_once(r);
      if (!transient(out)) {
        if (!out.ok())
          throw google_error(out.error.status, r.error_path,
                             r.label + ": " + failure_text(out));
        return std::move(out.response);
      }
      if (attempt >= options.attempts_max)
        throw google_error(out.ok() ? out.response.status : out.error.status,
                           r.error_path,
                           r.label + ": gave up after "
                             + std::to_string(attempt) + " attempts; last: "
                             + failure_text(out));
      const auto retry_after
        = out.ok() ? out.response.header("Retry-After") : std::string{};
      const int wait_ms = retry_after_ms(retry_after, options.retry_after_max_ms)
                            .value_or(backoff_ms(attempt));
      ++retries_made;
      options.sleep(wait_ms);
    }
  }

  json parse_body(const http_response& out, const api_call& r) {
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
    api_call r;
    r.method = "POST";
    r.url = token.origin() + token.path;
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
  http_response authorized_get(const http_url& base, const std::string& path,
                              const std::string& query, api_call& r) {
    // A stored token that could not be a bearer token (a damaged
    // credentials file) is replaced rather than sent.
    if (credentials.access_token.empty()
        || !is_bearer_token(credentials.access_token)
        || (token_renew_at && steady::now() >= *token_renew_at))
      refresh_access_token();
    r.method = "GET";
    r.url = base.origin() + base.path + path + "?" + query;
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

  [[noreturn]] void fail_status(const http_response& out,
                                const api_call& r) {
    throw google_error(out.status, r.error_path,
                       r.label + ": HTTP " + std::to_string(out.status) + ": "
                         + google_message(out.body));
  }

  // The page's top level: an object. Returns it parsed.
  json page_body(const http_response& out, const api_call& r) {
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
                          const http_response& out, const api_call& r) {
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
                         const http_response& out, const api_call& r) {
    const json* items = member(doc, key);
    if (items != nullptr && !items->is_array())
      throw google_error(out.status, r.error_path,
                         r.label + ": response member " + key
                           + " is not an array");
    return items;
  }
};

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
  api_call r;
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
  api_call r;
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
