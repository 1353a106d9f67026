"""Project images into a snapshot's noise space (exploration: no weight changes).

One image:  --checkpoint SNAP --caption TEXT --target IMAGE --out DIR
            writes DIR/projection.png (target | projection), projection.gif (the optimisation) and
            latent.json (renders again with `scripts/generate.py --latents`).
Coverage:   --checkpoint SNAP [SNAP ...] --data DIR --coverage --out DIR [--per-class 3]
            projects per-class test images with their own captions; writes DIR/coverage.csv (one row
            per projected image), coverage.png (per-class reachable share, one colour per snapshot)
            and coverage.json; each snapshot's result is also cached next to it for the dashboard.
DIR is made, or replaced when it is an earlier output of this command (or empty).
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

from gan_core import UserError
from gan_core.cli import check_seed, entry_point, script_parser

MARKER = "projection.json"
FORMAT = "gan_core.projection/1"


def _owned(folder: Path) -> bool:
    from gan_core.outputs import stored_format

    return stored_format(folder, MARKER) == FORMAT


def _read_target(path: str):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise UserError(f"--target {path}: cannot read the image ({getattr(exc, 'strerror', None) or exc})") from None
    if min(img.size) < 64:
        raise UserError(f"--target must be at least 64 px on each side, got {img.size[0]}x{img.size[1]}")
    return np.asarray(img.resize((64, 64), Image.Resampling.BILINEAR), np.uint8)[None]


def _png(array) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).resize((array.shape[1] * 2, array.shape[0] * 2), Image.Resampling.NEAREST).save(buffer, "PNG")
    return buffer.getvalue()


def one_image(args, config, out: Path) -> str:
    from gan_core import atomic
    from gan_core.explore import latents
    from gan_core.explore.projector import gif_bytes, project
    from gan_core.sample.sampler import Sampler

    target = _read_target(args.target)
    sampler = Sampler.load(args.checkpoint[0])
    t0 = time.perf_counter()
    result = project(sampler, [args.caption], target, config)
    latent = latents.Latent(result.z[0], args.caption, 1.0, latents.snapshot_digest(sampler.path),
                            result.sentence[0] if config.optimise_sentence else None, "projector")
    with atomic.atomic_dir(out, _owned) as tmp:
        atomic.write_bytes(tmp / "projection.png", _png(result.frames[-1][0]))
        atomic.write_bytes(tmp / "projection.gif", gif_bytes(result.frames))
        atomic.write_text(tmp / "latent.json", latents.to_json(latent))
        atomic.write_json(tmp / MARKER, {"format": FORMAT, "snapshot": str(sampler.path), "caption": args.caption,
                                         "target": str(args.target), "feature_net": result.feature_net,
                                         "losses": result.losses, "config": asdict(config)})
    return (f"loss {result.losses[0]:.4f} -> {result.losses[-1]:.4f} in {config.steps} steps "
            f"({result.feature_net} features, {time.perf_counter() - t0:.1f} s); wrote {out}")


def coverage(args, config, out: Path) -> str:
    from gan_core import atomic
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.evaluators import get_evaluator
    from gan_core.explore import coverage as cov
    from gan_core.explore.latents import snapshot_digest
    from gan_core.sample.sampler import Sampler

    dataset = PreparedDataset(args.data)
    evaluator = get_evaluator("flowers")
    results, labels, t0 = [], [], time.perf_counter()
    for snapshot in args.checkpoint:
        sampler = Sampler.load(snapshot)
        started = time.perf_counter()
        result = cov.measure(sampler, dataset, evaluator, args.per_class, config, seed=args.seed,
                             progress=lambda done, total, epoch=sampler.epoch: print(
                                 f"\r  epoch {epoch}: {done}/{total} images", end="", file=sys.stderr, flush=True))
        result["seconds"] = round(time.perf_counter() - started, 1)
        result["snapshot"] = str(sampler.path)
        print(file=sys.stderr)
        cov.write_cached(sampler.path, cov.cache_key(snapshot_digest(sampler.path), evaluator.identity,
                                                     args.per_class, args.seed, config), result)
        results.append(result)
        labels.append(f"epoch {sampler.epoch}")
    with atomic.atomic_dir(out, _owned) as tmp:
        atomic.write_text(tmp / "coverage.csv", cov.csv_text([row for r in results for row in r["images"]]))
        atomic.write_bytes(tmp / "coverage.png", cov.bar_chart_png(results, labels))
        atomic.write_json(tmp / "coverage.json", [{k: r[k] for k in ("snapshot", "epoch", "seconds", "summary",
                                                                      "classes", "config", "per_class")}
                                                  for r in results])
        atomic.write_json(tmp / MARKER, {"format": FORMAT, "coverage": [str(s) for s in args.checkpoint]})
    lines = [f"{label}: {r['summary']['reachable']:.1%} of {r['summary']['images']} projections in their real "
             f"image's class, {r['summary']['classes_reached']}/{r['summary']['classes']} classes reached, median "
             f"feature distance {r['summary']['median_feature_distance']:.3f} ({r['seconds']:.0f} s)"
             for label, r in zip(labels, results)]
    return "\n".join(lines + [f"wrote {out} in {time.perf_counter() - t0:.0f} s"])


@entry_point()  # the output folder is written aside and moved in whole: an interrupt leaves none
def main(argv=None) -> int:
    parser = script_parser(__doc__, raw=True)
    parser.add_argument("--checkpoint", required=True, nargs="+", help="snapshot dir(s) (or run dir: its latest)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--caption", help="one image: its caption")
    parser.add_argument("--target", help="one image: an image file, 64 px or larger (resized to 64x64)")
    parser.add_argument("--coverage", action="store_true", help="project per-class test images (needs --data)")
    parser.add_argument("--data", help="coverage: the prepared data set")
    parser.add_argument("--per-class", type=int, default=3, help="coverage: test images per class (default 3)")
    parser.add_argument("--steps", type=int, help="Adam steps (default 200; coverage 100)")
    parser.add_argument("--lr", type=float, default=0.1, help="peak Adam step size (default 0.1)")
    parser.add_argument("--feature-net", default="auto", choices=("auto", "discriminator", "evaluator", "none"),
                        help="feature term: auto = the snapshot's D backbone when it holds D, else the evaluator")
    parser.add_argument("--optimise-sentence", action="store_true", help="also move the sentence code")
    parser.add_argument("--seed", type=int, default=0, help="start noise (and coverage's image choice)")
    args = parser.parse_args(argv)

    from gan_core.explore.projector import ProjectorConfig
    from gan_core.outputs import check_output_folder
    from gan_core.sample.snapshot import resolve_checkpoint

    check_seed(args.seed)
    if args.coverage:
        if not args.data or args.caption or args.target:
            raise UserError("--coverage needs --data and takes no --caption or --target")
        if not 1 <= args.per_class <= 50:
            raise UserError(f"--per-class must be 1..50, got {args.per_class}")
    else:
        if not args.caption or not args.target or args.data:
            raise UserError("give --caption and --target for one image, or --coverage --data DIR")
        if len(args.checkpoint) != 1:
            raise UserError("one image takes one --checkpoint")
        if not Path(args.target).is_file():
            raise UserError(f"--target {args.target} is not a file")
    from gan_core.explore.coverage import COVERAGE_STEPS

    steps = args.steps if args.steps is not None else (COVERAGE_STEPS if args.coverage else 200)
    config = ProjectorConfig(steps=steps, lr=args.lr, feature_net=args.feature_net,
                             optimise_sentence=args.optimise_sentence, seed=args.seed).check()
    for snapshot in args.checkpoint:
        resolve_checkpoint(snapshot)  # a bad path fails before the output is touched or a model loads
    out = check_output_folder(args.out, "--out", _owned, f"an output of scripts/project.py ({MARKER})",
                              inputs=[*args.checkpoint, args.target, args.data])
    print(coverage(args, config, out) if args.coverage else one_image(args, config, out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
