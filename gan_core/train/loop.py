"""The training loop: resumable, logged, snapshotting. scripts/train.py is a thin CLI over `train`.

Run dir layout:
  config.json          the resolved TrainConfig (refuses to resume with an incompatible one)
  sample_captions.json the fixed captions of the sample grids
  text_encoder.npz     the pretrained (frozen) text encoder, when model.text.mode == "pretrained"
  state/               full training states (tf.train.CheckpointManager, keep-last-N)
  carry.npz            a carried run's weights (gan_core.train.carry): resumed from when state/ is empty
  snapshots/epoch_NNNN light snapshots (see snapshot.py), kept
  metrics.csv          one row every log_every steps; tb/ the same for TensorBoard
  train.log            what the loop printed
A state is written every state_every_steps and at each epoch end; TensorFlow writes the index
file last and atomically, so a kill at any moment leaves the previous complete state loadable.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_core import UserError, atomic, storage
from gan_core import config as cfg
from gan_core.data.competition import REPORT_IDS
from gan_core.data.dataset import PipelineConfig, PreparedDataset, make_pipeline
from gan_core.data.text import Vocabulary
from gan_core.sample.sampler import snapshot_grid_png
from gan_core.sample.snapshot import list_snapshots, save_snapshot, snapshot_name
from gan_core.train import carry, text_source
from gan_core.train.step import METRIC_NAMES

# Keys a rerun of a run may change: they steer how long it runs, how often it logs and saves, where it
# runs, the sampling-only EMA (it never feeds back into training) and where the rate decay starts.
RESUMABLE_KEYS = {"epochs", "max_steps", "snapshot_every", "state_every_steps", "keep_states", "log_every",
                  "distribute", "jit", "ema_decay", "ema_start", "ema_halflife_images", "ema_rampup",
                  "lr_decay_from"}


@dataclass
class TrainSummary:
    run_dir: str
    start_step: int
    end_step: int
    epochs_done: int
    seconds: float
    interrupted: bool
    last_metrics: dict
    snapshots: list[str]


def _check_resumable(run_dir: Path, config: cfg.TrainConfig, dataset: PreparedDataset | None = None) -> None:
    """A rerun may change only RESUMABLE_KEYS of the run's saved config, and must read a data set
    with the run's vocabulary; checked before any write (a refused resume leaves the run as it was)."""
    vocab_path = run_dir / "vocab.json"
    if dataset is not None and vocab_path.is_file() and Vocabulary.load(vocab_path).to_json() != dataset.vocab.to_json():
        raise UserError(f"{run_dir} was trained on a data set with another vocabulary than {dataset.root}; "
                        f"resume it with its own --data, or use a new --run-dir")
    path = run_dir / "config.json"
    if not path.is_file():
        return
    saved = cfg.to_dict(cfg.load_saved(path))
    wanted = cfg.to_dict(config)
    differ = sorted(k for k in wanted if k not in RESUMABLE_KEYS and wanted[k] != saved[k])
    if differ:
        raise UserError(f"{run_dir} holds a run with a different config ({', '.join(differ)}); "
                        f"resume it without changing those, or use a new --run-dir")


def _sample_captions(dataset: PreparedDataset, run_dir: Path, count: int) -> list[str]:
    path = run_dir / "sample_captions.json"
    if path.is_file():
        return json.loads(path.read_text())
    table = dataset.test_captions
    ids = [i for i in REPORT_IDS if i in set(table["ID"])]
    ids += [int(i) for i in table["ID"] if int(i) not in ids][: max(0, count - len(ids))]
    captions = [dataset.test_caption(i) for i in ids[:count]] if ids else list(dataset.captions["text"][:count])
    atomic.write_json(path, captions)
    return captions


class MetricsLog:
    """Append-only CSV that is cut back to the resumed step, so rows never repeat after a restart."""

    FIELDS = ["step", "epoch", "time", *METRIC_NAMES]

    def __init__(self, path: Path, resume_step: int):
        self.path = path
        rows = []
        if path.is_file():
            with open(path, newline="") as handle:
                rows = [r for r in csv.DictReader(handle) if r.get("step", "").isdigit() and int(r["step"]) <= resume_step]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=self.FIELDS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        atomic.write_text(path, buffer.getvalue())
        self.elapsed = float(rows[-1]["time"]) if rows else 0.0  # training seconds before this invocation
        self.handle = open(path, "a", newline="")
        self.writer = csv.DictWriter(self.handle, fieldnames=self.FIELDS, extrasaction="ignore")

    def append(self, row: dict) -> None:
        self.writer.writerow(row)
        self.handle.flush()

    def close(self) -> None:
        self.handle.close()


class _Stop:
    """Turns SIGINT/SIGTERM into a flag checked between steps, so the loop saves and exits cleanly."""

    def __init__(self):
        self.requested = None
        self._old = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread
                pass
        return self

    def _handle(self, signum, frame):
        if self.requested is not None:  # second signal: give up immediately
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)


def _ema_on(config: cfg.TrainConfig) -> bool:
    return config.ema_decay > 0 or config.ema_halflife_images > 0


def _tee(log, path: Path):
    """Print through `log` and append the same line, timestamped, to the run's train.log."""
    def both(message: str) -> None:
        log(message)
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message.strip()}\n")
    return both


def _make_strategy(name: str):
    import tensorflow as tf

    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def train(data_dir: str | Path, run_dir: str | Path, config: cfg.TrainConfig, log=print,
          progress: bool = True, text_encoder: str | Path | None = None) -> TrainSummary:
    """Train (or resume) the run in `run_dir`; `text_encoder`: a snapshot or run dir whose frozen
    pretrained encoder a new run reuses instead of pretraining (see gan_core.train.text_source)."""
    import keras
    import tensorflow as tf
    from tqdm import tqdm

    from gan_core.models import build_networks
    from gan_core.train import precision as prec
    from gan_core.train.schedule import lr_scale
    from gan_core.train.step import GANTrainer
    from gan_core.train.text_pretrain import pretrain

    run_dir = Path(run_dir)
    # Everything that can be refused is checked before the run dir is created or written to.
    dataset = PreparedDataset(data_dir)
    _check_resumable(run_dir, config, dataset)
    pretrained = config.model.text.mode == "pretrained"
    te_path = run_dir / "text_encoder.npz"
    source = None
    if pretrained and not te_path.is_file():
        if text_encoder is not None:
            source = text_source.from_path(text_encoder, dataset, config.model.text)
        else:
            source = text_source.from_cache(dataset, config.model.text, config.seed)
    elif text_encoder is not None:
        log(f"text encoder: {run_dir} already has one; --text-encoder is ignored when resuming")
    steps_per_epoch = len(dataset.train_rows) // config.batch_size
    if steps_per_epoch == 0:
        raise UserError(f"{len(dataset.train_rows)} training images are fewer than one batch of {config.batch_size}")
    precision = prec.resolve(config.precision)
    strategy = _make_strategy(config.distribute)
    replicas = strategy.num_replicas_in_sync
    if config.batch_size % replicas:
        raise UserError(f"batch_size {config.batch_size} does not split evenly over {replicas} replicas")

    run_dir.mkdir(parents=True, exist_ok=True)
    atomic.write_json(run_dir / "config.json", cfg.to_dict(config))
    log = _tee(log, run_dir / "train.log")
    dataset.vocab.save(run_dir / "vocab.json")
    total_steps = config.epochs * steps_per_epoch
    schedule_steps = total_steps  # the decay follows epochs; max_steps only cuts a run short
    if config.max_steps:
        total_steps = min(total_steps, config.max_steps)

    keras.utils.set_random_seed(config.seed)  # weight initialisation only; training randomness is stateless
    with strategy.scope():
        nets = build_networks(config.model, len(dataset.vocab), dataset.vocab.max_len, precision)

    # Stage 1: the frozen, contrastively pretrained text encoder (once per run, reused when possible).
    if pretrained:
        if te_path.is_file():
            text_source.load_run_file(nets.text_encoder, te_path)
            log(f"text encoder: loaded pretrained weights from {te_path}")
        else:
            if source is not None:
                storage.assign_weights(nets.text_encoder, source.arrays, text_source.GROUP, source=source.origin)
                log(f"text encoder: reused the pretrained encoder of {source.origin}")
                info = {"source": source.origin, **(source.pretrain or {})}
            else:
                log(f"text encoder: contrastive pretraining for {config.model.text.pretrain_epochs} epochs")
                _, result = pretrain(dataset, nets.text_encoder, config.model.text, config.seed, log=log)
                info = dataclasses.asdict(result)
                text_source.add_to_cache(dataset, config.model.text, config.seed, nets.text_encoder, info)
            storage.save_weights(te_path, storage.weight_arrays(nets.text_encoder, text_source.GROUP))
            atomic.write_json(run_dir / "text_encoder.json", info)

    trainer = GANTrainer(nets, config, precision, strategy)
    ckpt = tf.train.Checkpoint(**trainer.checkpoint_objects())
    manager = tf.train.CheckpointManager(ckpt, str(run_dir / "state"), max_to_keep=config.keep_states)
    if manager.latest_checkpoint:
        if not trainer.restore(manager.latest_checkpoint) and _ema_on(config):
            log("note: this state predates saving the whole EMA generator; the average restarts from the generator")
        log(f"resumed from {manager.latest_checkpoint} at step {int(trainer.step.numpy())}")
    elif (run_dir / carry.CARRY_FILE).is_file():  # a carried run (export_run --carry) on a new machine
        resumed = carry.restore_carry(trainer, run_dir / carry.CARRY_FILE)
        manager.save(checkpoint_number=resumed)
        log(f"resumed from {run_dir / carry.CARRY_FILE} at step {resumed}: its weights, with Adam's moments "
            f"starting from zero and the generator's average from the generator")
    start_step = int(trainer.step.numpy())
    sample_captions = _sample_captions(dataset, run_dir, config.sample_captions)
    sample_seeds = list(range(config.sample_seeds))
    metrics_log = MetricsLog(run_dir / "metrics.csv", start_step)
    writer = tf.summary.create_file_writer(str(run_dir / "tb"))

    def snapshot(epoch: int) -> None:
        png = snapshot_grid_png(nets, trainer.ema_generator, dataset.vocab, sample_captions, sample_seeds)
        save_snapshot(run_dir / "snapshots" / snapshot_name(epoch), config.model, dataset.vocab, nets.text_encoder,
                      trainer.ema_generator, epoch, int(trainer.step.numpy()), precision, png,
                      extra={"run_config": cfg.to_dict(config)}, discriminator=nets.discriminator)
        log(f"snapshot {snapshot_name(epoch)} written")

    t0 = time.perf_counter()
    step = start_step
    last = {}
    interrupted = False
    bar = tqdm(total=total_steps, initial=step, disable=not progress, unit="step", dynamic_ncols=True, mininterval=2.0)
    try:
        with _Stop() as stop:
            while step < total_steps and not stop.requested:
                epoch, in_epoch = divmod(step, steps_per_epoch)
                pipe = make_pipeline(dataset, PipelineConfig(config.batch_size, config.model.image_size,
                                                             config.augment, config.seed), epoch)
                pipe = strategy.experimental_distribute_dataset(pipe.skip(in_epoch)) if replicas > 1 else pipe.skip(in_epoch)
                for batch in pipe:
                    trainer.set_lr_scale(lr_scale(step, schedule_steps, config.lr_decay_from))
                    last = trainer.train_step(batch)
                    step += 1
                    if not all(np.isfinite(v) for v in last.values()):
                        raise UserError(f"training diverged at step {step}: {last}; resume from the last state "
                                        f"with a lower learning rate")
                    bar.update(1)
                    bar.set_postfix_str(f"ep {step / steps_per_epoch:.2f} D {last['d_loss']:.3f} "
                                        f"G {last['g_loss']:.3f} wrong {last['d_wrong']:.2f}", refresh=False)
                    if step % config.log_every == 0:
                        row = {"step": step, "epoch": round(step / steps_per_epoch, 4),
                               "time": round(metrics_log.elapsed + time.perf_counter() - t0, 2), **{k: round(v, 5) for k, v in last.items()}}
                        metrics_log.append(row)
                        with writer.as_default(step=step):
                            for k, v in last.items():
                                tf.summary.scalar(k, v)
                            tf.summary.scalar("lr_scale", trainer.lr_scale)
                    epoch_end = step % steps_per_epoch == 0
                    if epoch_end:
                        done = step // steps_per_epoch
                        # The snapshot comes before the state: a kill between the two resumes from an
                        # earlier state and writes this epoch's snapshot again (training is deterministic).
                        if done == 1 or done % config.snapshot_every == 0 or step >= total_steps:
                            snapshot(done)
                        rate = (time.perf_counter() - t0) / max(1, step - start_step)
                        log(f"epoch {done}/{config.epochs} (step {step}): D {last['d_loss']:.3f} G {last['g_loss']:.3f} "
                            f"real {last['d_real']:.2f} fake {last['d_fake']:.2f} wrong {last['d_wrong']:.2f} "
                            f"ms {last['ms']:.2f}; lr x{trainer.lr_scale:.2f}; {rate * steps_per_epoch / 60:.1f} min/epoch, "
                            f"ETA {rate * (total_steps - step) / 60:.0f} min")
                    if epoch_end or step % config.state_every_steps == 0 or step >= total_steps or stop.requested:
                        manager.save(checkpoint_number=step)
                    if step >= total_steps or stop.requested:
                        break
            interrupted = stop.requested is not None
            if interrupted:
                log(f"\n{stop.requested}: state saved at step {step}; rerun the same command to resume")
        if not interrupted and step >= total_steps and step % steps_per_epoch:
            # A run ending mid-epoch (max_steps) still leaves a snapshot to generate from.
            snapshot(int(np.ceil(step / steps_per_epoch)))
    finally:
        bar.close()
        metrics_log.close()
        writer.close()
    return TrainSummary(str(run_dir), start_step, step, step // steps_per_epoch, time.perf_counter() - t0,
                        interrupted, last, [p.name for p in list_snapshots(run_dir)])
