// SPDX-License-Identifier: Apache-2.0
#include "config/logging.hpp"

#include <chrono>
#include <ctime>
#include <memory>

#include <nlohmann/json.hpp>
#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace catchup::config {

namespace {

// spdlog 1.10 has no JSON output, and its pattern flags do not escape the
// payload, so a quote or newline in a message would break the line. This
// formatter builds each record with nlohmann-json instead.
class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    using namespace std::chrono;
    auto since_epoch = msg.time.time_since_epoch();
    auto secs = duration_cast<seconds>(since_epoch);
    auto millis = duration_cast<milliseconds>(since_epoch - secs).count();
    std::time_t t = secs.count();
    std::tm utc{};
    gmtime_r(&t, &utc);
    char stamp[40];
    auto n = std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(stamp + n, sizeof(stamp) - n, ".%03dZ",
                  static_cast<int>(millis));
    nlohmann::json record;
    record["ts"] = stamp;
    auto level = spdlog::level::to_string_view(msg.level);
    record["level"] = std::string(level.data(), level.size());
    record["logger"] = std::string(msg.logger_name.data(),
                                   msg.logger_name.size());
    record["msg"] = std::string(msg.payload.data(), msg.payload.size());
    record["thread"] = msg.thread_id;
    // Invalid UTF-8 in a message must not make the record unprintable.
    auto text = record.dump(-1, ' ', false,
                            nlohmann::json::error_handler_t::replace);
    text += '\n';
    dest.append(text.data(), text.data() + text.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

} // namespace

void setup_logging(const log_settings& log) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (log.format == "json")
    sink->set_formatter(std::make_unique<json_formatter>());
  else
    sink->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  auto logger = std::make_shared<spdlog::logger>("catchup", sink);
  logger->set_level(spdlog::level::from_str(log.level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

} // namespace catchup::config
