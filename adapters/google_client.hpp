// SPDX-License-Identifier: Apache-2.0
#pragma once

// A blocking client for the two Google APIs that contact and calendar sync
// read: People `people.connections.list` and Calendar `events.list`. It
// produces the same records as the file importers (`vcard`,
// `calendar_event_item`), so a Google sync merges into storage like an
// import. Every call blocks; the sync actor runs it in a detached actor, and
// every wait is bounded (timeouts, attempts, backoff, Retry-After, body size).
//
// Not thread-safe: one client per sync actor. Every request, token
// refreshes included, goes through the engine's one outbound HTTP client
// (`http_client.hpp`): HTTPS with certificate and host name verification
// against the system's CA bundle, no redirects followed, and no
// destination in a loopback or private range unless allowed. Plain
// http:// base URLs are accepted for tests against a local server,
// production must use https://.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "adapters/http_destination.hpp"
#include "core/calendar_event.hpp"
#include "formats/vcard.hpp"

namespace catchup {

/// Where the APIs live: scheme, host, optional port and optional path
/// prefix, without a trailing slash. Tests point them at a local server.
struct google_endpoints {
  std::string people_base_url = "https://people.googleapis.com";
  std::string calendar_base_url = "https://www.googleapis.com";
  std::string token_url = "https://oauth2.googleapis.com/token";
};

/// An OAuth 2.0 client and a user's grant. `access_token` may be empty: the
/// client refreshes one before the first request.
struct google_credentials {
  std::string client_id;
  std::string client_secret;
  std::string refresh_token;
  std::string access_token;
};

/// Limits and hooks of one client. The constructor throws
/// std::invalid_argument for a value out of range.
struct google_client_options {
  google_endpoints endpoints;
  /// Attempts of one request, the first included (1..100), for 429, 5xx,
  /// connection failures and timeouts.
  int attempts_max = 5;
  /// The first backoff; it doubles per attempt up to `backoff_max_ms`, and
  /// each wait is drawn from [half, all] of it (jitter), so many clients
  /// throttled at once do not come back at once.
  int backoff_initial_ms = 500;
  int backoff_max_ms = 32000;
  /// A Retry-After header (delta-seconds) is obeyed instead of the backoff,
  /// but never for longer than this.
  int retry_after_max_ms = 60000;
  /// Bounds connecting, each read and each write, and each attempt as a
  /// whole (the connection is cut at the deadline, so a server that stalls
  /// or trickles bytes just inside the read timeout is cut off too; such an
  /// attempt is retried).
  int request_timeout_ms = 30000;
  /// Bytes of one response body, after decompression; a larger one is a
  /// google_error, never retried.
  std::size_t response_bytes_max = 64 << 20;
  /// A PEM bundle of trusted CAs; empty: OpenSSL's default paths, which are
  /// the system's bundle (Debian: /etc/ssl/certs).
  std::string ca_cert_path;
  /// Where requests may go. Besides what this allows, an endpoint whose
  /// host is written as an address (127.0.0.1, [::1]) or is localhost may
  /// be in a private range: whoever configured it chose it. A host name,
  /// such as the default endpoints', must resolve to public addresses.
  http_destination_policy destinations;
  /// Waits between attempts (default: std::this_thread::sleep_for); tests
  /// record the waits instead of sleeping.
  std::function<void(int ms)> sleep;
};

/// An item of a page that could not be mapped; the rest of the page is kept.
struct google_item_error {
  /// The item's index within its page (0-based).
  std::size_t item = 0;
  std::string reason;
  /// At most 60 bytes of the item's JSON, printable (see
  /// `printable_excerpt`), so it can go to a log as is.
  std::string excerpt;
};

/// One page of `people.connections.list`.
struct people_page {
  /// uid = resourceName ("people/c123"), revision = etag; see
  /// `google_client::list_connections` for the other fields.
  std::vector<vcard> people;
  /// resourceNames of people deleted since the sync token (incremental sync
  /// only).
  std::vector<std::string> deleted_resource_names;
  /// Empty on the last page.
  std::string next_page_token;
  /// Set on the last page only: the token of the next incremental sync.
  std::string next_sync_token;
  std::vector<google_item_error> errors;
};

/// One page of Calendar `events.list` (singleEvents=true).
struct events_page {
  /// `position` is the item's index within the page.
  std::vector<calendar_event_item> events;
  std::string next_page_token;
  std::string next_sync_token;
  std::vector<google_item_error> errors;
};

/// The sync token was refused as expired (People: HTTP 400 with reason
/// EXPIRED_SYNC_TOKEN; Calendar: HTTP 410). The caller drops its token and
/// does a full sync. Not a google_error, so catching google_error does not
/// swallow it.
class google_sync_token_expired : public std::runtime_error {
public:
  google_sync_token_expired(const std::string& path, const std::string& what)
    : std::runtime_error(what), path_(path) {
    // nop
  }
  /// The URL path of the request, without its query.
  const std::string& path() const noexcept {
    return path_;
  }

private:
  std::string path_;
};

/// A request that failed for good: an HTTP error other than the retried
/// ones, retries used up, a failed token refresh, a body too large, not
/// JSON or not of the expected shape. what() says which request (method and
/// URL path, never the query or a token), the status and Google's message.
class google_error : public std::runtime_error {
public:
  google_error(int status, const std::string& path, const std::string& what)
    : std::runtime_error(what), status_(status), path_(path) {
    // nop
  }
  /// The last HTTP status; 0 when no response came (connection, timeout).
  int status() const noexcept {
    return status_;
  }
  /// The URL path of the request (for the token endpoint: its URL).
  const std::string& path() const noexcept {
    return path_;
  }

private:
  int status_;
  std::string path_;
};

/// The client. Each list call is one page: the caller loops while
/// `next_page_token` is not empty, then keeps `next_sync_token` for the next
/// incremental sync. Calls throw google_sync_token_expired, google_error, or
/// std::invalid_argument for bad arguments; a bad item only lands in the
/// page's `errors`.
///
/// Movable, not copyable; a moved-from client may only be destroyed or
/// assigned to.
class google_client {
public:
  google_client(google_credentials credentials, google_client_options options);
  ~google_client();
  google_client(google_client&&) noexcept;
  google_client& operator=(google_client&&) noexcept;
  google_client(const google_client&) = delete;
  google_client& operator=(const google_client&) = delete;

  /// GET {people}/v1/people/me/connections with personFields = names,
  /// emailAddresses, phoneNumbers, addresses, biographies, organizations,
  /// urls, memberships, metadata; requestSyncToken=true; `page_size`
  /// clamped to 1..1000; `page_token` and `sync_token` sent when not empty.
  ///
  /// Mapping: formatted_name = the primary (else first) name's displayName,
  /// else its unstructuredName, else given and family name; emails, phones
  /// (value, else canonicalForm) and urls from their `value`s; locality =
  /// the first non-empty address city; note = the primary (else first)
  /// biography; organization = the primary (else first) organisation's
  /// name; categories = contact group ids (the part after
  /// "contactGroups/") of the memberships, without the implicit "myContacts"
  /// and "starred"; user groups come as ids, which the caller maps to names
  /// if it wants them. `first_line` stays 0. A person with metadata.deleted
  /// goes to `deleted_resource_names`.
  people_page list_connections(const std::string& page_token,
                               const std::string& sync_token, int page_size);

  /// GET {calendar}/calendar/v3/calendars/{calendar_id}/events with
  /// singleEvents=true and maxResults = `page_size` clamped to 1..2500.
  /// Without a sync token the window [time_min, time_max) goes as timeMin
  /// and timeMax (RFC 3339, UTC; time_min < time_max, else
  /// std::invalid_argument); with one they are left out, as Google requires.
  ///
  /// Mapping: external_id = Google's id; for an instance of a recurring
  /// event that is Google's instance id ("<series>_<original start>"),
  /// which already stays the same when the instance moves, so it is used
  /// as is rather than rebuilt as "<series>/<start>". series_id =
  /// recurringEventId, else the id. start/end from dateTime (any offset),
  /// or from date for an all-day event (midnight UTC; Google's end date is
  /// exclusive, as calendar_event_item's is); a missing end equals the
  /// start (one day for all-day) and an end before the start is moved to
  /// it. timezone = start.timeZone, empty for UTC. busy = transparency is
  /// not "transparent"; cancelled = status "cancelled" (such an item may
  /// hold only id and status: its times are then originalStartTime's, or
  /// 0). attendee_emails = attendees' then the organiser's e-mail, lower
  /// case, without duplicates or values without '@', at most
  /// `attendees_max`.
  events_page list_events(const std::string& calendar_id,
                          const std::string& page_token,
                          const std::string& sync_token, int page_size,
                          std::int64_t time_min_unix_s,
                          std::int64_t time_max_unix_s);

  /// The current access token, so the caller can persist a refreshed one.
  const std::string& access_token() const;

  /// HTTP requests sent (every attempt, token refreshes included).
  int requests_made() const;
  /// Attempts repeated after a 429, 5xx, connection failure or timeout.
  int retries_made() const;
  /// Access tokens obtained from the token endpoint.
  int token_refreshes() const;

private:
  struct state;
  std::unique_ptr<state> state_;
};

} // namespace catchup
