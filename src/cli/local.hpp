// shmkv --local NAME: the get and keys commands answered from the segment of
// the shmkvd on this host through a local reader (include/shmkv/local.hpp),
// with the output the networked commands give (src/cli/cli.cpp).
#pragma once

#include <cstdio>

#include "cli/cli.hpp"
#include "shmkv/local.hpp"

namespace shmkv::cli {

// runs_locally says whether a local reader can answer command: get and keys.
bool runs_locally(const Command& command);

// run_local runs a prepared get or keys command through reader and writes
// its output to out: a JSON value as the networked get prints it, bytes
// (written over RESP) as a JSON string when they are UTF-8, and as they are
// with -r.
Status run_local(local::Reader& reader, const Command& command, std::FILE* out);

}  // namespace shmkv::cli
