"""The idle-lock policy: how long the TUI may sit unattended before it locks.

Kept free of Textual so the CLI can validate `--idle-timeout` without loading the
UI. A user may only shorten the timeout, never switch the lock off: the option
and `PMS_IDLE_TIMEOUT` are clamped to [MIN_IDLE_TIMEOUT, IDLE_LIMIT].
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)

IDLE_ENV = "PMS_IDLE_TIMEOUT"
IDLE_LIMIT = 300.0  # the longest a signed-in screen may stay idle (policy)
MIN_IDLE_TIMEOUT = 10.0  # shorter than this and the lock gets in the way of work
DEFAULT_IDLE_TIMEOUT = IDLE_LIMIT


def idle_timeout_policy(requested: float | None = None, *, limit: float = IDLE_LIMIT) -> float:
    """Seconds of no input before the screen locks.

    `requested` (the `--idle-timeout` option), else `PMS_IDLE_TIMEOUT`, else
    `limit`. Values are clamped to [MIN_IDLE_TIMEOUT, limit]; zero, a negative
    number or junk means `limit`. There is no "never".
    """
    if requested is None:
        raw = os.environ.get(IDLE_ENV, "").strip()
        if not raw:
            return limit
        try:
            requested = float(raw)
        except ValueError:
            log.warning("%s is not a number; using %s seconds", IDLE_ENV, limit)
            return limit
    if not requested > 0:  # also NaN
        return limit
    return min(limit, max(MIN_IDLE_TIMEOUT, requested))
