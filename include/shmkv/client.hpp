// The client library: one persistent version-2 connection to shmkvd, with
// typed calls for GET and PUT and a raw call for anything else. Every failure
// is a Status value (timeout, connection lost, server error, protocol
// violation); nothing here throws or exits.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "shmkv/status.hpp"

namespace shmkv::client {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4444;
  int timeout_ms = 5000;  // for connecting, and for each read or write; 0: none
};

class Client {
 public:
  static Status connect(const Endpoint& endpoint, std::unique_ptr<Client>* out);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // call sends {"func": func, "params": params} (params is JSON text) and sets
  // *reply to the reply body as received.
  Status call(std::string_view func, std::string_view params, std::string* reply);

  // get sets *value to the JSON text of the value under key; not found when
  // the server answers null (absent, or stored as null).
  Status get(std::string_view key, std::string* value);

  // put stores value (JSON text, which must be one valid JSON value) under key.
  Status put(std::string_view key, std::string_view value);

 private:
  Client(int fd, std::string where) : fd_(fd), where_(std::move(where)) {}
  Status roundtrip(std::string* reply);
  // result parses a reply body into its status and response.response; the
  // view is into parser_'s buffers.
  Status result(std::string& reply, simdjson::ondemand::document* doc, simdjson::ondemand::value* out);

  int fd_;
  std::string where_;  // "host:port", for messages
  std::string request_;
  simdjson::ondemand::parser parser_;
};

}  // namespace shmkv::client
