// printable: text from a server (an error message, a reply's bytes) made fit
// for one line of a message on a terminal. The client library, shmkv and
// shmkv-bench pass what a server said through it before printing it.
#pragma once

#include <string>
#include <string_view>

namespace shmkv::client {

// printable returns text as valid UTF-8 without control characters: each
// control byte (line breaks, ESC, DEL) and each byte that is not part of a
// valid UTF-8 sequence becomes the four characters \xNN, so that a message
// holding it stays one line and cannot drive the terminal.
std::string printable(std::string_view text);

}  // namespace shmkv::client
