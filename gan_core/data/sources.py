"""Discovery and reading of a raw Oxford-102 source folder (official layout or the dev copy).

Accepted layouts, first match wins:
- images: DIR/jpg/, DIR/102flowers/jpg/, DIR/102flowers/, DIR/images_*/ (largest size first), or
  image_*.jpg directly in DIR;
- captions: DIR/text_c10/class_CCCCC/image_XXXXX.txt or DIR/cvpr2016_flowers/text_c10/...
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gan_core import UserError

_IMAGE_NAME = re.compile(r"^image_(\d+)\.(jpe?g|png)$", re.IGNORECASE)
_CAPTION_NAME = re.compile(r"^image_(\d+)\.txt$")
_CLASS_DIR = re.compile(r"^class_(\d+)$")


@dataclass
class SourceIndex:
    image_dir: Path
    text_dir: Path
    images: dict[int, Path]  # image id -> file
    caption_files: dict[int, tuple[int, Path]]  # image id -> (class id, file)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (kind, path)


def _image_dir_candidates(source: Path) -> list[Path]:
    fixed = [source / "jpg", source / "102flowers" / "jpg", source / "102flowers"]
    sized = sorted(source.glob("images_*"), key=lambda p: -int(re.sub(r"\D", "", p.name) or 0))
    return [p for p in fixed + sized + [source] if p.is_dir()]


def find_image_dir(source: Path) -> Path:
    for candidate in _image_dir_candidates(source):
        if any(_IMAGE_NAME.match(p.name) for p in candidate.iterdir()):
            return candidate
    raise UserError(f"no image_XXXXX.jpg files under {source} (looked in jpg/, 102flowers/, images_*/)")


def find_text_dir(source: Path) -> Path:
    for candidate in (source / "text_c10", source / "cvpr2016_flowers" / "text_c10"):
        if candidate.is_dir():
            return candidate
    raise UserError(f"no caption folder under {source} (expected text_c10/class_CCCCC/image_XXXXX.txt)")


def index_source(source: str | Path) -> SourceIndex:
    source = Path(source)
    if not source.is_dir():
        raise UserError(f"source folder does not exist: {source}")
    image_dir = find_image_dir(source)
    text_dir = find_text_dir(source)
    problems: list[tuple[str, str]] = []

    images: dict[int, Path] = {}
    for path in sorted(image_dir.iterdir()):
        match = _IMAGE_NAME.match(path.name)
        if match and path.is_file():
            images[int(match.group(1))] = path

    caption_files: dict[int, tuple[int, Path]] = {}
    for class_dir in sorted(text_dir.iterdir()):
        class_match = _CLASS_DIR.match(class_dir.name)
        if not class_match or not class_dir.is_dir():
            continue
        for path in sorted(class_dir.iterdir()):
            match = _CAPTION_NAME.match(path.name)
            if match:
                image_id = int(match.group(1))
                if image_id in caption_files:
                    problems.append(("duplicate caption file", str(path)))
                    continue
                caption_files[image_id] = (int(class_match.group(1)), path)
    if not caption_files:
        raise UserError(f"no caption files in {text_dir} (expected class_CCCCC/image_XXXXX.txt)")
    return SourceIndex(image_dir, text_dir, images, caption_files, problems)


def read_captions(path: Path) -> list[str] | None:
    """The non-empty lines of a caption file, or None when it is not UTF-8 text."""
    try:
        text = path.read_bytes().decode("utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    return [line.strip() for line in text.splitlines() if line.strip()]
