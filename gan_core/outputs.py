"""Paths a command writes, checked before any model is loaded or any work is done.

The rule (rsync's --delete and git clean refuse to guess; so do we): a command replaces only a
folder that it made itself, recognised by its own format or marker file (the `owned` test each
command passes), or an empty one. It refuses any other existing folder, and any output that equals
or contains one of its inputs, in one line. An output file's nearest existing folder must be a
writable folder (probed by creating a file, which also catches read-only file systems for root),
and the file itself must not be a folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from gan_core import UserError

ECHO_LIMIT = 200  # characters of user input echoed back in a message


def echo(text: object, limit: int = ECHO_LIMIT) -> str:
    """`text` as repr, cut to about `limit` characters: a 1 MB caption is not echoed whole."""
    shown = repr(text)
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(str(text))} characters)"


def stored_format(folder: str | Path, name: str) -> str:
    """The "format" field of the JSON file `name` in `folder` ("" when absent or unreadable): how a
    command recognises the folders it wrote (a manifest, a model.json, a marker file)."""
    try:
        data = json.loads((Path(folder) / name).read_text())
    except (OSError, ValueError):
        return ""
    return str(data.get("format", "")) if isinstance(data, dict) else ""


def _nearest_existing(path: Path) -> Path:
    path = Path(os.path.abspath(path))
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable_folder(folder: str | Path, what: str) -> None:
    """The nearest existing ancestor of `folder` (or `folder`) is a folder a file can be created in."""
    base = _nearest_existing(Path(folder))
    if not base.is_dir():
        raise UserError(f"cannot write {what}: {base} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=base)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UserError(f"cannot write {what} in {base}: {exc.strerror or exc}") from None


def check_output_file(path: str | Path, what: str = "output file") -> Path:
    """A file the command will write (atomically): not a folder, and its folder writable."""
    path = Path(path)
    if str(path).strip() == "":
        raise UserError(f"{what}: the path is empty")
    if path.is_dir():
        raise UserError(f"{what} {path} is a folder; give a file name")
    if path.exists() and not path.is_file():
        raise UserError(f"{what} {path} exists and is not a regular file")
    check_writable_folder(path.parent, f"{what} {path}")
    return path


def _overlaps(out: Path, inputs: Iterable[str | Path | None]) -> str | None:
    resolved = out.resolve()
    for given in inputs:
        if given is None or str(given) == "":
            continue
        inp = Path(given).resolve()
        if resolved == inp or resolved in inp.parents:
            return str(given)
    return None


def check_output_folder(path: str | Path, what: str, owned: Callable[[Path], bool], made_by: str,
                        inputs: Iterable[str | Path | None] = ()) -> Path:
    """A folder the command will replace as a whole (gan_core.atomic.atomic_dir).

    `owned(path)` says whether an existing folder is this command's own output; `made_by` names it
    in the refusal ("a prepared dataset (manifest.json)"); `inputs` are the command's inputs, which
    the output may neither equal nor contain.
    """
    path = Path(path)
    if str(path).strip() == "":
        raise UserError(f"{what}: the path is empty")
    clash = _overlaps(path, inputs)
    if clash is not None:
        raise UserError(f"{what} {path} equals or contains the input {clash}; choose another folder")
    if path.exists():
        if not path.is_dir():
            raise UserError(f"{what} {path} exists and is not a folder")
        if any(path.iterdir()) and not owned(path):
            raise UserError(f"refusing to replace {path}: it is not {made_by}; "
                            f"choose a new or empty folder, or remove it yourself")
    check_writable_folder(path.parent, f"{what} {path}")
    return path


def is_replaceable(path: Path, owned: Callable[[Path], bool]) -> bool:
    """What gan_core.atomic.atomic_dir checks again at the moment of replacing: absent, empty or owned."""
    return not path.exists() or (path.is_dir() and (not any(path.iterdir()) or owned(path)))
