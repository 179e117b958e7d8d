"""``python -m sandbox [--host H] [--port P]``."""

from __future__ import annotations

import argparse

from sandbox.main import run


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox", description="Serve the platform emulator."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    args = parser.parse_args()
    run(args.host, args.port)


if __name__ == "__main__":
    main()
