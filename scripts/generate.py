"""Generate 64x64 images from a checkpoint: from a captions file, or the competition's test set."""

from __future__ import annotations

import sys
import time
import warnings

from gan_core import UserError
from gan_core.cli import entry_point, script_parser


@entry_point()  # the folder (and zip) are written aside and moved into place: an interrupt leaves none
def main(argv=None) -> int:
    parser = script_parser(__doc__)
    parser.add_argument("--checkpoint", required=True, help="a snapshot dir, or a run dir (its latest snapshot)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--captions-file", help="one caption per line -> OUT/LLLL_sS.png")
    source.add_argument("--test-captions", help="test_captions.csv (ID,caption) -> OUT/inference_ID.jpg")
    source.add_argument("--test-data", help="the competition's testData.pkl (needs --dictionary); a pickle "
                                            "executes code when read: pass only files you trust")
    source.add_argument("--latents", nargs="+", metavar="FILE",
                        help="latent files (saved on Generate or by scripts/project.py) -> OUT/latent_NNNN.png")
    parser.add_argument("--dictionary", help="the competition's dictionary/ folder (with --test-data)")
    parser.add_argument("--seeds", default="0", help="seeds for --captions-file, e.g. 0,1,2 (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="competition mode: image seed = SEED*100000 + ID")
    parser.add_argument("--out", required=True, help="output folder: new, empty, or an earlier output of this command "
                                                     "(replaced as a whole)")
    parser.add_argument("--zip", help="competition mode: also write this submission zip")
    parser.add_argument("--truncation", type=float, default=1.0, metavar="PSI",
                        help="truncation psi in (0, 1]: noise scaled by psi (1: as drawn, the default); "
                             "recorded in OUT/generation.json")
    parser.add_argument("--best-of", type=int, default=1, metavar="N",
                        help="best-of-N: per image, N candidates ranked by the GAN's own discriminator (needs a "
                             "snapshot that holds it; default 1: plain generation); recorded in OUT/generation.json")
    args = parser.parse_args(argv)
    from gan_core.cli import check_seed, parse_int_list
    from gan_core.sample.inference import (
        check_outputs,
        generate_caption_files,
        generate_competition,
        read_captions_file,
        read_competition_test_data,
        read_test_captions,
    )
    from gan_core.sample.sampler import Sampler, check_best_of, check_truncation

    check_truncation(args.truncation)
    check_best_of(args.best_of)
    check_seed(args.seed)
    if args.zip and args.captions_file:
        raise UserError("--zip applies to the competition's test images (--test-captions or --test-data)")
    inputs = [args.checkpoint, args.captions_file, args.test_captions, args.test_data, args.dictionary,
              *(args.latents or [])]
    if args.latents:
        return render_latents(args, inputs)
    check_outputs(args.out, args.zip, inputs=inputs)
    if args.captions_file:
        seeds = parse_int_list(args.seeds, "--seeds")
        captions = read_captions_file(args.captions_file)
    elif args.test_captions:
        rows = read_test_captions(args.test_captions)
    else:
        if not args.dictionary:
            raise UserError("--test-data needs --dictionary (the competition's dictionary/ folder)")
        rows = read_competition_test_data(args.test_data, args.dictionary)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        generator = Sampler.load(args.checkpoint)
        generator.require_ranking(args.best_of)  # fail before any image is written
        if args.captions_file:
            written = generate_caption_files(generator, captions, seeds, args.out, args.truncation, args.best_of)
        else:
            written = generate_competition(generator, rows, args.out, args.seed, args.zip, args.truncation,
                                           args.best_of)
    for w in caught:
        if issubclass(w.category, UserWarning):
            print(f"warning: {w.message}", file=sys.stderr)
    print(f"wrote {len(written)} images to {args.out} in {time.perf_counter() - t0:.1f} s "
          f"(snapshot {generator.path}, epoch {generator.epoch}, truncation {args.truncation:g}, best of {args.best_of})"
          + (f"; zip {args.zip}" if args.zip else ""))
    return 0


def render_latents(args, inputs) -> int:
    """--latents: each saved latent drawn again (G(psi * z, caption)); psi and best-of come from the files."""
    from pathlib import Path

    from gan_core.explore import latents
    from gan_core.outputs import check_output_folder
    from gan_core.sample.inference import is_generated_folder
    from gan_core.sample.sampler import Sampler

    if args.zip or args.truncation != 1.0 or args.best_of != 1 or args.seeds != "0":
        raise UserError("--latents takes no --zip, --truncation, --best-of or --seeds: each file holds its z and psi")
    for path in args.latents:
        latents.read(path)  # a bad file fails before any model loads
    check_output_folder(args.out, "--out", is_generated_folder,
                        "a folder written by generate.py (its generation.json and images only)", inputs=inputs)
    t0 = time.perf_counter()
    sampler = Sampler.load(args.checkpoint)
    written = latents.render_files(sampler, [Path(p) for p in args.latents], args.out)
    print(f"wrote {len(written)} images to {args.out} in {time.perf_counter() - t0:.1f} s "
          f"(snapshot {sampler.path}, epoch {sampler.epoch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
