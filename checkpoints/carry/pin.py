"""Re-pin tests/pinned_default.npy from a shipped snapshot: python runs/long/pin.py epoch_NNNN"""
import sys

import numpy as np

sys.path.insert(0, "tests")
from test_shipped_default import DEFAULT, PINNED_CAPTIONS, PINNED_PAIRS, PINNED_PIXELS

from gan_core.sample.sampler import Sampler

images = Sampler.load(DEFAULT / "snapshots" / sys.argv[1]).generate(
    [PINNED_CAPTIONS[c] for c, _ in PINNED_PAIRS], [seed for _, seed in PINNED_PAIRS])
np.save(PINNED_PIXELS, images)
print(images.shape, images.dtype, "->", PINNED_PIXELS)
