#include "common/directories.hpp"

#include <sys/stat.h>

#include <cerrno>

#include <fmt/format.h>

namespace shmkv::directories {

Status check_closed(std::string_view what, const std::string& path, const std::string& dir, std::string_view advice,
                    bool missing_ok) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) < 0) {
    if (errno == ENOENT && missing_ok) return Status::ok();
    return Status::io(errno_text(fmt::format("{} directory {}", what, dir), errno));
  }
  if ((st.st_mode & S_IWOTH) && !(st.st_mode & S_ISVTX))
    return Status::invalid(fmt::format(
        "{} {}: its directory {} (mode {:04o}) is writable by every user and not sticky, so anyone could replace "
        "the {}; {}",
        what, path, dir, st.st_mode & 07777, what, advice));
  return Status::ok();
}

}  // namespace shmkv::directories
