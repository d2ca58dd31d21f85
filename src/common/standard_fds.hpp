// The standard descriptors 0, 1 and 2 at a program's start. A program started
// with one of them closed (cmd >&-, a careless service manager) would give
// that number to its first socket or file, and then send what it prints to a
// server, or read a server's bytes as its input.
#pragma once

namespace shmkv::standard_fds {

// open_closed opens /dev/null on each of 0, 1 and 2 that is closed. Call it
// first thing in main, before anything opens a descriptor. False (errno
// set) when /dev/null cannot be opened: the caller must then exit without
// opening anything, and cannot count on stderr.
bool open_closed();

}  // namespace shmkv::standard_fds
