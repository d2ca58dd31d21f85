#!/usr/bin/env python3
"""Read keys straight from the shared memory of the shmkvd on this host,
through libshmkv.so's C ABI (include/shmkv/local.h) and ctypes: no socket,
no round trip (shmkv-protocol(7), Local readers).

    local_reader.py [--lib PATH] NAME [KEY ...]

NAME is the daemon's --name. Each KEY's value is printed with its kind:

    colour (json): "blue"
    raw (bytes): b'h\\xc3\\xa9'
    nope: not found

With no KEY, keys are read from standard input, one a line, over one open
reader, each answered at once (a reader stays open across a recovery of the
store). The library is --lib PATH, else $SHMKV_LIB, else build/libshmkv.so
beside this example, else libshmkv.so from the system's library path.
Exit status: 0 all found, 1 a key not found, 2 usage, 3 an error."""

import ctypes
import ctypes.util
import errno
import os
import sys

SHMKV_JSON, SHMKV_BYTES = 0, 1
KINDS = {SHMKV_JSON: "json", SHMKV_BYTES: "bytes"}


def find_library(path):
    built = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "libshmkv.so")
    found = path or os.environ.get("SHMKV_LIB") or (built if os.path.exists(built) else None) \
        or ctypes.util.find_library("shmkv")
    if not found:
        sys.exit("local_reader.py: no libshmkv.so found: build it with make, or give --lib PATH")
    return found


def load_library(path):
    lib = ctypes.CDLL(find_library(path))
    lib.shmkv_local_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
    lib.shmkv_local_open.restype = ctypes.c_int
    lib.shmkv_local_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                    ctypes.POINTER(ctypes.POINTER(ctypes.c_char)), ctypes.POINTER(ctypes.c_size_t),
                                    ctypes.POINTER(ctypes.c_int)]
    lib.shmkv_local_get.restype = ctypes.c_int
    lib.shmkv_free.argtypes = [ctypes.c_void_p]
    lib.shmkv_free.restype = None
    lib.shmkv_local_close.argtypes = [ctypes.c_void_p]
    lib.shmkv_local_close.restype = None
    return lib


def explain(rc, name):
    """An OSError for the errno value rc, saying what to do where there is something to do."""
    hints = {
        errno.ENOENT: f"no segment /dev/shm/{name}: is shmkvd --name {name} running?",
        errno.EACCES: f"/dev/shm/{name}: its mode and group (shmkvd --segment-mode, --segment-group) "
                      "must let this user read it",
        errno.EPERM: f"/dev/shm/{name}: users other than its owner could have written it, so it is not read "
                     "(shmkv --local says what is wrong with it)",
        errno.EOWNERDEAD: f"/dev/shm/{name}: its last writer died inside a change and no shmkvd serves it: "
                          f"start shmkvd --name {name} to recover it",
    }
    return OSError(rc, hints.get(rc, f"/dev/shm/{name}: {os.strerror(rc)}"))


class Reader:
    def __init__(self, lib, name):
        self.lib = lib
        self.name = name
        self.handle = ctypes.c_void_p()
        rc = lib.shmkv_local_open(name.encode(), ctypes.byref(self.handle))
        if rc != 0:
            raise explain(rc, name)

    def get(self, key):
        """Returns (value bytes, kind), or None when the key is not set."""
        value = ctypes.POINTER(ctypes.c_char)()
        length = ctypes.c_size_t()
        kind = ctypes.c_int()
        rc = self.lib.shmkv_local_get(self.handle, key, len(key), ctypes.byref(value), ctypes.byref(length),
                                      ctypes.byref(kind))
        if rc == 1:
            return None
        if rc < 0:
            raise explain(-rc, self.name)
        try:
            return ctypes.string_at(value, length.value), kind.value
        finally:
            self.lib.shmkv_free(value)

    def close(self):
        self.lib.shmkv_local_close(self.handle)


def show(reader, key):
    """Prints one key's answer; returns the exit status it deserves."""
    try:
        found = reader.get(key)
    except OSError as e:
        print(f"{key.decode(errors='replace')}: error: {e.strerror}", flush=True)
        return 3
    if found is None:
        print(f"{key.decode(errors='replace')}: not found", flush=True)
        return 1
    value, kind = found
    text = value.decode() if kind == SHMKV_JSON else repr(value)
    print(f"{key.decode(errors='replace')} ({KINDS.get(kind, kind)}): {text}", flush=True)
    return 0


def main(argv):
    lib_path = None
    if len(argv) >= 2 and argv[0] == "--lib":
        lib_path, argv = argv[1], argv[2:]
    if not argv or argv[0].startswith("-"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    name, keys = argv[0], argv[1:]
    lib = load_library(lib_path)
    try:
        reader = Reader(lib, name)
    except OSError as e:
        print(f"local_reader.py: {e.strerror}", file=sys.stderr)
        return 3
    worst = 0
    try:
        if keys:
            for key in keys:
                worst = max(worst, show(reader, os.fsencode(key)))
        else:
            for line in sys.stdin.buffer:
                worst = max(worst, show(reader, line.rstrip(b"\n")))
    finally:
        reader.close()
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
