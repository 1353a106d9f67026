"""Evaluators: classifiers that turn competition-style images into logits and features.

An evaluator takes float32 [N, 64, 64, 3] images in [0, 255] (decoded and resized as the
competition does, see gan_core.data.imagefolder), applies its own normalisation and returns
(logits float32 [N, C], features float32 [N, F]); the metrics in gan_core.eval.metrics take it from
there. `references` maps competition test ID -> C reference logits, or is None.

Registered names (get_evaluator):
- "official":  the competition's VGG16 flower classifier (not public; needs its checkpoint and
               eval_metrics.pkl); features are its 2048-d d2 activations.
- "flowers":   our own flower classifier (gan_core/evaluators/flowers.py), with its references.
- "inception": ImageNet InceptionV3 (logits before softmax, 2048-d avg-pool features).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping, Protocol, runtime_checkable

import numpy as np

from gan_core import UserError, storage

NAMES = ("flowers", "official", "inception")
DEFAULT_BATCH = 64  # inference batch; results do not depend on it


@runtime_checkable
class Evaluator(Protocol):
    name: str  # registry name
    num_classes: int  # C, the width of the logits
    references: Mapping[int, np.ndarray] | None  # test ID -> float32 [C] reference logits

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 [N, 64, 64, 3] in [0, 255] -> (logits float32 [N, C], features float32 [N, F])."""
        ...


def check_images(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or images.shape[1:] != (64, 64, 3):
        raise ValueError(f"images must be float32 [N, 64, 64, 3] in [0, 255], got shape {images.shape}")
    return images


def predict_in_batches(
    forward: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    images: np.ndarray,
    batch_size: int = DEFAULT_BATCH,
) -> tuple[np.ndarray, np.ndarray]:
    """Run `forward` (an evaluator's `predict` or its model call) over `images` in batches.

    Any positive batch size works, including one that does not divide N (the last batch is
    smaller); the outputs are concatenated as float32.
    """
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    images = np.asarray(images, dtype=np.float32)
    logits, features = [], []
    for start in range(0, len(images), int(batch_size)):
        batch_logits, batch_features = forward(images[start : start + int(batch_size)])
        logits.append(np.asarray(batch_logits, dtype=np.float32))
        features.append(np.asarray(batch_features, dtype=np.float32))
    if not logits:
        raise ValueError("no images to predict")
    return np.concatenate(logits), np.concatenate(features)


def check_references(references: Mapping[int, np.ndarray] | None, num_classes: int, source: str):
    """References as {int: float32 [C]}; a width other than `num_classes` is a UserError."""
    if references is None:
        return None
    checked = {int(k): np.asarray(v, dtype=np.float32).reshape(-1) for k, v in references.items()}
    wrong = next((k for k, v in checked.items() if v.shape != (num_classes,)), None)
    if wrong is not None:
        raise UserError(f"{source}: reference logits for test ID {wrong} have {checked[wrong].size} values, "
                        f"the evaluator has {num_classes} classes")
    return checked


def get_evaluator(
    name: str,
    *,
    checkpoint: str | Path | None = None,  # official: checkpoint dir or ckpt-N prefix; flowers: its model path
    references: str | Path | None = None,  # a pickle of test ID -> logits (eval_metrics.pkl); runs code when read
    weights: str | Path | None = None,  # inception: the Keras InceptionV3 .h5 weights file
) -> Evaluator:
    """Load the evaluator registered as `name`; options an evaluator does not use are a UserError.

    `references`, when given, replaces the evaluator's own reference logits (the official one
    has none of its own). Heavy imports happen here, not at package import.
    """
    used = {"official": {"checkpoint", "references"}, "flowers": {"checkpoint", "references"},
            "inception": {"weights", "references"}}
    if name not in used:
        raise UserError(f"unknown evaluator {name!r}; choose one of {', '.join(NAMES)}")
    given = {key for key, value in (("checkpoint", checkpoint), ("references", references), ("weights", weights))
             if value is not None}
    unused = sorted(given - used[name])
    if unused:
        raise UserError(f"the {name} evaluator does not use {', '.join(unused)}")

    if name == "official":
        from gan_core.eval.evaluators.official import OfficialEvaluator

        evaluator = OfficialEvaluator(checkpoint)
    elif name == "inception":
        from gan_core.eval.evaluators.inception import InceptionEvaluator

        evaluator = InceptionEvaluator(weights)
    else:
        try:
            from gan_core.eval.evaluators.flowers import load_flowers_evaluator
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.flowers":
                raise
            raise UserError("the flowers evaluator is not available in this checkout "
                            "(gan_core/evaluators/flowers.py is missing)") from None
        evaluator = load_flowers_evaluator(checkpoint)
    if references is not None:
        from gan_core.data.competition import load_eval_metrics

        evaluator.references = check_references(load_eval_metrics(references), evaluator.num_classes,
                                                str(references))
        # Scores are cached under the references they were computed against (gan_core.eval.evaluate).
        evaluator.references_identity = f"file:{storage.file_identity(references)}"
    return evaluator
