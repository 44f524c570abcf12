#include "adapters/http_header_check.hpp"

namespace catchup {

std::optional<std::string> header_value_problem(std::string_view value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '\t')
      continue;
    if (c < 0x20 || c == 0x7f) {
      const char* what = c == '\r'   ? "a carriage return"
                         : c == '\n' ? "a line feed"
                         : c == 0    ? "a NUL byte"
                                     : "a control character";
      return std::string{"the value holds "} + what + " at byte "
             + std::to_string(i);
    }
  }
  return std::nullopt;
}

std::optional<std::string> header_name_problem(std::string_view name) {
  if (name.empty())
    return std::string{"the name is empty"};
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool token = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
                       || (c >= '0' && c <= '9')
                       || std::string_view{"!#$%&'*+-.^_`|~"}.find(c)
                            != std::string_view::npos;
    if (!token)
      return "the name holds a character that is not a token character at "
             "byte "
             + std::to_string(i);
  }
  return std::nullopt;
}

bool is_bearer_token(std::string_view token) {
  if (token.empty() || token.size() > bearer_token_bytes_max)
    return false;
  std::size_t i = 0;
  auto token68 = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
           || c == '~' || c == '+' || c == '/';
  };
  while (i < token.size() && token68(token[i]))
    ++i;
  if (i == 0)
    return false;
  while (i < token.size() && token[i] == '=')
    ++i;
  return i == token.size();
}

} // namespace catchup
