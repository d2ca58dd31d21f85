// Status: the error value that crosses every module boundary in shmkv.
// A Status is either ok or a code with a one-line message meant for a human;
// "not found" is a code, not a failure, as callers branch on it.
#pragma once

#include <string>
#include <utility>

namespace shmkv {

class Status {
 public:
  enum class Code { kOk, kNotFound, kInvalid, kFull, kIo, kCorrupt, kTimeout, kServer, kBusy };

  Status() = default;

  static Status ok() { return Status(); }
  static Status not_found(std::string msg = "not found") { return {Code::kNotFound, std::move(msg)}; }
  static Status invalid(std::string msg) { return {Code::kInvalid, std::move(msg)}; }
  static Status full(std::string msg = "store is full") { return {Code::kFull, std::move(msg)}; }
  static Status io(std::string msg) { return {Code::kIo, std::move(msg)}; }
  static Status corrupt(std::string msg) { return {Code::kCorrupt, std::move(msg)}; }
  static Status timeout(std::string msg) { return {Code::kTimeout, std::move(msg)}; }
  static Status busy(std::string msg) { return {Code::kBusy, std::move(msg)}; }
  // server: the server answered {"status": "ERROR", "error": msg}.
  static Status server(std::string msg) { return {Code::kServer, std::move(msg)}; }

  bool is_ok() const { return code_ == Code::kOk; }
  explicit operator bool() const { return is_ok(); }
  Code code() const { return code_; }
  bool is_not_found() const { return code_ == Code::kNotFound; }
  const std::string& message() const { return message_; }

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

// errno_text returns "what: strerror(err)", the one place errno becomes text.
std::string errno_text(const std::string& what, int err);

}  // namespace shmkv
