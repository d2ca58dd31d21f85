#include "protocol/base64.hpp"

#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/binary_from_base64.hpp>
#include <boost/archive/iterators/transform_width.hpp>

#include <exception>

namespace shmkv::base64 {
namespace {

namespace it = boost::archive::iterators;

// Boost.Serialization's dataflow iterators do the mapping, 8 bits to 6 and
// back; they leave the padding, and the checks, to the caller.
using Encoder = it::base64_from_binary<it::transform_width<const char*, 6, 8>>;
using Decoder = it::transform_width<it::binary_from_base64<const char*>, 8, 6>;

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

}  // namespace

void append_encoded(std::string& out, std::string_view bytes) {
  out.append(Encoder(bytes.data()), Encoder(bytes.data() + bytes.size()));
  out.append((3 - bytes.size() % 3) % 3, '=');
}

Status decode(std::string_view text, std::string* out) {
  const Status bad = Status::invalid("not base64 (RFC 4648: the standard alphabet, padded with =)");
  out->clear();
  if (text.size() % 4 != 0) return bad;
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  const std::string_view body = text.substr(0, text.size() - padding);
  if (body.find_first_not_of(kAlphabet) != std::string_view::npos) return bad;
  // The decoder reads whole groups of 4; a padded group's "=" reads as zero
  // bits, and the bytes they make are dropped.
  try {
    out->assign(Decoder(text.data()), Decoder(text.data() + text.size()));
  } catch (const std::exception&) {
    return bad;
  }
  out->resize(out->size() - padding);
  // The canonical encoding only: bits left over in the last character must
  // be zero, so that one value has one text (re-encoding gives it back).
  std::string again;
  again.reserve(text.size());
  append_encoded(again, *out);
  if (again != text) return bad;
  return Status::ok();
}

}  // namespace shmkv::base64
