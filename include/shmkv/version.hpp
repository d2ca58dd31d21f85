// The version of shmkv, reported by every program's --version and by STATS.
#pragma once

namespace shmkv {
inline constexpr char kVersion[] = "0.1.0";
}
