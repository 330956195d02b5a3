"""Named points in multi-step storage operations, for tests of crashes and concurrency.

`reached(point)` is called at each step of a move, compaction, magnetic write and
checkpoint. With the environment variable `TSQL_CRASH_AT=<point>` the process kills
itself there with SIGKILL (no cleanup, like `kill -9`); a test in the same process can
instead register a callback in `HOOKS` to look at the database between two steps.
"""

from __future__ import annotations

import os
import signal

HOOKS: dict = {}  # point -> callable(point)


def reached(point: str) -> None:
    if os.environ.get("TSQL_CRASH_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
    hook = HOOKS.get(point)
    if hook is not None:
        hook(point)
