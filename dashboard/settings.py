"""Where the app reads from: the checkpoints root and the prepared data set.

Precedence: app arguments (`streamlit run dashboard/app.py -- --checkpoints DIR --data DIR`),
then the environment (GAN_CHECKPOINTS, GAN_DATA), then checkpoints/ and data/oxford102 of the
repository. The app reads nothing outside these two folders.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RUN = "default"  # the shipped checkpoint, checkpoints/default
SHIPPED_EVALUATOR = REPO / "checkpoints" / "evaluator"
WHERE_HINT = "set `-- --checkpoints DIR` after `streamlit run dashboard/app.py`, or the GAN_CHECKPOINTS variable"


@dataclass(frozen=True)
class Roots:
    checkpoints: Path  # runs live directly under it; evaluator/ holds the flowers evaluator
    data: Path  # a prepared data set (scripts/prepare_data.py)

    @property
    def evaluator_root(self) -> Path:
        """<checkpoints>/evaluator, or the shipped checkpoints/evaluator when the chosen root has none
        (a folder of one's own runs rarely holds the evaluation models)."""
        own = self.checkpoints / "evaluator"
        return own if own.is_dir() or not SHIPPED_EVALUATOR.is_dir() else SHIPPED_EVALUATOR

    @property
    def evaluator_note(self) -> str | None:
        """A line saying that the shipped evaluator is used, or None when the root holds its own."""
        if self.evaluator_root == self.checkpoints / "evaluator":
            return None
        return (f"`{self.checkpoints}` has no `evaluator/` folder: scores use the shipped evaluator "
                f"`{SHIPPED_EVALUATOR}`.")

    @property
    def flowers_evaluator(self) -> Path:
        return self.evaluator_root / "flowers"

    @property
    def alignment(self) -> Path:
        return self.evaluator_root / "alignment"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--checkpoints")
    parser.add_argument("--data")
    known, _ = parser.parse_known_args(argv)  # under AppTest argv is pytest's: ignore the rest
    return known


def roots(argv: list[str] | None = None, environ: dict | None = None) -> Roots:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    environ = os.environ if environ is None else environ
    checkpoints = args.checkpoints or environ.get("GAN_CHECKPOINTS") or REPO / "checkpoints"
    data = args.data or environ.get("GAN_DATA") or REPO / "data" / "oxford102"
    return Roots(Path(checkpoints).expanduser().resolve(), Path(data).expanduser().resolve())
