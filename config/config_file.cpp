// SPDX-License-Identifier: Apache-2.0
#include "config/config_file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "config/config.hpp"

namespace catchup::config {

namespace {

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

[[noreturn]] void fail(const std::string& file, std::size_t line,
                       const std::string& why) {
  throw config_error(file + ":" + std::to_string(line) + ": " + why);
}

// Parses the value part of a line: a quoted string with escapes, or a bare
// word that ends at a comment.
std::string parse_value(const std::string& raw, const std::string& file,
                        std::size_t line) {
  auto text = trim(raw);
  if (text.empty() || text[0] != '"') {
    // A bare value ends at " #" or " ;" so comments may follow it.
    for (std::size_t i = 1; i < text.size(); ++i)
      if ((text[i] == '#' || text[i] == ';')
          && (text[i - 1] == ' ' || text[i - 1] == '\t'))
        return trim(text.substr(0, i));
    return text;
  }
  std::string out;
  std::size_t i = 1;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"')
      break;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == text.size())
      fail(file, line, "unterminated escape sequence in quoted value");
    switch (text[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      default:
        fail(file, line,
             std::string{"unknown escape sequence \\"} + text[i]
               + " in quoted value (use \\\" \\\\ \\n or \\t)");
    }
  }
  if (i >= text.size())
    fail(file, line, "missing closing quote");
  auto rest = trim(text.substr(i + 1));
  if (!rest.empty() && rest[0] != '#' && rest[0] != ';')
    fail(file, line, "unexpected text after closing quote: " + rest);
  return out;
}

} // namespace

std::vector<file_value> parse_config_text(std::istream& in,
                                          const std::string& file_name) {
  std::vector<file_value> result;
  std::map<std::string, std::size_t> first_line;
  std::string section;
  std::string raw;
  std::size_t line = 0;
  while (std::getline(in, raw)) {
    ++line;
    // A UTF-8 byte order mark at the start of the file is not content.
    if (line == 1 && raw.rfind("\xEF\xBB\xBF", 0) == 0)
      raw.erase(0, 3);
    auto text = trim(raw);
    if (text.empty() || text[0] == '#' || text[0] == ';')
      continue;
    if (text[0] == '[') {
      auto close = text.find(']');
      if (close == std::string::npos)
        fail(file_name, line, "missing ']' in section header");
      section = trim(text.substr(1, close - 1));
      auto rest = trim(text.substr(close + 1));
      if (!rest.empty() && rest[0] != '#' && rest[0] != ';')
        fail(file_name, line, "unexpected text after section header: " + rest);
      for (char c : section)
        if (!is_key_char(c))
          fail(file_name, line, "invalid section name [" + section + "]");
      continue;
    }
    auto eq = text.find('=');
    if (eq == std::string::npos)
      fail(file_name, line, "expected 'key = value', got: " + text);
    auto key = trim(text.substr(0, eq));
    if (key.empty())
      fail(file_name, line, "missing key before '='");
    for (char c : key)
      if (!is_key_char(c))
        fail(file_name, line, "invalid key name '" + key + "'");
    auto full_key = section.empty() ? key : section + "." + key;
    auto value = parse_value(text.substr(eq + 1), file_name, line);
    auto [pos, inserted] = first_line.emplace(full_key, line);
    if (!inserted)
      fail(file_name, line,
           "key " + full_key + " is set twice (first on line "
             + std::to_string(pos->second) + ")");
    result.push_back(file_value{full_key, value, line});
  }
  return result;
}

std::vector<file_value> parse_config_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw config_error("cannot read config file " + path + ": "
                       + std::strerror(errno));
  return parse_config_text(in, path);
}

} // namespace catchup::config
