"""Score a folder of inference images as the Reverse Image Caption competition does.

Writes OUT_CSV with columns `score,id` (one row per image in sorted file-name order, which is test
ID order for the template's names `inference_0023.jpg`; `id` is the row number, as in the
competition's scorer) and prints the leaderboard value (the mean score,
lower is better) with its parts: mean cosine distance to the reference logits and 0.5 / IS.
Unlike the original scorer, any positive BATCH works.
"""

from __future__ import annotations

import sys

from gan_core import UserError
from gan_core.cli import entry_point, script_parser
from gan_core.eval.evaluators import NAMES


def parse_args(argv):
    parser = script_parser(__doc__, raw=True)
    parser.add_argument("image_dir", metavar="IMG_DIR",
                        help="folder of *.jpg/*.jpeg/*.png named like inference_<ID>.jpg")
    parser.add_argument("out_csv", metavar="OUT_CSV", help="per-image scores (score,id), written atomically")
    parser.add_argument("batch", metavar="BATCH", help="inference batch size, any positive integer")
    parser.add_argument("--evaluator", choices=NAMES, default="flowers",
                        help="classifier that scores the images (default flowers; official is the competition's)")
    parser.add_argument("--checkpoint", metavar="PATH",
                        help="official: checkpoint folder or ckpt-N prefix; flowers: its model (default: built-in)")
    parser.add_argument("--references", metavar="PKL",
                        help="reference logits, test ID -> logits (the competition's eval_metrics.pkl); needed "
                             "by official. It is a pickle, which executes code when read: pass only files you trust")
    parser.add_argument("--inception-weights", metavar="PATH",
                        help="inception: InceptionV3 .h5 weights (default $GAN_INCEPTION_WEIGHTS or the Keras cache)")
    return parser.parse_args(argv)


def score_folder(args, batch: int) -> tuple[dict, list[tuple[str, str]], int]:
    from gan_core.atomic import write_text
    from gan_core.data.imagefolder import load_image_folder
    from gan_core.eval.evaluators import get_evaluator, predict_in_batches
    from gan_core.eval.metrics import competition_score, competition_scores
    from gan_core.outputs import check_output_file

    if args.evaluator == "official" and not (args.checkpoint and args.references):
        raise UserError("the official evaluator needs --checkpoint PATH and --references eval_metrics.pkl")
    check_output_file(args.out_csv, "OUT_CSV")  # before the images are read or the model loaded
    images, ids, _, problems = load_image_folder(args.image_dir)
    evaluator = get_evaluator(args.evaluator, checkpoint=args.checkpoint, references=args.references,
                              weights=args.inception_weights)
    if evaluator.references is None:
        raise UserError(f"the {args.evaluator} evaluator has no reference logits: pass --references PKL "
                        f"(test ID -> {evaluator.num_classes} logits)")
    if hasattr(evaluator, "batch_size"):
        evaluator.batch_size = batch
    logits, _ = predict_in_batches(evaluator.predict, images, batch)
    scores = competition_scores(logits, ids, evaluator.references)
    summary = competition_score(logits, ids, evaluator.references)
    write_text(args.out_csv, "score,id\n" + "".join(f"{s!r},{i}\n" for i, s in enumerate(scores.tolist())))
    return summary, problems, len(scores)


@entry_point()
def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        batch = int(args.batch)
        if batch < 1:
            raise ValueError
    except ValueError:
        print(f"error: BATCH must be a positive integer, got {args.batch!r}", file=sys.stderr)
        return 2
    summary, problems, count = score_folder(args, batch)
    for name, why in problems[:10]:
        print(f"skipped {name}: {why}", file=sys.stderr)
    if len(problems) > 10:
        print(f"skipped {len(problems) - 10} more files", file=sys.stderr)
    print(f"scored {count} images with the {args.evaluator} evaluator -> {args.out_csv}")
    print(f"score           {summary['score']:.6f}  (mean, lower is better)")
    print(f"cosine          {summary['cosine']:.6f}  (mean cosine distance to the references)")
    print(f"0.5 / IS        {summary['inception_term']:.6f}")
    print(f"inception score {summary['inception_score']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
