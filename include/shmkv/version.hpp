// The version of shmkv, reported by --version and, later, by STATS.
#pragma once

namespace shmkv {
inline constexpr char kVersion[] = "0.1.0";
}
