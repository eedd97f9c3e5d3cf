"""Jobs that run every so often for as long as a process serves: one loop for all of them.

The action server prunes its logs daily and looks for index builds other replicas publish; the
supervisor prunes the tracker store daily. Each is the same loop: run the blocking job off the
event loop, log a failure and try again next time (a database down for a minute or a stale disk
handle must not end the loop for good), sleep, repeat.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

# ``stack/tracker_retention.py`` keeps its own copy: it runs under Rasa's Python (and in the Rasa
# image), where this package is not importable.
DAY_SECONDS = 86_400.0


async def repeat(
    job: Callable[[], object], every: float, what: str, *, first_now: bool, log: logging.Logger
) -> None:
    """Run the blocking ``job`` in a worker thread every ``every`` seconds until cancelled (now
    first with ``first_now``). A failure goes to ``log``, the caller's, so it lands where that
    caller's other lines do."""
    if not first_now:
        await asyncio.sleep(every)
    while True:
        try:
            await asyncio.to_thread(job)
        except Exception:
            log.exception("%s failed; trying again in %.0f s", what, every)
        await asyncio.sleep(every)
