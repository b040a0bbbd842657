"""Run `archive.db.upgrade` on a database and SIGKILL this process at the N-th step:
before the N-th SQL statement or the commit, whichever comes N-th. N = 0 never kills and prints
how many steps the upgrade took (used by tests/test_migrations_atomic.py).

usage: python tests/kill_during_upgrade.py DB_URL N
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from archive.db import make_engine, upgrade

url, kill_at = sys.argv[1], int(sys.argv[2])
steps = 0


def step(*_args: Any, **_kwargs: Any) -> None:
    global steps
    steps += 1
    if steps == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


event.listen(Engine, "before_cursor_execute", step)
event.listen(Engine, "commit", step)
upgrade(make_engine(url))
print(steps)  # how many steps the whole upgrade took
