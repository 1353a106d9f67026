"""A run carried without its optimizer state: what a resume needs when the machine is lost.

A run's state/ holds Adam's moments, which are training state and stay out of git. What else a resume
needs is weights and a step: the trained generator, the discriminator (with the text-alignment
projections when the run has them), LeCam's two running means when it uses LeCam, and the text encoder
when it trains jointly (a frozen one is the run's own text_encoder.npz, which the export copies).
`write_carry` stores those of the latest state in one carry.npz beside an exported run
(scripts/export_run.py --carry), kernels in float16 by default: a carry is committed to git, which
keeps every blob forever; the rounding (a relative 5e-4) is under one Adam step at the rates used here.

Left out on purpose: Adam's moments (with DF-GAN's betas (0.0, 0.9) the first is not kept at all and
the second forgets its start within a few tens of steps) and the sampling average of the generator,
which restarts from the generator (its 10k-image half-life is 156 steps of 64: after 1000 steps the
start weighs about 1%). A carry is so a third of what it was. A run dir that holds carry.npz and no
state/ resumes from it (`restore_carry`, called by the training loop); the data order, the noise and
the augmentations are stateless in the step, so they resume exactly, though the run is not bit for bit
the one it would have been. Carries written before this rule (with the average and the frozen encoder)
are still read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_core import UserError, storage

CARRY_FILE = "carry.npz"
STEP_KEY = "carry/step"
LECAM_GROUP = "lecam_means"  # a group of its own, so the config check below treats it as a model
LECAM_KEY = f"{LECAM_GROUP}/means"


def _models(trainer) -> dict:
    """The models a carry holds (see above)."""
    nets = trainer.networks
    models = {"generator": nets.generator, "discriminator": nets.discriminator}
    if trainer.joint_text:
        models["text_encoder"] = nets.text_encoder
    if trainer.contrast is not None:
        models["d_contrast"] = trainer.contrast
    return models


def _optional(trainer) -> dict:
    """What older carries also hold: restored when present."""
    return {"ema_generator": trainer.ema_generator, "text_encoder": trainer.networks.text_encoder}


def _uses_lecam(trainer) -> bool:
    return trainer.config.lecam_weight > 0


def carry_arrays(trainer, float16: bool = True) -> dict:
    """A trainer's carried weights and step as {key: array}."""
    arrays = {STEP_KEY: np.asarray(int(trainer.step.numpy()), np.int64)}
    if _uses_lecam(trainer):
        arrays[LECAM_KEY] = trainer.lecam_means.numpy().astype(np.float32)
    for group, model in _models(trainer).items():
        arrays.update(storage.weight_arrays(model, group, float16=float16))
    return arrays


def write_carry(run_dir: str | Path, out_dir: str | Path, float16: bool = True) -> int:
    """Write OUT/carry.npz from RUN's latest state; returns its step."""
    from gan_core.train.state_snapshot import load_state

    _, _, trainer, step = load_state(run_dir)
    storage.save_weights(Path(out_dir) / CARRY_FILE, carry_arrays(trainer, float16))
    return step


def restore_carry(trainer, path: str | Path) -> int:
    """Assign a carry file's weights and step to `trainer`; returns the step."""
    arrays = storage.read_weights(path)
    if STEP_KEY not in arrays:
        raise UserError(f"{path} is not a carried run (no {STEP_KEY}); remove it or use a new --run-dir")
    models = _models(trainer)
    # The run's config must be the carried run's: what the carry holds and what the trainer has agree.
    held = {k.split("/", 1)[0] for k in arrays if not k.startswith("carry/")}
    wanted = set(models) | ({LECAM_GROUP} if _uses_lecam(trainer) else set())
    extra, missing = sorted(held - wanted - set(_optional(trainer))), sorted(wanted - held)
    if extra or missing:
        raise UserError(f"{path} does not match this run's config (carried but not in the config: {extra or 'none'}; "
                        f"in the config but not carried: {missing or 'none'}): resume with the carried run's config")
    if _uses_lecam(trainer):
        trainer.lecam_means.assign(arrays[LECAM_KEY])
    for group, model in models.items():
        storage.assign_weights(model, arrays, group, source=str(path))
    trainer.ema_generator.set_weights(trainer.networks.generator.get_weights())
    for group, model in _optional(trainer).items():
        if group in held and group not in models:
            storage.assign_weights(model, arrays, group, source=str(path))
    step = int(arrays[STEP_KEY])
    trainer.step.assign(step)
    return step
