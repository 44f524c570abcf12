// One check for every value the engine puts into an outgoing HTTP header.
// A value that came from a peer (an OAuth token response, a stored
// credential) could carry CR/LF and so smuggle headers or a second request
// into the connection; every HTTP client of the engine passes its header
// values through here before sending.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace catchup {

/// Longest bearer token accepted. Google's are about 200 bytes; the bound
/// keeps a hostile token endpoint from making every request huge.
inline constexpr std::size_t bearer_token_bytes_max = 4096;

/// Why `value` cannot be sent as a header value (CR, LF, NUL or another
/// control character other than horizontal tab, at byte N), or nothing when
/// it can. Never quotes the value: it may be a secret.
std::optional<std::string> header_value_problem(std::string_view value);

/// Why `name` cannot be sent as a header name (empty, or a character
/// other than RFC 9110's token characters, at byte N), or nothing when it
/// can.
std::optional<std::string> header_name_problem(std::string_view name);

/// True when `token` is a bearer token as RFC 6750 section 2.1 allows:
/// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", at most
/// bearer_token_bytes_max bytes.
bool is_bearer_token(std::string_view token);

} // namespace catchup
