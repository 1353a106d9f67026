"""The scripts' shared error policy, so each script in scripts/ stays thin and they all behave alike.

Bad input (gan_core.UserError) gets a one-line `error: ...` on stderr and exit code 1, never a
traceback; Ctrl-C gets one line on stderr and exit code 130 (128 + SIGINT, as shells report it).
Any other exception is a bug and keeps its traceback. Argparse errors (SystemExit 2) pass through.
"""

from __future__ import annotations

import functools
import sys
from typing import Callable

from . import UserError

NOTHING_WRITTEN = "interrupted: nothing was written"

Main = Callable[..., int]


def entry_point(*, interrupted: str = NOTHING_WRITTEN) -> Callable[[Main], Main]:
    """Decorate a script's `main(argv=None) -> int`; `interrupted` is its Ctrl-C line.

    The default suits scripts that write atomically at the end; a script that writes files one by
    one must say so instead (its output may be partial). Keyword-only, so a bare `@entry_point`
    fails at import rather than silently wrapping wrongly.
    """

    def decorate(main: Main) -> Main:
        @functools.wraps(main)
        def wrapper(*args, **kwargs) -> int:
            try:
                return main(*args, **kwargs)
            except UserError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
            except KeyboardInterrupt:
                print(interrupted, file=sys.stderr)
                return 130

        return wrapper

    return decorate
