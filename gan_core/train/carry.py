"""A run carried without its optimizer state: what a resume needs when the machine is lost.

A run's state/ holds Adam's moments, which are training state and stay out of git. Everything else a
resume needs is model weights and a step: the trained and the averaged generator, the discriminator
and the text encoder. `write_carry` stores those of the latest state, float32 and exact, in one
carry.npz beside an exported run (scripts/export_run.py --carry). A run dir that holds carry.npz and
no state/ resumes from it (`restore_carry`, called by the training loop) with Adam's moments starting
from zero. With DF-GAN's betas (0.0, 0.9) the first moment is not kept at all and the second forgets
its start within a few tens of steps, so little should be lost, though the run is not bit for bit the
one it would have been; the data order, the noise and the augmentations are stateless in the step, so
they resume exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_core import UserError, storage

CARRY_FILE = "carry.npz"
STEP_KEY = "carry/step"


def _models(trainer) -> dict:
    nets = trainer.networks
    return {"generator": nets.generator, "ema_generator": trainer.ema_generator,
            "discriminator": nets.discriminator, "text_encoder": nets.text_encoder}


def write_carry(run_dir: str | Path, out_dir: str | Path) -> int:
    """Write OUT/carry.npz from RUN's latest state; returns its step."""
    from gan_core.train.state_snapshot import load_state

    _, _, trainer, step = load_state(run_dir)
    arrays = {STEP_KEY: np.asarray(step, np.int64)}
    for group, model in _models(trainer).items():
        arrays.update(storage.weight_arrays(model, group))
    storage.save_weights(Path(out_dir) / CARRY_FILE, arrays)
    return step


def restore_carry(trainer, path: str | Path) -> int:
    """Assign a carry file's weights and step to `trainer`; returns the step."""
    arrays = storage.read_weights(path)
    if STEP_KEY not in arrays:
        raise UserError(f"{path} is not a carried run (no {STEP_KEY}); remove it or use a new --run-dir")
    for group, model in _models(trainer).items():
        storage.assign_weights(model, arrays, group, source=str(path))
    step = int(arrays[STEP_KEY])
    trainer.step.assign(step)
    return step
