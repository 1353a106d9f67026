"""Caption normalisation, tokenizer and vocabulary.

Normalisation follows the competition's dictionary: lowercase, accents folded to ASCII, and every
character outside [a-z0-9] (punctuation, control characters, symbols) treated as a word separator.
This reproduces the competition's testData.pkl captions exactly from the text_c10 lines
("inside/center petal." -> "inside center petal").

Encoding any string is total and never raises:
- words outside the vocabulary map to `<RARE>`;
- captions longer than `max_len` words are cut to the first `max_len` (the competition uses 20);
- an empty, whitespace-only or punctuation-only caption encodes to all `<PAD>` with length 0.
  Callers that cannot use such a caption (generation) check `length == 0` and report it.
"""

from __future__ import annotations

import collections
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from gan_core import atomic

PAD = "<PAD>"
RARE = "<RARE>"
PAD_ID = 0
RARE_ID = 1
DEFAULT_MAX_LEN = 20
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize(text: str) -> str:
    """Lowercase, fold accents to ASCII, and turn everything but [a-z0-9] into single spaces."""
    folded = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub(" ", folded.lower()).strip()


def tokenize(text: str) -> list[str]:
    return normalize(text).split()


@dataclass(frozen=True)
class Encoded:
    ids: np.ndarray  # int32 [max_len], padded with PAD_ID
    length: int  # number of real tokens (0 for an empty caption)
    unknown: int  # how many of the kept tokens were out of vocabulary
    truncated: int  # how many tokens were cut beyond max_len


class Vocabulary:
    """Word <-> id map with `<PAD>`=0 and `<RARE>`=1, built from training captions."""

    def __init__(self, words: Sequence[str], max_len: int = DEFAULT_MAX_LEN):
        if list(words[:2]) != [PAD, RARE]:
            raise ValueError("vocabulary must start with <PAD>, <RARE>")
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}
        self.max_len = int(max_len)

    @classmethod
    def build(cls, captions: Iterable[str], min_count: int = 2, max_len: int = DEFAULT_MAX_LEN) -> "Vocabulary":
        counts = collections.Counter(tok for text in captions for tok in tokenize(text))
        # Sorted by count then word, so the same captions always give the same ids.
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls([PAD, RARE, *kept], max_len=max_len)

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, text: str) -> Encoded:
        tokens = tokenize(text)
        kept = tokens[: self.max_len]
        ids = np.full(self.max_len, PAD_ID, dtype=np.int32)
        unknown = 0
        for pos, tok in enumerate(kept):
            idx = self.index.get(tok, RARE_ID)
            unknown += idx == RARE_ID
            ids[pos] = idx
        return Encoded(ids=ids, length=len(kept), unknown=unknown, truncated=len(tokens) - len(kept))

    def encode_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """-> (ids int32 [N, max_len], lengths int32 [N])."""
        encoded = [self.encode(t) for t in texts]
        ids = np.stack([e.ids for e in encoded]) if encoded else np.zeros((0, self.max_len), np.int32)
        return ids, np.array([e.length for e in encoded], dtype=np.int32)

    def decode(self, ids: Iterable[int]) -> str:
        return " ".join(self.words[i] for i in ids if i != PAD_ID)

    def to_json(self) -> dict:
        return {"format": "gan_core.vocabulary/1", "max_len": self.max_len, "words": self.words}

    def save(self, path: str | Path) -> None:
        atomic.write_json(path, self.to_json())

    @classmethod
    def from_json(cls, obj: dict) -> "Vocabulary":
        return cls(obj["words"], max_len=obj["max_len"])

    @classmethod
    def load(cls, path: str | Path) -> "Vocabulary":
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
