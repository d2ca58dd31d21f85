#include "shmkv/status.hpp"

#include <fmt/format.h>

#include <cstring>

namespace shmkv {

std::string errno_text(const std::string& what, int err) {
  return fmt::format("{}: {}", what, std::strerror(err));
}

}  // namespace shmkv
