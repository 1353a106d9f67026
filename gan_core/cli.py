"""The scripts' shared error policy, so each script in scripts/ stays thin and they all behave alike.

Bad input (gan_core.UserError) gets a one-line `error: ...` on stderr and exit code 1, never a
traceback; Ctrl-C gets one line on stderr and exit code 130 (128 + SIGINT, as shells report it).
Any other exception is a bug and keeps its traceback. Argparse errors (SystemExit 2) pass through.
"""

from __future__ import annotations

import argparse
import functools
import importlib.abc
import os
import sys
from typing import Callable

from gan_core import UserError
from gan_core.atomic import WRITE_ERRORS
from gan_core.config import MAX_SEED
from gan_core.outputs import echo

NOTHING_WRITTEN = "interrupted: nothing was written"

Main = Callable[..., int]

def check_seed(value: int, what: str = "--seed") -> int:
    if isinstance(value, bool) or not 0 <= int(value) <= MAX_SEED:
        raise UserError(f"{what} must be an integer from 0 to {MAX_SEED}, got {echo(value)}")
    return int(value)


def parse_int_list(text: str, what: str, maximum: int = MAX_SEED) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"{what} must be comma-separated integers, got {echo(text)}") from None
    if not values or min(values) < 0 or max(values) > maximum:
        raise UserError(f"{what} must be integers from 0 to {maximum}, got {echo(text)}")
    return values


VERBOSE_HELP = "show TensorFlow's own log lines (hidden by default)"


def script_parser(description: str | None, raw: bool = False) -> argparse.ArgumentParser:
    """A script's argument parser with the shared --verbose flag (entry_point reads it)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter if raw else argparse.HelpFormatter)
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    return parser


class _QuietImport(importlib.abc.MetaPathFinder):
    """Imports `tensorflow` with file descriptor 2 pointed at /dev/null: on a CPU machine its start-up
    probes for CUDA and prints lines before its log level applies, which users read as errors."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        try:
            import importlib.util

            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def quiet_exec(module):
            sys.stderr.flush()
            saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 2)
                exec_module(module)
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                os.close(devnull)

        spec.loader.exec_module = quiet_exec
        return spec


def quiet_tensorflow(verbose: bool = False) -> None:
    """Keep TensorFlow's C++ log lines (oneDNN notes, grappler remarks, CUDA probing) off the
    terminal unless `verbose`; a TF_CPP_MIN_LOG_LEVEL set by the user is respected."""
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0")
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())


def entry_point(*, interrupted: str = NOTHING_WRITTEN) -> Callable[[Main], Main]:
    """Decorate a script's `main(argv=None) -> int`; `interrupted` is its Ctrl-C line.

    The default suits scripts that write atomically at the end; a script that writes files one by
    one must say so instead (its output may be partial). Keyword-only, so a bare `@entry_point`
    fails at import rather than silently wrapping wrongly.
    """

    def decorate(main: Main) -> Main:
        @functools.wraps(main)
        def wrapper(argv=None, *args, **kwargs) -> int:
            quiet_tensorflow(verbose="--verbose" in (sys.argv[1:] if argv is None else argv))
            try:
                return main(argv, *args, **kwargs)
            except UserError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            except OSError as exc:
                if exc.errno not in WRITE_ERRORS:
                    raise
                where = f" {exc.filename}" if exc.filename else ""
                print(f"error: cannot write{where}: {exc.strerror}", file=sys.stderr)
                return 1
            except KeyboardInterrupt:
                print(interrupted, file=sys.stderr)
                return 130

        return wrapper

    return decorate
