"""Read a folder of inference images the way the competition's scorer does.

Each file is read with TensorFlow ops exactly as the scorer does: `tf.image.decode_image(...,
channels=3, expand_animations=False)`, `tf.image.convert_image_dtype` to float in [0, 1],
`tf.image.resize` (bilinear, no antialiasing) to 64x64 whatever the stored size, times 255.
The result is float32 [N, 64, 64, 3] in [0, 255]; each evaluator applies its own normalisation.

The test ID of a file is the integer after the last `_` of its name without extension
(`inference_0023.jpg`, the competition template's name, and `inference_23.jpg` -> 23; `6735.jpg`
-> 6735). Files are taken in sorted name order, as the competition's scorer takes them (a file's
row in the result is also its `id` row in the competition's CSV); with the template's zero-padded
names that is test ID order ("inference_1008" would sort before "inference_120" unpadded).

Bad input:
- a missing path, a path that is not a folder, or a folder without any file -> UserError;
- files that are not `.jpg` / `.jpeg` / `.png` (any case) -> ignored, listed in `problems`
  (except generation.json, the record scripts/generate.py writes, ignored silently);
  subfolders are ignored silently;
- a name without an integer after the last `_` -> skipped, listed in `problems`;
- a file that cannot be decoded (corrupt, truncated, not really an image) -> skipped, listed;
- two files with one test ID (`a_7.jpg` and `a_07.png`) -> UserError naming both;
- with `confine` (the dashboard's reads), a file or link that resolves outside the folder -> skipped,
  listed (a link `inference_1.jpg -> /etc/passwd` is never opened);
- no readable image left after skipping -> UserError with the first problems.
The scorer itself reads only `*.jpg`; `.jpeg` and `.png` are accepted here for convenience.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from gan_core import UserError

IMAGE_SIZE = 64  # the competition scores 64x64 images
EXTENSIONS = (".jpg", ".jpeg", ".png")
RECORD_NAME = "generation.json"  # gan_core.sample.inference's record of how a folder was made: not a problem
_ID = re.compile(r"[0-9]+")


def parse_test_id(name: str) -> int | None:
    """The integer after the last `_` of the file stem, or None when there is none."""
    tail = Path(name).stem.rsplit("_", 1)[-1]
    return int(tail) if _ID.fullmatch(tail) else None


def _reason(exc: Exception) -> str:
    """One readable line from a TensorFlow error ("{{function_node ...}} Unknown image ... [Op:X]")."""
    text = getattr(exc, "message", None) or str(exc)
    text = re.sub(r"\{\{[^}]*\}\}|\[Op:[^\]]*\]", "", text).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__


def _check_decodable(data: bytes) -> None:
    """Raise for data that PIL cannot decode whole: TensorFlow's libjpeg prints "Improper call to JPEG
    library" straight to stderr for a truncated JPEG, so such a file never reaches it."""
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()


def decode_for_scoring(data: bytes):
    """Encoded image bytes -> float32 [64, 64, 3] in [0, 255], as the competition's scorer reads it."""
    import tensorflow as tf

    _check_decodable(data)
    image = tf.image.decode_image(data, channels=3, expand_animations=False)
    image = tf.image.convert_image_dtype(image, tf.float32)
    image = tf.image.resize(image, [IMAGE_SIZE, IMAGE_SIZE])
    return (image * 255.0).numpy()


def load_image_folder(path: str | Path, confine: bool = False
                      ) -> tuple[np.ndarray, np.ndarray, list[str], list[tuple[str, str]]]:
    """(images float32 [N, 64, 64, 3] in [0, 255], test ids int64 [N], file names, problems).

    `problems` lists (file name, reason) for every file that was ignored or skipped; see the
    module docstring for what is skipped and what is an error. `confine`: skip every file whose
    resolved path (links followed) lies outside the folder's resolved path.
    """
    folder = Path(path)
    if not folder.exists():
        raise UserError(f"image folder not found: {folder}")
    if not folder.is_dir():
        raise UserError(f"not a folder: {folder}")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name != RECORD_NAME)
    if not files:
        raise UserError(f"image folder is empty: {folder}")

    problems: list[tuple[str, str]] = []
    candidates: list[tuple[Path, int]] = []
    inside = folder.resolve()
    for file in files:
        if confine and inside not in file.resolve().parents:
            problems.append((file.name, "links outside the folder: not opened"))
            continue
        if file.suffix.lower() not in EXTENSIONS:
            problems.append((file.name, f"not an image file (expected {', '.join(EXTENSIONS)})"))
            continue
        test_id = parse_test_id(file.name)
        if test_id is None:
            problems.append((file.name, "no integer test ID after the last '_' in the name"))
            continue
        candidates.append((file, test_id))

    seen: dict[int, str] = {}
    for file, test_id in candidates:
        if test_id in seen:
            raise UserError(f"test ID {test_id} appears twice in {folder}: {seen[test_id]} and {file.name}")
        seen[test_id] = file.name

    images, ids, names = [], [], []
    for file, test_id in candidates:
        try:
            images.append(decode_for_scoring(file.read_bytes()))
        except Exception as exc:  # noqa: BLE001  one bad file must not stop the others
            problems.append((file.name, f"cannot decode: {_reason(exc)}"))
            continue
        ids.append(test_id)
        names.append(file.name)
    if not images:
        shown = "; ".join(f"{name}: {why}" for name, why in problems[:3])
        raise UserError(f"no readable images in {folder} ({len(problems)} file(s) skipped: {shown})")
    return np.stack(images).astype(np.float32), np.asarray(ids, dtype=np.int64), names, problems
