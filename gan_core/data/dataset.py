"""Reader for a prepared dataset (see prepare.py) and the tf.data training pipeline.

The GAN side reads images, captions and tokens only; flower class ids live in classes.csv and are
read by `load_class_ids`, which only the evaluation classifier calls.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from gan_core import UserError
from gan_core.data.prepare import FORMAT
from gan_core.data.text import Vocabulary

PIPELINE_PARALLEL = 2  # batches assembled at once
PIPELINE_PREFETCH = 4  # batches ready ahead of the step
PREPARE_HINT = "python scripts/prepare_data.py --source ../shared/data/oxford102 --out data/oxford102"


class PreparedDataset:
    """A prepared dataset folder, checked against its manifest on open."""

    def __init__(self, root: str | Path, verify_checksums: bool = False):
        self.root = Path(root)
        manifest_path = self.root / "manifest.json"
        if not manifest_path.is_file():
            raise UserError(f"no prepared dataset at {self.root} (manifest.json missing); run: {PREPARE_HINT}")
        try:
            self.manifest = json.loads(manifest_path.read_text())
        except ValueError:
            raise UserError(f"{manifest_path} is not valid JSON; prepare the data again") from None
        if self.manifest.get("format") != FORMAT:
            raise UserError(f"{self.root} has format {self.manifest.get('format')!r}, expected {FORMAT!r}; prepare again")
        for name, meta in self.manifest["files"].items():
            path = self.root / name
            if not path.is_file() or path.stat().st_size != meta["bytes"]:
                raise UserError(f"{path} is missing or has the wrong size; prepare the data again")
            if verify_checksums:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest != meta["sha256"]:
                    raise UserError(f"{path} fails its checksum; prepare the data again")
        self.sizes = tuple(self.manifest["sizes"])
        self.vocab = Vocabulary.load(self.root / "vocab.json")
        self.image_table = pd.read_csv(self.root / "images.csv")
        self.captions = pd.read_csv(self.root / "captions.csv", keep_default_na=False)
        self.tokens = np.load(self.root / "tokens.npy")
        self.test_captions = pd.read_csv(self.root / "test_captions.csv", keep_default_na=False)

    def images(self, size: int) -> np.ndarray:
        """uint8 [N, size, size, 3], memory-mapped; row i is image_table row i."""
        if size not in self.sizes:
            raise UserError(f"dataset at {self.root} has image sizes {self.sizes}, not {size}")
        return np.load(self.root / f"images_{size}.npy", mmap_mode="r")

    @cached_property
    def train_rows(self) -> np.ndarray:
        return self.image_table.index[self.image_table["split"] == "train"].to_numpy()

    @cached_property
    def test_rows(self) -> np.ndarray:
        return self.image_table.index[self.image_table["split"] == "test"].to_numpy()

    @cached_property
    def captions_by_row(self) -> list[np.ndarray]:
        """For each image row, the indices of its captions in `captions` / `tokens`."""
        groups = self.captions.groupby("row").indices
        return [np.asarray(groups.get(r, []), dtype=np.int64) for r in range(len(self.image_table))]

    def row_of_image_id(self, image_id: int) -> int:
        rows = self.image_table.index[self.image_table["image_id"] == int(image_id)]
        if len(rows) == 0:
            raise UserError(f"image id {image_id} is not in the dataset")
        return int(rows[0])

    def test_caption(self, test_id: int) -> str:
        rows = self.test_captions[self.test_captions["ID"] == int(test_id)]
        if rows.empty:
            raise UserError(f"test ID {test_id} is not among the {len(self.test_captions)} test captions")
        return str(rows["caption"].iloc[0])


def load_class_ids(root: str | Path) -> np.ndarray:
    """Flower class (1..102) per image row. For the evaluation classifier only: never the GAN."""
    table = pd.read_csv(Path(root) / "classes.csv")
    order = pd.read_csv(Path(root) / "images.csv")["image_id"]
    return table.set_index("image_id").loc[order, "class_id"].to_numpy()


@dataclass(frozen=True)
class PipelineConfig:
    batch_size: int = 64  # images per batch; the last partial batch of an epoch is dropped
    image_size: int = 64  # training resolution
    augment: bool = True  # random crop from the larger stored size + horizontal flip
    seed: int = 0  # shuffling, caption choice and augmentation all derive from (seed, epoch)


def epoch_plan(dataset: PreparedDataset, rows: np.ndarray, config: PipelineConfig, epoch: int,
               crop_size: int) -> dict[str, np.ndarray]:
    """All randomness of one epoch, drawn in numpy from (seed, epoch): fully deterministic.

    -> dict of equal-length arrays: image row, matching caption, mismatching caption (a caption
    of another image), crop offsets and flip flags.
    """
    rng = np.random.default_rng([config.seed, epoch])
    order = rng.permutation(rows)
    n = len(order) - len(order) % config.batch_size
    order = order[:n]
    groups = dataset.captions_by_row
    right = np.array([groups[r][rng.integers(len(groups[r]))] for r in order], dtype=np.int64)
    other = rng.integers(len(rows) - 1, size=n)
    # Pick another image uniformly: draw among the others by skipping the image's own position.
    pos = np.searchsorted(np.sort(rows), order)
    other = np.sort(rows)[other + (other >= pos)]
    wrong = np.array([groups[r][rng.integers(len(groups[r]))] for r in other], dtype=np.int64)
    max_offset = crop_size - config.image_size
    return {
        "row": order,
        "caption": right,
        "wrong_caption": wrong,
        "offset_y": rng.integers(max_offset + 1, size=n) if config.augment else np.full(n, max_offset // 2),
        "offset_x": rng.integers(max_offset + 1, size=n) if config.augment else np.full(n, max_offset // 2),
        "flip": rng.random(n) < 0.5 if config.augment else np.zeros(n, bool),
    }


def make_pipeline(dataset: PreparedDataset, config: PipelineConfig, epoch: int, split: str = "train"):
    """tf.data.Dataset of batches {images [-1,1] float32 [B,S,S,3], captions, wrong_captions int32 [B,L]}."""
    import tensorflow as tf

    rows = dataset.train_rows if split == "train" else dataset.test_rows
    if len(rows) < max(2, config.batch_size):
        raise UserError(f"the {split} split has {len(rows)} images, fewer than one batch of {config.batch_size}")
    crop_size = max(s for s in dataset.sizes if s >= config.image_size) if config.augment else config.image_size
    if crop_size not in dataset.sizes:
        raise UserError(f"dataset has no images at {config.image_size}px")
    plan = epoch_plan(dataset, rows, config, epoch, crop_size)
    images = tf.constant(np.asarray(dataset.images(crop_size)))
    tokens = tf.constant(dataset.tokens)
    size = config.image_size

    def assemble(batch):
        imgs = tf.gather(images, batch["row"])
        # One crop window per image: gather with per-image offsets via extract of index grids.
        ys = batch["offset_y"][:, None] + tf.range(size, dtype=tf.int64)[None, :]
        xs = batch["offset_x"][:, None] + tf.range(size, dtype=tf.int64)[None, :]
        imgs = tf.gather(imgs, ys, axis=1, batch_dims=1)
        imgs = tf.gather(imgs, xs, axis=2, batch_dims=1)
        imgs = tf.where(batch["flip"][:, None, None, None], tf.reverse(imgs, axis=[2]), imgs)
        imgs = tf.cast(imgs, tf.float32) / 127.5 - 1.0
        return {
            "images": imgs,
            "captions": tf.gather(tokens, batch["caption"]),
            "wrong_captions": tf.gather(tokens, batch["wrong_caption"]),
        }

    ds = tf.data.Dataset.from_tensor_slices(plan).batch(config.batch_size, drop_remainder=True)
    ds = ds.map(assemble, num_parallel_calls=PIPELINE_PARALLEL, deterministic=True).prefetch(PIPELINE_PREFETCH)
    # No autotuning: the loop makes a pipeline per epoch, and dropping one whose autotune thread was
    # running stalled training at every epoch end (main thread in the old iterator's destructor):
    # 4, 12 and 37 s per boundary in three runs of 2026-12-07, -0.1 s after this change
    # (benchmarks/epoch_boundary.py). A batch costs milliseconds against a step's second.
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)
