// The directory a daemon keeps a file in (its pidfile, its snapshot): one
// that every user may write, without the sticky bit /tmp has, lets anyone
// remove the file there and plant a link or a file of their own instead.
#pragma once

#include <string>
#include <string_view>

#include "shmkv/status.hpp"

namespace shmkv::directories {

// check_closed refuses dir, which holds the file at path (a `what`, named
// in the error), when every user may write it and it is not sticky; advice
// ends the error. A dir that does not exist is ok when missing_ok.
Status check_closed(std::string_view what, const std::string& path, const std::string& dir, std::string_view advice,
                    bool missing_ok);

}  // namespace shmkv::directories
