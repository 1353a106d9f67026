"""A tiny synthetic Oxford-102-like source, in the official layouts, with optional broken files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = {"red": (220, 30, 30), "yellow": (240, 220, 40), "blue": (40, 60, 220), "white": (245, 245, 245)}


def flower(colour: tuple[int, int, int], size: int, rng: np.random.Generator) -> np.ndarray:
    """A coloured disc with a jittered centre on a green background."""
    yy, xx = np.mgrid[:size, :size]
    cy, cx = size / 2 + rng.normal(0, size / 12, 2)
    r = size * rng.uniform(0.25, 0.4)
    img = np.zeros((size, size, 3), np.uint8)
    img[:] = (40, 120, 40)
    disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
    img[disc] = colour
    return img


def make_source(root: Path, per_class: int = 12, size: int = 80, image_dir: str = "jpg", seed: int = 0,
                broken: bool = False) -> Path:
    """root/{image_dir}/image_XXXXX.jpg + root/text_c10/class_CCCCC/image_XXXXX.txt; 10 captions each."""
    rng = np.random.default_rng(seed)
    images = root / image_dir
    images.mkdir(parents=True, exist_ok=True)
    image_id = 1
    for cls, (name, rgb) in enumerate(COLOURS.items(), start=1):
        cdir = root / "text_c10" / f"class_{cls:05d}"
        cdir.mkdir(parents=True, exist_ok=True)
        for _ in range(per_class):
            Image.fromarray(flower(rgb, size, rng)).save(images / f"image_{image_id:05d}.jpg", quality=95)
            lines = [f"this flower has {name} petals and a round shape.", f"the petals are {name}, bright and wide",
                     f"a {name} flower", f"{name} petals surround the center", f"this is a {name} bloom with many petals",
                     f"petals of {name} colour", f"a flower with {name} petals.", f"the {name} flower is round",
                     f"{name}, {name} and more {name}", f"large {name} petals"]
            (cdir / f"image_{image_id:05d}.txt").write_text("\n".join(lines) + "\n")
            image_id += 1
    if broken:
        add_broken_files(root, image_dir, image_id)
    return root


def add_broken_files(root: Path, image_dir: str, start: int) -> dict[str, int]:
    """Adds one of each problem; returns their image ids by kind."""
    images, text = root / image_dir, root / "text_c10" / "class_00001"
    ids = {}

    def caption(i):
        (text / f"image_{i:05d}.txt").write_text("a red flower with red petals\n" * 10)

    i = start
    ids["truncated"] = i  # truncated JPEG
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(buf, format="JPEG")
    (images / f"image_{i:05d}.jpg").write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    caption(i)
    i += 1
    ids["garbage"] = i  # not an image at all
    (images / f"image_{i:05d}.jpg").write_bytes(b"this is not a jpeg")
    caption(i)
    i += 1
    ids["grayscale"] = i  # converted
    Image.fromarray(np.full((70, 50), 128, np.uint8), mode="L").save(images / f"image_{i:05d}.jpg")
    caption(i)
    i += 1
    ids["cmyk"] = i  # converted
    Image.new("CMYK", (60, 60), (0, 255, 255, 0)).save(images / f"image_{i:05d}.jpg")
    caption(i)
    i += 1
    ids["png"] = i  # PNG data in a .jpg file, with alpha: converted
    Image.new("RGBA", (40, 40), (255, 0, 0, 128)).save(images / f"image_{i:05d}.jpg", format="PNG")
    caption(i)
    i += 1
    ids["no_image"] = i  # caption file without an image
    caption(i)
    i += 1
    ids["no_caption"] = i  # image without captions
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(images / f"image_{i:05d}.jpg")
    i += 1
    ids["empty_caption"] = i  # empty caption file
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(images / f"image_{i:05d}.jpg")
    (text / f"image_{i:05d}.txt").write_text("  \n\n")
    i += 1
    ids["latin1"] = i  # non-UTF-8 caption file
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(images / f"image_{i:05d}.jpg")
    (text / f"image_{i:05d}.txt").write_bytes("p\xe9tales rouges\n".encode("latin-1"))
    return ids
