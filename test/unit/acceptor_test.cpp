#include "daemon/acceptor.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

using namespace shmkv;

namespace {

// hand_offs reads the hand-off eventfd: how many wake-ups were asked for
// since the last read (0 when none, as the read then fails with EAGAIN).
std::uint64_t hand_offs(const scoreboard::Scoreboard& board) {
  std::uint64_t count = 0;
  if (read(board.handoff_fd, &count, sizeof count) != sizeof count) {
    CHECK(errno == EAGAIN);
    return 0;
  }
  return count;
}

// Pool is a scoreboard with a leader and one other worker in the state
// given, counted as a follower when it is idle, as the workers would leave it.
struct Pool {
  scoreboard::Scoreboard* board = scoreboard::Scoreboard::create(4);
  int leader = -1;
  int other = -1;

  explicit Pool(scoreboard::State other_state) {
    REQUIRE(board != nullptr);
    leader = board->reserve(scoreboard::State::kIdle);
    other = board->reserve(other_state);
    board->leader.store(leader);
    board->followers.store(1);  // the other worker, or one not in this scoreboard
    board->slot(other).following.store(other_state == scoreboard::State::kIdle);
  }
};

}  // namespace

TEST_CASE("a worker about to wait wakes a follower only when nobody leads") {
  scoreboard::Scoreboard* board = scoreboard::Scoreboard::create(4);
  REQUIRE(board != nullptr);
  REQUIRE(board->handoff_fd >= 0);

  board->keep_leader();  // nobody to wake
  CHECK(hand_offs(*board) == 0);

  board->followers.store(2);
  board->leader.store(1);
  board->keep_leader();  // somebody leads
  CHECK(hand_offs(*board) == 0);

  board->leader.store(scoreboard::Scoreboard::kNoLeader);
  board->keep_leader();
  board->keep_leader();  // asked twice before a follower reads: it reads both at once
  CHECK(hand_offs(*board) == 2);
  CHECK(hand_offs(*board) == 0);
}

TEST_CASE("a dead leader's lead is passed on, and a dead follower is no longer counted") {
  Pool pool(scoreboard::State::kIdle);
  scoreboard::Scoreboard* board = pool.board;

  acceptor::worker_died(*board, pool.leader);
  CHECK(board->leader.load() == scoreboard::Scoreboard::kNoLeader);
  CHECK(board->followers.load() == 1);
  CHECK(hand_offs(*board) == 1);  // the follower is woken to lead

  acceptor::worker_died(*board, pool.other);
  CHECK(board->followers.load() == 0);
  CHECK(board->leader.load() == scoreboard::Scoreboard::kNoLeader);
  CHECK(hand_offs(*board) == 0);  // nobody left to wake
}

TEST_CASE("a dead busy worker leaves the lead where it is") {
  Pool pool(scoreboard::State::kBusy);
  scoreboard::Scoreboard* board = pool.board;

  acceptor::worker_died(*board, pool.other);
  CHECK(board->leader.load() == pool.leader);
  CHECK(board->followers.load() == 1);
  CHECK(hand_offs(*board) == 0);
}
