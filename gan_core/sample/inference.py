"""Batch generation to files: caption lists (LLLL_sS.png) and the competition's 819 test images."""

from __future__ import annotations

import csv
import io
import os
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from gan_core import UserError, atomic
from gan_core.data.imagefolder import RECORD_NAME
from gan_core.data.text import normalize
from gan_core.sample.sampler import Sampler

COMPETITION_SEED_STRIDE = 100_000  # image seed = seed * stride + test ID: distinct per image, reproducible


def read_captions_file(path: str | Path) -> list[str]:
    path = Path(path)
    try:
        raw = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UserError(f"captions file not found: {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"captions file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise UserError(f"cannot read captions file {path}: {exc.strerror}") from None
    lines = raw.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()  # trailing blank lines are not captions
    if not lines:
        raise UserError(f"captions file {path} is empty")
    for number, line in enumerate(lines, start=1):
        if not normalize(line):
            raise UserError(f"captions file {path}, line {number}: the caption is empty or has no letters/digits")
    return lines


def read_test_captions(path: str | Path) -> list[tuple[int, str]]:
    """test_captions.csv (ID, caption) -> [(ID, caption)]."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = [(int(r["ID"]), r["caption"]) for r in csv.DictReader(handle)]
    except FileNotFoundError:
        raise UserError(f"test captions not found: {path}") from None
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"{path} is not a test captions CSV with ID,caption columns ({exc})") from None
    if not rows:
        raise UserError(f"{path} has no test captions")
    return rows


def read_competition_test_data(pkl: str | Path, dictionary: str | Path) -> list[tuple[int, str]]:
    """testData.pkl + dictionary/ -> [(ID, caption)]. Unpickling executes code: trusted files only."""
    from gan_core.data import competition

    id2word = competition.load_id2word(dictionary)
    return [(t.test_id, " ".join(w for w in competition.decode(t.word_ids, id2word) if w != competition.COMPETITION_RARE))
            for t in competition.load_test_data(pkl)]


def ensure_writable_dir(path: str | Path) -> Path:
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"cannot write to output folder {path}: {exc.strerror or exc}") from None
    return path


def _save(image: np.ndarray, path: Path, fmt: str) -> None:
    with atomic.atomic_path(path) as tmp:
        Image.fromarray(image).save(tmp, format=fmt, **({"quality": 95} if fmt == "JPEG" else {}))


def write_record(out: Path, sampler: Sampler, **settings) -> Path:
    """out/generation.json: the snapshot and settings that made the folder, enough to make it again."""
    path = out / RECORD_NAME
    atomic.write_json(path, {"snapshot": str(sampler.path), "epoch": int(sampler.epoch), **settings})
    return path


def generate_caption_files(sampler: Sampler, captions: Sequence[str], seeds: Sequence[int], out: str | Path,
                           truncation: float = 1.0, best_of: int = 1) -> list[Path]:
    """Every caption x every seed -> out/LLLL_sS.png (LLLL = 0-based line number), plus the record."""
    out = ensure_writable_dir(out)
    images = sampler.grid(captions, seeds, truncation, best_of)
    written = []
    for line, row in enumerate(images):
        for seed, image in zip(seeds, row):
            path = out / f"{line:04d}_s{seed}.png"
            _save(image, path, "PNG")
            written.append(path)
    write_record(out, sampler, mode="captions", seeds=[int(s) for s in seeds], truncation=float(truncation),
                 best_of=int(best_of), images=len(written))
    return written


def generate_competition(sampler: Sampler, test_rows: Sequence[tuple[int, str]], out: str | Path,
                         seed: int = 0, zip_path: str | Path | None = None, truncation: float = 1.0,
                         best_of: int = 1) -> list[Path]:
    """One 64x64 JPEG per test ID: out/inference_ID.jpg, plus the record (generation.json, which
    the folder reader ignores); optionally a submission zip of the images."""
    out = ensure_writable_dir(out)
    ids = [i for i, _ in test_rows]
    if len(set(ids)) != len(ids):
        raise UserError("test captions repeat an ID")
    images = sampler.generate([c for _, c in test_rows], [seed * COMPETITION_SEED_STRIDE + i for i in ids], truncation,
                              best_of)
    written = []
    for test_id, image in zip(ids, images):
        path = out / f"inference_{test_id}.jpg"
        _save(image, path, "JPEG")
        written.append(path)
    write_record(out, sampler, mode="competition", seed=int(seed), seed_stride=COMPETITION_SEED_STRIDE,
                 truncation=float(truncation), best_of=int(best_of), images=len(written))
    if zip_path:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in written:
                archive.write(path, arcname=os.path.join("inference", path.name))
        atomic.write_bytes(zip_path, buffer.getvalue())
    return written
