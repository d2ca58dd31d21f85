#include "daemon/scoreboard.hpp"

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <new>

namespace shmkv::scoreboard {

Scoreboard* Scoreboard::create(std::size_t slots) {
  // The slots follow the header, at the first offset their alignment allows
  // (mmap returns page-aligned memory).
  const std::size_t header = (sizeof(Scoreboard) + alignof(Slot) - 1) / alignof(Slot) * alignof(Slot);
  const std::size_t bytes = header + slots * sizeof(Slot);
  void* memory = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return nullptr;
  auto* board = new (memory) Scoreboard;
  board->slots_ = new (static_cast<char*>(memory) + header) Slot[slots];
  board->slot_count_ = slots;
  board->daemon_pid = getpid();
  board->started = std::time(nullptr);
  board->handoff_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (board->handoff_fd < 0) return nullptr;
  return board;
}

int Scoreboard::reserve(State initial) {
  for (std::size_t i = 0; i < slot_count_; ++i) {
    if (slots_[i].state.load() == State::kFree) {
      slots_[i].state.store(initial);
      if (i >= used_.load()) used_.store(i + 1);
      return static_cast<int>(i);
    }
  }
  return -1;
}

void Scoreboard::release(int slot) {
  requests_total.fetch_add(slots_[slot].requests.exchange(0));
  slots_[slot].pid.store(0);
  slots_[slot].lock_held_since.store(0);
  slots_[slot].following.store(false);
  slots_[slot].state.store(State::kFree);
}

void Scoreboard::keep_leader() {
  if (leader.load() != kNoLeader || followers.load() <= 0) return;
  const std::uint64_t one = 1;
  // Fails only when the counter is near overflow: it is readable already.
  [[maybe_unused]] const ssize_t n = write(handoff_fd, &one, sizeof one);
}

void Scoreboard::set_health(Health h, const char* detail) {
  detail_sequence_.fetch_add(1, std::memory_order_acq_rel);
  std::size_t i = 0;
  for (; detail[i] != '\0' && i + 1 < kDetailSize; ++i) detail_[i].store(detail[i], std::memory_order_relaxed);
  detail_[i].store('\0', std::memory_order_relaxed);
  detail_sequence_.fetch_add(1, std::memory_order_release);
  health.store(h);
}

std::string Scoreboard::health_detail() const {
  std::string text;
  for (;;) {
    const std::uint32_t before = detail_sequence_.load(std::memory_order_acquire);
    text.clear();
    for (std::size_t i = 0; i < kDetailSize; ++i) {
      const char c = detail_[i].load(std::memory_order_relaxed);
      if (c == '\0') break;
      text.push_back(c);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    if (before % 2 == 0 && detail_sequence_.load(std::memory_order_relaxed) == before) return text;
  }
}

std::uint64_t Scoreboard::requests() const {
  std::uint64_t n = requests_total.load();
  const std::size_t used = used_.load();
  for (std::size_t i = 0; i < used; ++i) n += slots_[i].requests.load(std::memory_order_relaxed);
  return n;
}

std::size_t Scoreboard::count(State state) const {
  std::size_t n = 0;
  const std::size_t used = used_.load();
  for (std::size_t i = 0; i < used; ++i)
    if (slots_[i].state.load(std::memory_order_relaxed) == state) ++n;
  return n;
}

}  // namespace shmkv::scoreboard
