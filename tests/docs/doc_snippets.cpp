// SPDX-License-Identifier: Apache-2.0
// Compiles every C++ block of the given Markdown files, so the examples in
// the documentation cannot drift from the public API. Each ```cpp (or
// ```c++) block becomes a translation unit of its own, checked by the
// compiler and flags given after "--"; a failure names the file and line
// of the block, and #line directives make the compiler's own messages
// point into the Markdown file too.
//
//   catchup-doc-snippets ROOT OUT_DIR PATH... -- COMPILER [FLAG...]
//
// PATH is a Markdown file or a directory (its *.md files), relative to
// ROOT. A block is compiled as it stands - a complete program, or
// declarations - unless an HTML comment right before it gives the code
// around it:
//
//   <!-- compiled inside:
//   void show(const std::string& name);
//   void example(catchup::engine& eng) {
//     SNIPPET
//   }
//   -->
//
// The block replaces the line SNIPPET; its #include lines go first, so a
// block may include what its surroundings use.

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

constexpr const char* context_opening = "<!-- compiled inside:";
constexpr const char* context_closing = "-->";
constexpr const char* snippet_marker = "SNIPPET";

struct usage_error {
  std::string what;
};

/// One C++ block and what surrounds it.
struct snippet {
  /// As given on the command line, relative to the root: what messages name.
  std::string file;
  /// 1-based line of the opening fence.
  std::size_t fence_line = 0;
  std::vector<std::string> lines;
  /// The comment's lines before and after SNIPPET, and where they start.
  std::vector<std::string> before;
  std::vector<std::string> after;
  std::size_t before_line = 0;
  std::size_t after_line = 0;
};

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos)
    return {};
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool is_include(const std::string& line) {
  return starts_with(trim(line), "#include");
}

/// Reads the C++ blocks of one Markdown file; a malformed context comment
/// is a usage_error naming its line.
std::vector<snippet> read_snippets(const fs::path& path,
                                   const std::string& name) {
  std::ifstream in{path};
  if (!in)
    throw usage_error{"cannot read " + path.string()};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  std::vector<snippet> out;
  std::optional<snippet> context; // the comment just read, waiting for a block
  auto where = [&](std::size_t i) {
    return name + ":" + std::to_string(i + 1);
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string text = trim(lines[i]);
    if (starts_with(text, context_opening)) {
      snippet s;
      bool in_after = false;
      s.before_line = i + 2;
      for (++i; i < lines.size() && trim(lines[i]) != context_closing; ++i) {
        if (trim(lines[i]) == snippet_marker) {
          if (in_after)
            throw usage_error{where(i) + ": a second " + snippet_marker};
          in_after = true;
          s.after_line = i + 2;
        } else {
          (in_after ? s.after : s.before).push_back(lines[i]);
        }
      }
      if (i == lines.size() || !in_after)
        throw usage_error{where(s.before_line - 2) + ": a context comment "
                          "needs a line " + snippet_marker + " and a line "
                          + context_closing};
      context = std::move(s);
      continue;
    }
    if (!starts_with(text, "```")) {
      if (context && !text.empty())
        throw usage_error{where(i) + ": a context comment must be followed "
                          "by its C++ block"};
      continue;
    }
    const std::string info = trim(text.substr(3));
    const bool cpp = info == "cpp" || info == "c++";
    if (context && !cpp)
      throw usage_error{where(i) + ": a context comment must be followed "
                        "by a C++ block, not ```" + info};
    snippet s = context ? std::move(*context) : snippet{};
    context.reset();
    s.file = name;
    s.fence_line = i + 1;
    for (++i; i < lines.size() && trim(lines[i]) != "```"; ++i)
      s.lines.push_back(lines[i]);
    if (i == lines.size())
      throw usage_error{where(s.fence_line - 1) + ": the block never ends"};
    if (cpp)
      out.push_back(std::move(s));
  }
  if (context)
    throw usage_error{name + ": a context comment at the end of the file"};
  return out;
}

/// The translation unit of a block: its includes, the code before it, the
/// block, the code after it, each under a #line naming the Markdown file.
std::string translation_unit(const snippet& s) {
  std::ostringstream tu;
  auto line_directive = [&](std::size_t line) {
    tu << "#line " << line << " \"" << s.file << "\"\n";
  };
  line_directive(s.fence_line + 1);
  for (const auto& l : s.lines)
    tu << (is_include(l) ? l : std::string{}) << "\n";
  if (!s.before.empty()) {
    line_directive(s.before_line);
    for (const auto& l : s.before)
      tu << l << "\n";
  }
  line_directive(s.fence_line + 1);
  for (const auto& l : s.lines)
    tu << (is_include(l) ? std::string{} : l) << "\n";
  if (!s.after.empty()) {
    line_directive(s.after_line);
    for (const auto& l : s.after)
      tu << l << "\n";
  }
  return tu.str();
}

/// Runs the compiler on `source`; its exit code and what it printed.
std::pair<int, std::string> compile(const std::vector<std::string>& command,
                                    const fs::path& source,
                                    const fs::path& log) {
  std::vector<char*> argv;
  for (const auto& a : command)
    argv.push_back(const_cast<char*>(a.c_str()));
  std::string source_text = source.string();
  argv.push_back(source_text.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0)
    return {-1, "cannot fork"};
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    ::execvp(argv[0], argv.data());
    std::cerr << "cannot run " << argv[0] << "\n";
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    // interrupted: wait again
  }
  std::ifstream in{log};
  std::ostringstream output;
  output << in.rdbuf();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  return {code, output.str()};
}

/// The Markdown files a PATH argument names, relative to the root.
std::vector<std::string> markdown_files(const fs::path& root,
                                        const std::string& path) {
  if (!fs::is_directory(root / path))
    return {path};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(root / path))
    if (entry.is_regular_file() && entry.path().extension() == ".md")
      files.push_back((fs::path{path} / entry.path().filename()).string());
  std::sort(files.begin(), files.end());
  return files;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const auto dashes = std::find(args.begin(), args.end(), "--");
  if (args.size() < 3 || dashes == args.end() || dashes + 1 == args.end()
      || dashes - args.begin() < 3)
    throw usage_error{"usage: catchup-doc-snippets ROOT OUT_DIR PATH... -- "
                      "COMPILER [FLAG...]"};
  const fs::path root = args[0];
  const fs::path out_dir = args[1];
  const std::vector<std::string> command(dashes + 1, args.end());
  // Only this run's units: a block that moved leaves no stale one behind.
  fs::remove_all(out_dir);
  fs::create_directories(out_dir);

  std::size_t files = 0;
  std::size_t blocks = 0;
  std::size_t broken = 0;
  for (auto a = args.begin() + 2; a != dashes; ++a) {
    for (const auto& name : markdown_files(root, *a)) {
      ++files;
      for (const auto& s : read_snippets(root / name, name)) {
        ++blocks;
        std::string stem = name + "_" + std::to_string(s.fence_line);
        std::replace(stem.begin(), stem.end(), '/', '_');
        const fs::path source = out_dir / (stem + ".cpp");
        std::ofstream{source} << translation_unit(s);
        const auto [code, output] =
          compile(command, source, out_dir / (stem + ".log"));
        if (code == 0)
          continue;
        ++broken;
        std::cout << s.file << ":" << s.fence_line
                  << ": this C++ block does not compile (" << source.string()
                  << "):\n"
                  << output << "\n";
      }
    }
  }
  if (blocks == 0)
    throw usage_error{"no C++ block found in " + std::to_string(files)
                      + " files"};
  std::cout << blocks - broken << " of " << blocks << " C++ blocks in "
            << files << " files compile\n";
  return broken == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const usage_error& e) {
    std::cout << "catchup-doc-snippets: " << e.what << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cout << "catchup-doc-snippets: " << e.what() << "\n";
    return 2;
  }
}
