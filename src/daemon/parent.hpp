// The parent process's loop: keep the pool of workers (spawn a spare when
// none is idle, accept and fork itself when no spare can wait, reap, count),
// within --max-children; decide what a worker's death means, and have the
// store rebuilt when it died in the store; report to systemd; and on SIGTERM
// or SIGINT shut down in order. It never touches the store's data.
#pragma once

#include <memory>
#include <vector>

#include "daemon/daemon_config.hpp"
#include "daemon/listeners.hpp"
#include "daemon/scoreboard.hpp"
#include "store/store.hpp"

namespace shmkv::parent {

// run serves until a stop signal and returns the exit status (0). The
// listeners are closed, and their socket files removed, before it returns.
// The store may be replaced by a rebuilt one when a worker dies in it.
int run(const daemon_config::Config& config, std::vector<listeners::Listener>& listeners,
        std::unique_ptr<store::Store>& store, scoreboard::Scoreboard& board);

}  // namespace shmkv::parent
