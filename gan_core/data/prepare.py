"""Raw Oxford-102 source -> a compact, versioned prepared dataset (see dataset.py for the reader).

Output folder (format `gan_core.dataset/1`), all rows in image order:
  images_{S}.npy      uint8 [N, S, S, 3] for each size S (default 64 and 76 for crop augmentation)
  images.csv          row, image_id, split, test_id
  captions.csv        image_id, row, caption_index, split, length, text
  tokens.npy          int32 [num_captions, max_len] word ids (vocab.json)
  vocab.json          vocabulary built from the training captions only
  test_captions.csv   ID, caption: the competition's test captions (or a documented default)
  classes.csv         image_id, class_id: ONLY for the separate evaluation classifier; the GAN
                      pipeline never opens this file
  manifest.json       format, counts, config, source fingerprint, skipped files, file checksums
The folder is written to a temporary sibling and renamed into place when complete, so an
interrupted run never leaves a folder that loads as a dataset.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from gan_core import UserError, atomic
from gan_core.data import competition, sources, text
from gan_core.outputs import check_output_folder, stored_format

FORMAT = "gan_core.dataset/1"
DEFAULT_SIZES = (64, 76)
SMALL_VOCABULARY = 100  # fewer words than this: most caption words read as <RARE>, said as a warning


@dataclass(frozen=True)
class PrepareConfig:
    sizes: tuple[int, ...] = DEFAULT_SIZES  # square sizes the images are stored at
    min_count: int = 2  # a word needs this many training occurrences to enter the vocabulary
    max_len: int = text.DEFAULT_MAX_LEN  # tokens kept per caption (the competition uses 20)
    split_csv: str | None = None  # image_id,split[,test_id] file
    competition_dir: str | None = None  # folder with testData.pkl and dictionary/ (pickles!)
    test_every: int = 10  # default split: every test_every-th image of each class is test

    def check(self) -> None:
        if not self.sizes or min(self.sizes) < 8:
            raise UserError(f"sizes must be integers >= 8, got {self.sizes}")
        if self.min_count < 1:
            raise UserError(f"--min-count must be at least 1, got {self.min_count}")
        if self.max_len < 1:
            raise UserError(f"--max-len must be at least 1 (tokens per caption), got {self.max_len}")
        if self.test_every < 2:
            raise UserError(f"test_every must be at least 2, got {self.test_every}")


def is_prepared_dataset(path: Path) -> bool:
    """Whether `path` is this module's output (what prepare may replace): its manifest names the format."""
    return stored_format(path, "manifest.json").startswith("gan_core.dataset/")


def check_output(source: str | Path, out: str | Path, config: PrepareConfig) -> None:
    """Refuse, before any work, an --out that is not a prepared dataset or that holds an input."""
    check_output_folder(out, "--out", is_prepared_dataset, "a prepared dataset (no manifest.json of this format)",
                        inputs=[source, config.split_csv, config.competition_dir])


@dataclass
class Summary:
    images: int = 0
    captions: int = 0
    vocabulary: int = 0
    train: int = 0
    test: int = 0
    test_captions: int = 0
    test_captions_matched: int = 0
    converted: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    up_to_date: bool = False

    def lines(self) -> list[str]:
        out = [
            f"images: {self.images} ({self.train} train / {self.test} test)",
            f"captions: {self.captions}; vocabulary: {self.vocabulary} words",
            f"test captions: {self.test_captions} ({self.test_captions_matched} matched to text_c10)",
            f"converted: {len(self.converted)}; skipped: {len(self.skipped)}",
        ]
        out += [f"  converted {path}: {why}" for why, path in self.converted[:50]]
        out += [f"  skipped {path}: {why}" for why, path in self.skipped[:50]]
        out += [f"warning: {w}" for w in self.warnings]
        if len(self.skipped) > 50:
            out.append(f"  ... and {len(self.skipped) - 50} more skipped (see manifest.json)")
        return out


def load_image(path: Path, sizes: tuple[int, ...]) -> tuple[list[np.ndarray], str | None]:
    """Decode any PIL-readable image to RGB and resize the whole picture to each size.

    Returns (arrays, conversion note or None). Raises OSError/ValueError for unreadable files,
    including truncated JPEGs (PIL refuses them unless told otherwise).
    """
    data = path.read_bytes()
    with Image.open(io.BytesIO(data)) as img:
        note = []
        if img.format not in ("JPEG", "MPO"):
            note.append(f"{img.format} data in a {path.suffix} file")
        if img.mode != "RGB":
            note.append(f"{img.mode} -> RGB")
        # No JPEG draft mode: its DCT downscale would make each size depend on the others requested.
        img.load()
        rgb = img.convert("RGB")
    arrays = [np.asarray(rgb.resize((s, s), Image.Resampling.LANCZOS), dtype=np.uint8) for s in sizes]
    return arrays, ("; ".join(note) or None)


def _fingerprint(index: sources.SourceIndex, config: PrepareConfig) -> str:
    digest = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode())
    digest.update(FORMAT.encode())
    files = [p for p in index.images.values()] + [p for _, p in index.caption_files.values()]
    for extra in (config.split_csv, config.competition_dir and Path(config.competition_dir) / "testData.pkl"):
        if extra:
            files.append(Path(extra))
    for path in sorted(files):
        stat = path.stat()
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _read_split_csv(path: Path) -> dict[int, str]:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        split = {int(r["image_id"]): r["split"].strip() for r in rows}
    except (OSError, KeyError, ValueError) as exc:
        raise UserError(f"cannot read split file {path} (need columns image_id,split): {exc}") from None
    bad = {s for s in split.values() if s not in ("train", "test")}
    if bad:
        raise UserError(f"split file {path} has unknown split names {sorted(bad)}; use train/test")
    return split


def _default_split(class_of: dict[int, int], every: int) -> dict[int, str]:
    """Every `every`-th image (by id) of each class is test: deterministic and stratified."""
    split: dict[int, str] = {}
    by_class: dict[int, list[int]] = {}
    for image_id, cls in class_of.items():
        by_class.setdefault(cls, []).append(image_id)
    for ids in by_class.values():
        for pos, image_id in enumerate(sorted(ids)):
            split[image_id] = "test" if pos % every == every - 1 else "train"
    return split


def _match_test_caption(tokens: list[str], captions: list[str], max_len: int) -> str | None:
    """The text_c10 caption whose normalised first max_len tokens equal `tokens` (<RARE> = any word)."""
    for caption in captions:
        cand = text.tokenize(caption)[:max_len]
        if len(cand) == len(tokens) and all(t in (competition.COMPETITION_RARE, c) for t, c in zip(tokens, cand)):
            return " ".join(cand)
    return None


def _write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare(source: str | Path, out: str | Path, config: PrepareConfig = PrepareConfig(),
            progress: bool = True, force: bool = False) -> Summary:
    from tqdm import tqdm

    out = Path(out)
    config.check()
    check_output(source, out, config)
    index = sources.index_source(source)
    fingerprint = _fingerprint(index, config)
    manifest_path = out / "manifest.json"
    if not force and manifest_path.is_file():
        try:
            old = json.loads(manifest_path.read_text())
            if old.get("format") == FORMAT and old.get("source_fingerprint") == fingerprint and all(
                (out / name).is_file() and (out / name).stat().st_size == meta["bytes"]
                for name, meta in old["files"].items()
            ):
                summary = Summary(**{k: v for k, v in old["summary"].items() if k in Summary.__dataclass_fields__})
                summary.up_to_date = True
                return summary
        except (ValueError, KeyError, TypeError, OSError):
            pass  # unreadable manifest: rebuild

    summary = Summary()
    summary.skipped.extend((why, path) for why, path in index.problems)

    # Captions first: an image is usable only with at least one caption.
    captions_of: dict[int, list[str]] = {}
    class_of: dict[int, int] = {}
    for image_id, (cls, path) in sorted(index.caption_files.items()):
        lines = sources.read_captions(path)
        if lines is None:
            summary.skipped.append(("caption file is not UTF-8 text", str(path)))
        elif not lines:
            summary.skipped.append(("empty caption file", str(path)))
        elif image_id not in index.images:
            summary.skipped.append(("caption file without an image", str(path)))
        else:
            captions_of[image_id] = lines
            class_of[image_id] = cls
    for image_id, path in sorted(index.images.items()):
        if image_id not in index.caption_files:
            summary.skipped.append(("image without captions", str(path)))

    # Images.
    arrays: dict[int, list[np.ndarray]] = {}
    ids = sorted(captions_of)
    for image_id in tqdm(ids, desc="images", unit="img", disable=not progress, mininterval=1.0):
        path = index.images[image_id]
        try:
            arrays[image_id], note = load_image(path, config.sizes)
        except Exception as exc:  # PIL raises several types for broken files
            summary.skipped.append((f"unreadable image ({type(exc).__name__}: {exc})", str(path)))
            continue
        if note:
            summary.converted.append((note, str(path)))
    ids = [i for i in ids if i in arrays]
    if not ids:
        raise UserError(f"nothing usable in {source}: no image has both a readable picture and captions")

    # Split and competition test captions.
    test_rows: list[tuple[int, str]] = []
    if config.competition_dir:
        comp = Path(config.competition_dir)
        tests = competition.load_test_data(comp / "testData.pkl")
        id2word = competition.load_id2word(comp / "dictionary")
        test_ids = {t.test_id for t in tests}
        split = {i: ("test" if i in test_ids else "train") for i in ids}
        for t in tests:
            tokens = competition.decode(t.word_ids, id2word)
            matched = _match_test_caption(tokens, captions_of.get(t.test_id, []), config.max_len)
            summary.test_captions_matched += matched is not None
            fallback = " ".join(w for w in tokens if w != competition.COMPETITION_RARE)
            test_rows.append((t.test_id, matched if matched is not None else fallback))
    elif config.split_csv:
        split_map = _read_split_csv(Path(config.split_csv))
        missing = [i for i in ids if i not in split_map]
        if missing:
            raise UserError(f"split file {config.split_csv} has no row for {len(missing)} images, e.g. {missing[:3]}")
        split = {i: split_map[i] for i in ids}
    else:
        split = _default_split({i: class_of[i] for i in ids}, config.test_every)
    if not test_rows:
        # Without the competition file each test image's first caption stands in for its test caption.
        test_rows = [(i, " ".join(text.tokenize(captions_of[i][0])[: config.max_len])) for i in ids if split[i] == "test"]
        summary.test_captions_matched = len(test_rows)

    train_captions = [c for i in ids if split[i] == "train" for c in captions_of[i]]
    if not train_captions:
        raise UserError("the split leaves no training images")
    vocab = text.Vocabulary.build(train_captions, min_count=config.min_count, max_len=config.max_len)
    if len(vocab) < SMALL_VOCABULARY:
        summary.warnings.append(f"the vocabulary has only {len(vocab)} words (--min-count {config.min_count}): most "
                                f"caption words will read as <RARE>")

    caption_rows, token_rows = [], []
    for row, image_id in enumerate(ids):
        for k, caption in enumerate(captions_of[image_id]):
            enc = vocab.encode(caption)
            caption_rows.append((image_id, row, k, split[image_id], enc.length, caption))
            token_rows.append(enc.ids)

    with atomic.atomic_dir(out, owned=is_prepared_dataset) as tmp:
        for s_idx, size in enumerate(config.sizes):
            np.save(tmp / f"images_{size}.npy", np.stack([arrays[i][s_idx] for i in ids]))
        np.save(tmp / "tokens.npy", np.stack(token_rows).astype(np.int32))
        _write_csv(tmp / "images.csv", ["row", "image_id", "split", "test_id"],
                   [(r, i, split[i], i if split[i] == "test" else "") for r, i in enumerate(ids)])
        _write_csv(tmp / "captions.csv", ["image_id", "row", "caption_index", "split", "length", "text"], caption_rows)
        _write_csv(tmp / "test_captions.csv", ["ID", "caption"], test_rows)
        _write_csv(tmp / "classes.csv", ["image_id", "class_id"], [(i, class_of[i]) for i in ids])
        vocab.save(tmp / "vocab.json")

        summary.images = len(ids)
        summary.captions = len(caption_rows)
        summary.vocabulary = len(vocab)
        summary.train = sum(split[i] == "train" for i in ids)
        summary.test = sum(split[i] == "test" for i in ids)
        summary.test_captions = len(test_rows)
        files = {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)} for p in sorted(tmp.iterdir())}
        manifest = {
            "format": FORMAT,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": str(Path(source).resolve()),
            "source_fingerprint": fingerprint,
            "config": asdict(config),
            "sizes": list(config.sizes),
            "summary": asdict(summary),
            "files": files,
        }
        # The manifest is the last file written: a folder without it is never a dataset.
        atomic.write_json(tmp / "manifest.json", manifest)
    return summary
