"""moto's server in a process of its own: `python -m tests.bench.motoserver`.

It listens on a free loopback port, prints `PORT <n>` once it does, and serves until its stdin
closes. A process of its own, so that the CPU time a section measures in its own process is the
client's alone.
"""

from __future__ import annotations

import sys

from moto.server import ThreadedMotoServer


def main() -> None:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    print("PORT", server.get_host_and_port()[1], flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
