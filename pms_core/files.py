"""Writing output files whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from pms_core.errors import PmsError


class OutputError(PmsError):
    """A file could not be written where asked (the message names the path's
    problem, not the data)."""


@contextmanager
def atomic_output(path: str | Path, *, binary: bool) -> Iterator[IO]:
    """An open file that becomes `path` only when the block ends without an
    error: it is written beside the target under a temporary name, then
    renamed, so an existing file there is replaced only by a complete one."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError(f"cannot write {target}: the folder does not exist")
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder")
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or type(exc).__name__}") from None
    try:
        kwargs = {} if binary else {"encoding": "utf-8", "newline": ""}
        with os.fdopen(fd, "wb" if binary else "w", **kwargs) as out:
            yield out
        os.replace(temp, target)
    except BaseException as exc:
        Path(temp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(
                f"cannot write {target}: {exc.strerror or type(exc).__name__}"
            ) from None
        raise
