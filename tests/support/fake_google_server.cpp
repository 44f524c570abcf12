// SPDX-License-Identifier: Apache-2.0
#include "tests/support/fake_google_server.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <httplib.h>

namespace catchup::test {

struct fake_google_server::state {
  httplib::Server server;
  int port = 0;
  std::thread thread;
  std::atomic<bool> listen_returned{false};
  mutable std::mutex mtx;
  std::map<std::pair<std::string, std::string>, std::deque<fake_response>>
    scripts;
  std::vector<recorded_request> requests;

  void handle(const httplib::Request& req, httplib::Response& res) {
    recorded_request rec;
    rec.method = req.method;
    rec.path = req.path;
    rec.target = req.target;
    rec.params.insert(req.params.begin(), req.params.end());
    rec.authorization = req.get_header_value("Authorization");
    for (const auto& header : req.headers)
      rec.header_names.push_back(header.first);
    rec.body = req.body;
    fake_response reply;
    {
      std::lock_guard<std::mutex> guard{mtx};
      requests.push_back(rec);
      auto it = scripts.find({req.method, req.path});
      if (it == scripts.end() || it->second.empty()) {
        reply.status = 404;
        reply.body = R"({"error": {"code": 404, "message": )"
                     R"("fake_google_server: nothing scripted for )"
                     + req.method + " " + req.path
                     + R"(", "status": "NOT_FOUND"}})";
      } else {
        reply = it->second.front();
        if (it->second.size() > 1)
          it->second.pop_front();
      }
    }
    res.status = reply.status;
    for (const auto& [name, value] : reply.headers)
      res.set_header(name, value);
    res.set_content(reply.body, reply.content_type);
  }
};

fake_google_server::fake_google_server() : state_(std::make_unique<state>()) {
  auto& st = *state_;
  auto handler = [&st](const httplib::Request& req, httplib::Response& res) {
    st.handle(req, res);
  };
  st.server.Get(".*", handler);
  st.server.Post(".*", handler);
  // Headers and body go out in two writes; without this, Nagle and the
  // client's delayed ACK add 40 ms to every keep-alive request.
  st.server.set_tcp_nodelay(true);
  // Bound (and listening) before the thread starts: a request made right
  // after construction waits in the backlog, it is never refused.
  st.port = st.server.bind_to_any_port("127.0.0.1");
  if (st.port <= 0)
    throw std::runtime_error("fake_google_server: cannot bind 127.0.0.1");
  st.thread = std::thread{[&st] {
    st.server.listen_after_bind();
    st.listen_returned = true;
  }};
  // stop() only works once the accept loop runs (httplib 0.11 has no
  // wait_until_ready): wait for it, so the destructor cannot hang.
  const auto deadline
    = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!st.server.is_running()) {
    if (st.listen_returned) {
      st.thread.join();
      throw std::runtime_error("fake_google_server: the accept loop ended");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      // The thread holds `st`; neither joining nor throwing is safe.
      std::fputs("fake_google_server: not serving after 10 s\n", stderr);
      std::abort();
    }
    std::this_thread::yield();
  }
}

fake_google_server::~fake_google_server() {
  state_->server.stop();
  if (state_->thread.joinable())
    state_->thread.join();
}

std::string fake_google_server::base_url() const {
  return "http://127.0.0.1:" + std::to_string(state_->port);
}

void fake_google_server::script(const std::string& method,
                                const std::string& path,
                                std::vector<fake_response> responses) {
  std::lock_guard<std::mutex> guard{state_->mtx};
  auto& queue = state_->scripts[{method, path}];
  for (auto& r : responses)
    queue.push_back(std::move(r));
}

std::vector<recorded_request> fake_google_server::requests() const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  return state_->requests;
}

std::vector<recorded_request>
fake_google_server::requests_to(const std::string& method,
                                const std::string& path) const {
  std::lock_guard<std::mutex> guard{state_->mtx};
  std::vector<recorded_request> out;
  for (const auto& r : state_->requests)
    if (r.method == method && r.path == path)
      out.push_back(r);
  return out;
}

} // namespace catchup::test
