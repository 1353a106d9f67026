"""Readers for the competition's own files: testData.pkl and dictionary/*.npy.

WARNING: both are pickles (testData.pkl is a pandas pickle; the .npy files need allow_pickle).
Unpickling runs code from the file, so these readers are only called on an explicit request
(`--competition DIR` in the scripts) and never on files found by chance.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_core import UserError

COMPETITION_PAD_IDS = (0, 5427)  # the dictionary lists <PAD> twice
COMPETITION_RARE = "<RARE>"
REPORT_IDS = (5685, 5883, 7547, 253, 6519)  # the five test captions of the report grid (and sample grids)


@dataclass(frozen=True)
class TestCaption:
    test_id: int
    word_ids: tuple[int, ...]


def load_id2word(dictionary_dir: str | Path) -> dict[int, str]:
    path = Path(dictionary_dir) / "id2Word.npy"
    if not path.is_file():
        raise UserError(f"competition dictionary not found: {path}")
    try:
        pairs = np.load(path, allow_pickle=True)
        return {int(i): str(w) for i, w in pairs}
    except Exception as exc:  # a broken pickle can raise anything
        raise UserError(f"cannot read {path}: {exc}") from None


def load_test_data(pkl_path: str | Path) -> list[TestCaption]:
    """Read testData.pkl (a pandas DataFrame with ID and Captions columns)."""
    path = Path(pkl_path)
    if not path.is_file():
        raise UserError(f"competition test file not found: {path}")
    try:
        import pandas  # noqa: F401  # the pickle refers to pandas classes: fail here with a clear import error

        with open(path, "rb") as handle:
            frame = pickle.load(handle)
        rows = [TestCaption(int(i), tuple(int(w) for w in caps)) for i, caps in zip(frame["ID"], frame["Captions"])]
    except Exception as exc:
        raise UserError(f"cannot read {path} as the competition's testData.pkl: {exc}") from None
    if not rows:
        raise UserError(f"{path} holds no test captions")
    return rows


def decode(word_ids, id2word: dict[int, str]) -> list[str]:
    """Competition word ids -> tokens, padding dropped, `<RARE>` kept as a token."""
    words = (id2word.get(i, COMPETITION_RARE) for i in word_ids if i not in COMPETITION_PAD_IDS)
    return [w for w in words if w != "<PAD>"]


def load_eval_metrics(pkl_path: str | Path) -> dict[int, np.ndarray]:
    """Read eval_metrics.pkl: test ID -> float32[102] logits of the official classifier."""
    path = Path(pkl_path)
    if not path.is_file():
        raise UserError(f"reference logits not found: {path}")
    try:
        with open(path, "rb") as handle:
            refs = pickle.load(handle)
        return {int(k): np.asarray(v, dtype=np.float32).reshape(-1) for k, v in refs.items()}
    except Exception as exc:
        raise UserError(f"cannot read {path} as eval_metrics.pkl: {exc}") from None
