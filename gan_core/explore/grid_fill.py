"""Curation helpers for the report grid: pick a cell's seed among K candidates, by the GAN's own D or
(labelled "evaluator-picked") by the flowers evaluator, and each cell's competition cosine term.

Manual curation of a figure only: nothing here feeds training.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def cosine_to_real(evaluator, images: np.ndarray, test_ids: Sequence[int]) -> np.ndarray:
    """float64 [N]: the competition's per-image cosine term, between the evaluator's logits of each image
    (uint8 [N, 64, 64, 3], JPEG round trip as a written folder is scored) and of its real test image."""
    from gan_core.eval.evaluate import jpeg_round_trip
    from gan_core.eval.metrics.competition import _reference_rows, cosine_distance

    logits, _ = evaluator.predict(jpeg_round_trip(np.asarray(images, np.uint8)))
    logits = np.asarray(logits, np.float64)
    return cosine_distance(logits, _reference_rows(test_ids, evaluator.references, logits.shape[1]))


def pick_seeds(sampler, captions: Sequence[str], candidates: Sequence[Sequence[int]], truncation: float,
               best_of: int, score=None) -> list[int]:
    """Per caption, the candidate seed whose image rates best: by the GAN's D (higher logit) or, with
    score(images [K*N...], rows) -> higher is better, by that. Ties: the first candidate."""
    k = len(candidates[0])
    flat_captions = [c for c in captions for _ in range(k)]
    flat_seeds = [int(s) for row in candidates for s in row]
    images = sampler.generate(flat_captions, flat_seeds, truncation, best_of)
    if score is None:
        rating = sampler.rate(images, sampler.encode(flat_captions).embeddings)
    else:
        rating = np.asarray(score(images, [r for r in range(len(captions)) for _ in range(k)]), np.float64)
    best = np.asarray(rating).reshape(len(captions), k).argmax(axis=1)
    return [int(candidates[n][best[n]]) for n in range(len(captions))]


__all__ = ["cosine_to_real", "pick_seeds"]
