"""Atomic file and directory writes: write to a temporary sibling, then rename.

A reader never sees a half-written file: either the old version or the complete new one.
Temporary siblings are named `.tmp-NAME.PID-XXXX` (`.tmp-old-NAME.PID-XXXX` for a folder being
replaced); a process killed with -9 cannot remove its own, so the next write of the same NAME
removes those whose PID is no longer running. A full disk or a read-only file system while writing
is one line naming the path (a UserError), not a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterator

from gan_core import UserError
from gan_core.outputs import is_replaceable

# errors that say "this path cannot be written": turned into one line naming the path
WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG)


def _prefix(name: str, old: bool = False) -> str:
    return f".tmp-{'old-' if old else ''}{name}.{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale(path: Path) -> list[Path]:
    """Remove the temporary siblings of `path` left by processes that are no longer running."""
    removed = []
    pattern = re.compile(rf"\.tmp-(?:old-)?{re.escape(path.name)}\.(\d+)-")
    with contextlib.suppress(OSError):
        for sibling in path.parent.iterdir():
            match = pattern.match(sibling.name)
            if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
                if sibling.is_dir() and not sibling.is_symlink():
                    shutil.rmtree(sibling, ignore_errors=True)
                else:
                    sibling.unlink(missing_ok=True)
                removed.append(sibling)
    return removed


@contextlib.contextmanager
def _write_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno in WRITE_ERRORS:
            raise UserError(f"cannot write {path}: {exc.strerror}") from None
        raise


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it is renamed onto `path`.

    `suffix` keeps extensions that writers look at (np.save appends .npy, PIL picks the format).
    """
    path = Path(path)
    with _write_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path)
        fd, tmp = tempfile.mkstemp(prefix=_prefix(path.name), suffix=suffix or path.suffix, dir=path.parent)
        os.close(fd)
    tmp_path = Path(tmp)
    try:
        with _write_errors(path):
            yield tmp_path
            os.chmod(tmp_path, 0o644)  # mkstemp creates 0600; the result should read like any file
            with open(tmp_path, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp_path, path)
            _fsync_dir(path.parent)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike, owned: Callable[[Path], bool] | None = None) -> Iterator[Path]:
    """Yield an empty temporary directory; on success it replaces `path` as a whole.

    An existing `path` is replaced only when it is empty or `owned(path)` says the caller made it
    (gan_core.outputs checks the same before the work; this is the last line of defence, in case
    the folder changed meanwhile): anything else is a UserError and is left untouched.
    It is moved aside first and removed only after the new one is in place, so an interruption
    leaves either the old directory, or the new one, or a `.tmp-*` leftover that no loader treats
    as a dataset (and that the next write of `path` removes).
    """
    path = Path(path)
    with _write_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(path)
        tmp = Path(tempfile.mkdtemp(prefix=_prefix(path.name), dir=path.parent))
    try:
        with _write_errors(path):
            yield tmp
        if not is_replaceable(path, owned or (lambda _: False)):
            raise UserError(f"refusing to replace {path}: it is not this command's own output")
        os.chmod(tmp, 0o755)
        _fsync_dir(tmp)
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=_prefix(path.name, old=True), dir=path.parent))
            old.rmdir()
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
