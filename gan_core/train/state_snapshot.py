"""A snapshot from one of a run's saved training states, of either generator it holds.

A run with a sampling EMA snapshots the average only; its states also hold the trained generator
itself, so one run yields both (the EMA never feeds back into training). Also the way to get a
snapshot at a state's step when the epoch snapshot was never written. The snapshot holds the
state's discriminator too, for best-of-N sampling.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from gan_core import UserError
from gan_core import config as cfg
from gan_core.data.text import Vocabulary
from gan_core.sample.sampler import snapshot_grid_png
from gan_core.sample.snapshot import save_snapshot

GENERATORS = ("raw", "ema")


def state_steps(run_dir: str | Path) -> list[int]:
    """The steps of the states kept in RUN/state, oldest first."""
    import tensorflow as tf

    state = Path(run_dir) / "state"
    found = tf.train.get_checkpoint_state(str(state)) if state.is_dir() else None
    paths = list(found.all_model_checkpoint_paths) if found else []
    return sorted(int(p.rsplit("-", 1)[1]) for p in paths)


def _epoch_of(run_dir: Path, step: int) -> int:
    """The epoch a step falls in, from the run's metrics.csv (each row has step and epoch); 0 if unknown."""
    path = run_dir / "metrics.csv"
    if path.is_file():
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                if row.get("step", "").isdigit() and float(row.get("epoch") or 0) > 0:
                    return math.ceil(step * float(row["epoch"]) / int(row["step"]) - 1e-6)
    return 0


def resolve_state(run_dir: str | Path, step: int | None = None) -> int:
    """The step of RUN's kept state to read (default: the latest); a UserError when there is none."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").is_file():
        raise UserError(f"{run_dir} is not a run dir (no config.json)")
    steps = state_steps(run_dir)
    if not steps:
        raise UserError(f"{run_dir} has no saved training state")
    step = steps[-1] if step is None else int(step)
    if step not in steps:
        raise UserError(f"{run_dir} keeps states at steps {', '.join(map(str, steps))}, not {step}")
    return step


def state_path(run_dir: str | Path, step: int) -> str:
    return str(Path(run_dir) / "state" / f"ckpt-{step}")


def load_state(run_dir: str | Path, step: int | None = None):
    """(config, vocab, trainer, step): RUN's networks and trainer restored from its state at `step`
    (default: the latest), with the run's own frozen text encoder."""
    from gan_core.models import build_networks
    from gan_core.train import precision as prec
    from gan_core.train import text_source
    from gan_core.train.step import GANTrainer

    run_dir = Path(run_dir)
    step = resolve_state(run_dir, step)
    config = cfg.load_saved(run_dir / "config.json")
    vocab = Vocabulary.load(run_dir / "vocab.json")
    precision = prec.resolve(config.precision)
    trainer = GANTrainer(build_networks(config.model, len(vocab), vocab.max_len, precision), config, precision)
    trainer.restore(state_path(run_dir, step))
    if config.model.text.mode == "pretrained":  # frozen, so no optimizer lists it: the run's own file
        text_source.load_run_file(trainer.networks.text_encoder, run_dir / "text_encoder.npz")
    return config, vocab, trainer, step


def snapshot_from_state(run_dir: str | Path, out: str | Path, step: int | None = None,
                        generator: str = "raw") -> Path:
    """Write the snapshot of RUN's state at `step` (default: the latest) to `out`, with its sample grid;
    `generator`: "raw" (the trained one) or "ema" (the sampling average the epoch snapshots hold)."""
    from gan_core.train import precision as prec
    from gan_core.train.step import holds_whole_ema

    run_dir = Path(run_dir)
    if generator not in GENERATORS:
        raise UserError(f"generator must be one of {', '.join(GENERATORS)}, not {generator!r}")
    step = resolve_state(run_dir, step)
    if Path(out).exists():
        raise UserError(f"{out} exists; choose a new folder")
    if generator == "ema" and not holds_whole_ema(state_path(run_dir, step)):
        raise UserError(f"the state at step {step} predates saving the whole EMA generator; only --generator raw "
                        f"can be read from it")
    config, vocab, trainer, step = load_state(run_dir, step)
    nets = trainer.networks
    chosen = nets.generator if generator == "raw" else trainer.ema_generator
    captions = json.loads((run_dir / "sample_captions.json").read_text())
    png = snapshot_grid_png(nets, chosen, vocab, captions, list(range(config.sample_seeds)))
    meta = {"run_config": cfg.to_dict(config), "from_state": {"step": step, "generator": generator}}
    return save_snapshot(out, config.model, vocab, nets.text_encoder, chosen, _epoch_of(run_dir, step), step,
                         prec.resolve(config.precision), png, extra=meta, discriminator=nets.discriminator)
