"""Batch generation to files: caption lists (LLLL_sS.png) and the competition's 819 test images."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image

from gan_core import UserError, atomic
from gan_core.data.imagefolder import RECORD_NAME
from gan_core.data.text import normalize
from gan_core.outputs import check_output_file, check_output_folder, echo
from gan_core.sample.sampler import Sampler

COMPETITION_SEED_STRIDE = 100_000  # image seed = seed * stride + test ID: distinct per image, reproducible
# What this module writes into an output folder besides the record: nothing else is replaced unasked.
# generate.py --latents (gan_core.explore.latents.render_files) writes latent_NNNN.png in mode "latents".
_OWN_FILE = re.compile(r"(inference_[0-9]+\.jpg|[0-9]{4,}_s[0-9]+\.png|latent_[0-9]{4,}\.png)")
_OWN_MODES = ("captions", "competition", "latents")


def competition_file_name(test_id: int) -> str:
    """The competition template's name, `inference_{:04d}.jpg`: sorted names are sorted IDs."""
    return f"inference_{int(test_id):04d}.jpg"


def caption_file_name(line: int, seed: int) -> str:
    return f"{line:04d}_s{seed}.png"


def is_generated_folder(path: Path) -> bool:
    """Whether `path` is this module's output: its record, and only images named as it names them."""
    try:
        record = json.loads((Path(path) / RECORD_NAME).read_text())
    except (OSError, ValueError):
        return False
    others = [p for p in Path(path).iterdir() if p.name != RECORD_NAME]
    return (isinstance(record, dict) and record.get("mode") in _OWN_MODES
            and all(p.is_file() and _OWN_FILE.fullmatch(p.name) for p in others))


def check_outputs(out: str | Path, zip_path: str | Path | None = None, inputs=()) -> None:
    """Refuse bad output paths before any model loads: --out must be new, empty or an earlier output
    of this command, and hold no input; the zip must be a writable file outside --out."""
    check_output_folder(out, "--out", is_generated_folder,
                        "a folder written by generate.py (its generation.json and images only)", inputs=inputs)
    if zip_path:
        check_output_file(zip_path, "--zip")
        if Path(out).resolve() in Path(zip_path).resolve().parents:
            raise UserError(f"--zip {zip_path} lies inside --out {out}, which is replaced as a whole; put it elsewhere")


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
            raise UserError(f"captions file {path}, line {number}: the caption is empty or has no letters/digits "
                            f"({echo(line)})")
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
    """Every caption x every seed -> out/LLLL_sS.png (LLLL = 0-based line number), plus the record.
    The folder is written aside and moved into place when complete (an earlier output is replaced)."""
    check_outputs(out)
    out = Path(out)
    images = sampler.grid(captions, seeds, truncation, best_of)
    names = []
    with atomic.atomic_dir(out, owned=is_generated_folder) as tmp:
        for line, row in enumerate(images):
            for seed, image in zip(seeds, row):
                names.append(caption_file_name(line, seed))
                _save(image, tmp / names[-1], "PNG")
        write_record(tmp, sampler, mode="captions", seeds=[int(s) for s in seeds], truncation=float(truncation),
                     best_of=int(best_of), images=len(names))
    return [out / name for name in names]


def generate_competition(sampler: Sampler, test_rows: Sequence[tuple[int, str]], out: str | Path,
                         seed: int = 0, zip_path: str | Path | None = None, truncation: float = 1.0,
                         best_of: int = 1) -> list[Path]:
    """One 64x64 JPEG per test ID: out/inference_0023.jpg (the template's names), plus the record
    (generation.json, which the folder reader ignores); optionally a submission zip of the images.
    Everything is written aside and moved into place when complete: an interrupted or failed run
    (a full disk) leaves the old folder and zip as they were."""
    check_outputs(out, zip_path)
    out = Path(out)
    ids = [i for i, _ in test_rows]
    if len(set(ids)) != len(ids):
        raise UserError("test captions repeat an ID")
    images = sampler.generate([c for _, c in test_rows], [seed * COMPETITION_SEED_STRIDE + i for i in ids], truncation,
                              best_of)
    names = [competition_file_name(i) for i in ids]
    with atomic.atomic_dir(out, owned=is_generated_folder) as tmp:
        for name, image in zip(names, images):
            _save(image, tmp / name, "JPEG")
        write_record(tmp, sampler, mode="competition", seed=int(seed), seed_stride=COMPETITION_SEED_STRIDE,
                     truncation=float(truncation), best_of=int(best_of), images=len(names))
        if zip_path:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name in sorted(names):
                    archive.write(tmp / name, arcname=os.path.join("inference", name))
            atomic.write_bytes(zip_path, buffer.getvalue())
    return [out / name for name in names]
