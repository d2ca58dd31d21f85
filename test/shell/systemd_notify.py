"""shmkvd under a NOTIFY_SOCKET that this test owns: READY=1 comes only once
the daemon accepts connections, STATUS= carries live counts, STOPPING=1 comes
at SIGTERM, and the exit status is 0."""

import os
import signal
import socket
import subprocess
import sys
import time

from wire import call, check

shmkvd, name, port, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
path = os.path.join(work, "notify.sock")
notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
notify.bind(path)
notify.settimeout(10)

env = dict(os.environ, NOTIFY_SOCKET=path)
daemon = subprocess.Popen([shmkvd, "--port", str(port), "--name", name], env=env,
                          stderr=open(os.path.join(work, "daemon.log"), "a"))
try:
    messages = []
    while not any("READY=1" in m for m in messages):
        messages.append(notify.recv(4096).decode())
    # Ready means accepting: this connection and request must succeed at once.
    reply = call(port, {"func": "PUT", "params": {"obj": "ready", "val": True}})
    check(reply["status"] == "OK", f"request right after READY=1: {reply}")
    check(messages[-1].startswith("READY=1") or "READY=1" in messages[-1], f"messages {messages}")

    # STATUS= with the live counts: one key now, an open connection soon.
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    deadline = time.time() + 10
    status = ""
    while time.time() < deadline and status != "STATUS=1 connections, 1 keys":
        status = notify.recv(4096).decode()
    check(status == "STATUS=1 connections, 1 keys", f"last STATUS= was {status!r}")
    idle.close()

    daemon.send_signal(signal.SIGTERM)
    rest = []
    while not any("STOPPING=1" in m for m in rest):
        rest.append(notify.recv(4096).decode())
    check(daemon.wait(timeout=15) == 0, f"exit status {daemon.returncode}")
    print("READY=1 once accepting, STATUS= with counts, STOPPING=1 at SIGTERM, exit 0")
finally:
    if daemon.poll() is None:
        daemon.kill()
        daemon.wait()
