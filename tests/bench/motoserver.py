"""moto's server in a process of its own: `python -m tests.bench.motoserver`.

It listens on a free loopback port, prints `PORT <n>` once it does, and serves until its stdin
closes. A process of its own, so that the CPU time a section measures in its own process is the
client's alone. The server is the local stack's own (infra/local/moto_server.py says why not
moto's ThreadedMotoServer).
"""

from __future__ import annotations

import sys

from infra.local.moto_server import MotoServer


def main() -> None:
    server = MotoServer("127.0.0.1", 0)
    print("PORT", server.port, flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()
