#include "shmkv/stats.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace shmkv::stats {

Counters* create() {
  void* memory = mmap(nullptr, sizeof(Counters), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return nullptr;
  auto* counters = new (memory) Counters;
  counters->daemon_pid = getpid();
  counters->started = std::time(nullptr);
  return counters;
}

}  // namespace shmkv::stats
