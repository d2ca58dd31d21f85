// resp_connection: a worker's loop over one RESP connection (shmkv-protocol(7),
// RESP): it reads what the client sends, answers every whole command in it
// through the RESP session, writes the replies of one read with one write,
// and closes on QUIT, broken framing, an idle timeout or a stop. Its buffers
// live as long as the worker, across connections.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "daemon/connection.hpp"
#include "daemon/scoreboard.hpp"
#include "resp/commands.hpp"
#include "resp/keyspace.hpp"
#include "resp/parser.hpp"
#include "store/store.hpp"

namespace shmkv::resp_connection {

class Handler {
 public:
  // config's limits, wait mask and stop flag are the JSON connection's;
  // slot is the worker's scoreboard slot (null in tests).
  Handler(store::Store& store, scoreboard::Scoreboard& board, const connection::Config& config,
          const resp::Session::Config& session, scoreboard::Slot* slot);

  Handler(const Handler&) = delete;
  Handler& operator=(const Handler&) = delete;

  // serve answers commands on fd, a non-blocking socket, until the client
  // closes or quits, the framing breaks, the connection idles out, or stop
  // is set. It does not close fd.
  void serve(int fd);

 private:
  bool send_replies(int fd);
  // room makes space to read into, growing the buffer up to limit_; false
  // when a command would be larger than that.
  bool room();

  const connection::Config config_;
  scoreboard::Scoreboard& board_;
  scoreboard::Slot* const slot_;
  const std::size_t limit_;  // the most bytes one command may take
  std::vector<char> in_;     // bytes read: [0, used_) of it
  std::size_t used_ = 0;
  std::string out_;          // replies not yet written
  std::vector<std::string_view> args_;
  resp::RequestParser parser_;
  resp::Keyspace keyspace_;
  resp::Session session_;
  // A client can have its connections closed for bad framing as fast as it
  // can open them: the log gets 10 lines per 10 s of these.
  log::Throttle closing_log_;
};

}  // namespace shmkv::resp_connection
