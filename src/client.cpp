#include "shmkv/client.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>
#include <iterator>

#include "shmkv/frame.hpp"
#include "shmkv/json.hpp"
#include "shmkv/net.hpp"

namespace shmkv::client {

namespace od = simdjson::ondemand;

Status Client::connect(const Endpoint& endpoint, std::unique_ptr<Client>* out) {
  int fd = -1;
  if (Status s = net::connect_tcp(endpoint.host, endpoint.port, endpoint.timeout_ms, &fd); !s) return s;
  out->reset(new Client(fd, net::format_address(endpoint.host, endpoint.port)));
  return Status::ok();
}

Client::~Client() { close(fd_); }

namespace {

// read_exactly reads n bytes into out, failing on end of stream or timeout.
Status read_exactly(int fd, char* out, std::size_t n, const std::string& where) {
  while (n > 0) {
    const ssize_t got = recv(fd, out, n, 0);
    if (got > 0) {
      out += got;
      n -= static_cast<std::size_t>(got);
    } else if (got == 0) {
      return Status::io(fmt::format("{} closed the connection before replying in full", where));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return Status::timeout(fmt::format("no reply from {} in time", where));
    } else if (errno != EINTR) {
      return Status::io(errno_text("read from " + where, errno));
    }
  }
  return Status::ok();
}

}  // namespace

Status Client::roundtrip(std::string* reply) {
  if (Status s = net::send_all(fd_, request_.data(), request_.size()); !s)
    return Status(s.code() == Status::Code::kTimeout ? Status::timeout("write to " + where_ + " timed out")
                                                     : Status::io(where_ + ": " + s.message()));
  char header[frame::kHeaderSize];
  if (Status s = read_exactly(fd_, header, sizeof header, where_); !s) return s;
  const frame::Header h = frame::read_header(header);
  if (h.version != frame::kVersionPersistent || h.length < 0)
    return Status::io(fmt::format("{} broke the protocol: reply header has version {} and length {}", where_,
                                  h.version, h.length));
  const auto length = static_cast<std::size_t>(h.length);
  reply->resize(length);
  reply->reserve(length + simdjson::SIMDJSON_PADDING);
  return read_exactly(fd_, reply->data(), length, where_);
}

Status Client::call(std::string_view func, std::string_view params, std::string* reply) {
  request_.clear();
  const std::size_t header = frame::begin(request_, frame::kVersionPersistent);
  fmt::format_to(std::back_inserter(request_), R"({{"func": {}, "params": {}}})", json::Quoted{func}, params);
  frame::finish(request_, header);
  return roundtrip(reply);
}

Status Client::result(std::string& reply, od::document* doc, od::value* out) {
  const Status bad = Status::io(fmt::format("{} sent a reply that is not shmkv's: {:.200}", where_, reply));
  if (parser_.iterate(reply.data(), reply.size(), reply.capacity()).get(*doc)) return bad;
  std::string_view status;
  if ((*doc)["status"].get_string().get(status)) return bad;
  if (status != "OK") {
    std::string_view message;
    if ((*doc)["error"].get_string().get(message)) message = "(no message)";
    return Status::server(std::string(message));
  }
  if ((*doc)["response"]["response"].get(*out)) return bad;
  return Status::ok();
}

Status Client::get(std::string_view key, std::string* value) {
  std::string params;
  fmt::format_to(std::back_inserter(params), R"({{"obj": {}}})", json::Quoted{key});
  std::string reply;
  if (Status s = call("GET", params, &reply); !s) return s;
  od::document doc;
  od::value response;
  if (Status s = result(reply, &doc, &response); !s) return s;
  od::value val;
  std::string_view text;
  if (response["val"].get(val) || json::raw_text(val, &text))
    return Status::io(fmt::format("{} sent a GET reply without a value: {:.200}", where_, reply));
  if (text == "null") return Status::not_found(fmt::format("{} is not set", json::Quoted{key}));
  value->assign(text);
  return Status::ok();
}

Status Client::put(std::string_view key, std::string_view value) {
  if (Status s = json::check_value(value); !s) return s;
  std::string params;
  fmt::format_to(std::back_inserter(params), R"({{"obj": {}, "val": {}}})", json::Quoted{key}, value);
  std::string reply;
  if (Status s = call("PUT", params, &reply); !s) return s;
  od::document doc;
  od::value response;
  return result(reply, &doc, &response);
}

}  // namespace shmkv::client
