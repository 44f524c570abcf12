// SPDX-License-Identifier: Apache-2.0
// Reaching a node (actors/cluster.hpp): a TCP probe with a time limit, since
// CAF 0.17 connects without one, then CAF's remote_actor through TLS
// (caf::openssl) unless the cluster is insecure, in a detached connector
// per dial.
#include "actors/cluster_detail.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/openssl/all.hpp>

namespace catchup::cluster_detail {

// -- connecting: remote_actor blocks, so each attempt has its own thread --

std::string tcp_probe(const std::string& host, std::uint16_t port,
                      milliseconds limit) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    return std::string{"cannot resolve "} + host + ": " + ::gai_strerror(rc);
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard{found, ::freeaddrinfo};
  int fd = ::socket(found->ai_family, found->ai_socktype | SOCK_NONBLOCK,
                    found->ai_protocol);
  if (fd < 0)
    return std::string{"cannot open a socket: "} + std::strerror(errno);
  std::string why;
  if (::connect(fd, found->ai_addr, found->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      why = std::strerror(errno);
    } else {
      pollfd p{fd, POLLOUT, 0};
      int ready = ::poll(&p, 1, static_cast<int>(limit.count()));
      int err = 0;
      socklen_t len = sizeof err;
      if (ready == 0)
        why = "no answer to the connection within "
              + std::to_string(limit.count()) + " ms";
      else if (ready < 0
               || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        why = std::strerror(errno);
      else if (err != 0)
        why = std::strerror(err);
    }
  }
  ::close(fd);
  return why;
}

caf::behavior connector_actor(caf::event_based_actor* self, bool tls) {
  return {
    [=](atom::connect, const std::string& host,
        std::uint16_t port) -> caf::result<caf::strong_actor_ptr> {
      self->quit();
      if (auto why = tcp_probe(host, port, milliseconds(connect_timeout_ms));
          !why.empty())
        return caf::make_error(caf::sec::cannot_connect_to_node, why);
      auto& sys = self->home_system();
      auto node = tls ? caf::openssl::remote_actor<cluster_node_actor>(
                          sys, host, port)
                      : sys.middleman().remote_actor<cluster_node_actor>(
                          host, port);
      if (!node)
        return node.error();
      return caf::actor_cast<caf::strong_actor_ptr>(*node);
    },
  };
}

} // namespace catchup::cluster_detail
