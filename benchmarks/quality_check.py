"""Seed diversity and colour following of a snapshot, next to the same statistics for real images.

- Within-caption diversity: mean pairwise distance between the images of one caption over 8 seeds
  (flowers-evaluator features and pixels), averaged over 60 test captions; the real-image reference
  is the same statistic over 8 real training images of one class (classes used for this reference
  only), averaged over classes.
- Colour following: for each colour word, 16 seeds of "this flower has <colour> petals"; the mean
  colour of the brightest, most saturated central pixels is matched to the nearest colour name.
  Next to it, the same namer on the real images whose captions name only that colour: the namer's
  own accuracy, the ceiling to read the generated share against.
- Seeds that fail under every caption: each seed's precision over the same 60 captions (the share
  of its images inside the real manifold, on the FID Inception features), and the seeds below what
  random seed labels give (gan_core/eval/seed_failures.py); next to it, the real test images of
  the same captions, measured the same way.
"""

from __future__ import annotations

import argparse

import numpy as np

from gan_core.data.dataset import PreparedDataset, load_class_ids
from gan_core.eval.baselines import real_test_images
from gan_core.eval.colour import PALETTE, dominant_colour, single_colour_rows
from gan_core.eval.diversity import pixel_features, within_caption_diversity
from gan_core.eval.evaluate import inception_extractor
from gan_core.eval.evaluators.flowers import load_flowers_evaluator
from gan_core.eval.realism import reference_set
from gan_core.eval.seed_failures import FAIL_ALPHA, measure_grid, probe_rows
from gan_core.sample.sampler import Sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", default="checkpoints/default")
    parser.add_argument("--data", default="data/oxford102")
    args = parser.parse_args()
    gen, dataset, evaluator = Sampler.load(args.checkpoint), PreparedDataset(args.data), load_flowers_evaluator()
    rng = np.random.default_rng(0)
    probe = dataset.test_captions.iloc[probe_rows(len(dataset.test_captions), rng=rng)]  # the dashboard's too
    captions = probe["caption"].tolist()
    grid = gen.grid(captions, list(range(8)))
    _, feats = evaluator.predict(grid.reshape(-1, 64, 64, 3).astype(np.float32))
    fake_feat = within_caption_diversity(feats.reshape(60, 8, -1))
    fake_pix = within_caption_diversity(pixel_features(grid.reshape(-1, 64, 64, 3)).reshape(60, 8, -1))

    classes = load_class_ids(dataset.root)[dataset.train_rows]
    images = np.asarray(dataset.images(64))[dataset.train_rows]
    groups = [rng.choice(np.flatnonzero(classes == c), 8, replace=False) for c in np.unique(classes)]
    real = images[np.concatenate(groups)]
    _, real_feats = evaluator.predict(real.astype(np.float32))
    real_feat = within_caption_diversity(real_feats.reshape(len(groups), 8, -1))
    real_pix = within_caption_diversity(pixel_features(real).reshape(len(groups), 8, -1))
    print(f"snapshot {gen.path} (epoch {gen.epoch})")
    print(f"within-caption diversity, flowers features: generated {fake_feat:.3f} vs real one-class {real_feat:.3f}")
    print(f"within-caption diversity, pixels (RMS):     generated {fake_pix:.3f} vs real one-class {real_pix:.3f}")
    report_seeds(grid, dataset, probe["ID"])
    # The namer's own accuracy: real images whose captions all name only this colour.
    all_images = dataset.images(64)
    real_rows = single_colour_rows(dataset.captions["row"], dataset.captions["text"])
    for colour in PALETTE:
        names = [dominant_colour(im) for im in gen.generate([f"this flower has {colour} petals"] * 16, list(range(16)))]
        share = names.count(colour) / len(names)
        others = ", ".join(f"{n} {names.count(n)}" for n in sorted(set(names)) if n != colour)
        real_names = [dominant_colour(all_images[r]) for r in real_rows[colour]]
        real_other = max((n for n in PALETTE if n != colour), key=real_names.count)
        real = (f"; real images captioned only {colour}: {real_names.count(colour) / len(real_names):.0%} of "
                f"{len(real_names)} (next: {real_other} {real_names.count(real_other) / len(real_names):.0%})"
                if real_names else "")
        print(f"colour {colour:>6}: {share:.0%} of 16 seeds read as {colour}" + (f" (others: {others})" if others else "")
              + real)


def report_seeds(grid, dataset, ids) -> None:
    """Per-seed precision of grid uint8 [C, S, 64, 64, 3], the seeds that fail under every caption,
    and the baseline: the real test images of the same captions (test IDs `ids`)."""
    extractor = inception_extractor()
    reference = reference_set(dataset, extractor)
    verdict, real = measure_grid(grid, real_test_images(dataset, ids), extractor, reference.features)
    print(f"per-seed precision over {grid.shape[0]} captions (Inception, reference {reference.name}; all images "
          f"{verdict.pooled:.3f}, real test images of the same captions {real:.3f}):")
    print("  " + ", ".join(f"seed {s} {p:.3f}" for s, p in enumerate(verdict.precision)))
    failed = ", ".join(str(s) for s in verdict.failed) or "none"
    print(f"seeds failing under every caption (below {verdict.threshold:.3f}, the {FAIL_ALPHA:.0%} point of the "
          f"lowest seed under random seed labels): {failed}")


if __name__ == "__main__":
    main()
