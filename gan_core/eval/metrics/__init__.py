"""Evaluation metrics as pure numpy functions: arrays in, numbers out, one metric per module.

- inception_score: Inception Score (Salimans et al. 2016) and a stable softmax
- competition:     the Reverse Image Caption leaderboard score (cosine distance + 0.5 / IS)
- fid:             Frechet Inception Distance (Heusel et al. 2017)
- rprecision:      R-precision and caption cosine (Xu et al. 2018, AttnGAN)

Nothing here loads a model; evaluators (gan_core.eval.evaluators) turn images into logits and features.
"""

from gan_core.eval.metrics.competition import competition_score, competition_scores, cosine_distance
from gan_core.eval.metrics.fid import fid_from_features, frechet_distance
from gan_core.eval.metrics.inception_score import inception_score, softmax
from gan_core.eval.metrics.rprecision import caption_cosine, r_precision

__all__ = [
    "caption_cosine",
    "competition_score",
    "competition_scores",
    "cosine_distance",
    "fid_from_features",
    "frechet_distance",
    "inception_score",
    "r_precision",
    "softmax",
]
