"""One hub process that dispatches in a loop — started twice by test_hub_concurrency.py.

    python dispatch_worker.py --database-url URL --data-dir DIR --blob-dir DIR \
        --go FILE --stop FILE [--batch N] [--deadline SECONDS]

Prints ``ready`` once its hub is open, waits for the file ``--go`` to exist, then claims
outbox entries ``--batch`` at a time until the file ``--stop`` exists and nothing is left
pending; prints ``{"handled": N, "rounds": R}`` and exits 0. Exits 3 if never told to go
and 4 if the work is not done within ``--deadline`` seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from lienthong.hub.outbox import dispatch
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--blob-dir", required=True)
    parser.add_argument("--go", required=True)
    parser.add_argument("--stop", required=True)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--deadline", type=float, default=45.0)
    parser.add_argument("--secret-key-file", required=True)  # shared by every process
    args = parser.parse_args()

    hub = Hub(
        Settings(
            data_dir=Path(args.data_dir),
            database_url=args.database_url,
            blob_url=args.blob_dir,
            secret_key_file=Path(args.secret_key_file),
        )
    )
    try:
        print("ready", flush=True)
        end = time.monotonic() + args.deadline
        go, stop = Path(args.go), Path(args.stop)
        while not go.exists():
            if time.monotonic() > end:
                return 3
            time.sleep(0.005)
        handled = rounds = 0
        while True:
            if time.monotonic() > end:
                return 4
            n = hub.run(lambda s: dispatch.dispatch_pending(s, limit=args.batch))
            handled += n
            rounds += 1
            if n == 0:
                if stop.exists() and hub.run(dispatch.pending_dispatch) == 0:
                    break
                time.sleep(0.002)
        print(json.dumps({"handled": handled, "rounds": rounds}), flush=True)
        return 0
    finally:
        hub.close()


if __name__ == "__main__":
    sys.exit(main())
