// RESP reply writing (shmkv-protocol(7), RESP): the reply types of RESP2,
// and after HELLO 3 the RESP3 forms of maps, nulls and verbatim text.
// Replies are appended to the connection's output buffer; nothing here does
// I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace shmkv::resp {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  // protocol is 2 or 3 (HELLO); it changes how maps and nulls are written.
  void set_protocol(int protocol) { protocol_ = protocol; }
  int protocol() const { return protocol_; }

  // simple writes +text; text must hold no "\r" or "\n".
  void simple(std::string_view text);
  // error writes -text (text begins with the error code, e.g. "ERR ...");
  // any "\r" or "\n" in it becomes a space, as Redis does.
  void error(std::string_view text);
  void integer(long long n);
  void bulk(std::string_view bytes);
  // verbatim writes text for a person to read (INFO): a bulk string in
  // RESP2, a verbatim string of format "txt" in RESP3, as Redis sends it.
  void verbatim(std::string_view text);
  // null is $-1 in RESP2 and _ in RESP3.
  void null();
  // null_array is *-1 in RESP2 and _ in RESP3.
  void null_array();
  void array(std::size_t count);
  // map opens a map of count pairs: %count in RESP3, an array of 2*count
  // elements in RESP2.
  void map(std::size_t count);

  std::string& buffer() { return out_; }

 private:
  void header(char type, long long n);

  std::string& out_;
  int protocol_ = 2;
};

}  // namespace shmkv::resp
