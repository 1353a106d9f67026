"""Typed run configuration: frozen dataclasses, loaded from JSON/YAML with CLI overrides.

The resolved config is saved in every run dir (config.json) and inside every snapshot, so a run
can always be resumed and a snapshot rebuilt without guessing.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path

from gan_core import UserError


@dataclass(frozen=True)
class TextEncoderConfig:
    embed_dim: int = 128  # word embedding size
    hidden: int = 128  # GRU units per direction; the sentence code has 2*hidden dims
    mode: str = "pretrained"  # "pretrained": contrastive image-text pretraining, then frozen; "joint": trained with D
    pretrain_epochs: int = 20  # contrastive pretraining epochs (mode "pretrained")
    pretrain_batch: int = 128  # contrastive batch: more in-batch negatives help
    pretrain_lr: float = 2e-3
    image_channels: int = 32  # width of the small from-scratch image encoder used for pretraining


@dataclass(frozen=True)
class ModelConfig:
    arch: str = "dfgan"  # "dfgan" (default) or "dcgan" (GAN-INT-CLS baseline)
    image_size: int = 64
    noise_dim: int = 100
    ngf: int = 16  # generator width: channels ngf * g_mult from 4x4 to 64x64
    # dfgan generator: channel multipliers of the 4, 8, 16, 32 and 64 px stages (DF-GAN's 8,8,4,2,1).
    # Width at low resolution is cheap: a 16 px layer with 128 channels costs what a 64 px one with 32 does.
    g_mult: str = "8,8,4,2,1"
    ndf: int = 16  # discriminator width: channels ndf*[1,2,4,8,8] from 64x64 to 4x4
    cond_dim: int = 128  # dcgan: projected text code size (conditioning augmentation)
    upsample: str = "nearest"  # dfgan generator: x2 upsampling, "nearest" (DF-GAN's) or "bilinear"
    # dfgan discriminator: initial weight of each down-block's residual branch (DF-GAN: 0). At 0 the
    # branches stayed near 0 (at most 0.13 after 25 epochs), so D saw little more than pooled 1x1
    # convolutions; 1 gave the best epoch-5 numbers and is in the shipped recipe (docs/experiments.md).
    d_residual_init: float = 1.0
    # dfgan discriminator: also judge an average-pooled copy of the image at this size (8, 16 or 32 px;
    # 0: off). Its own small branch reaches 4x4 and joins the main features before the conditional head,
    # so global layout is judged on coarse pixels, not only on the 64 px backbone's last 4x4 map.
    d_lowres: int = 0
    # dfgan generator: FastGAN's skip-layer excitation, the 8 px stage gating the 64 px stage's channels.
    g_skip_excitation: bool = False
    text: TextEncoderConfig = field(default_factory=TextEncoderConfig)


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    epochs: int = 300  # the shipped run: 3x the first default's 100
    max_steps: int = 0  # stop after this many steps in total (0: no limit)
    batch_size: int = 64  # global batch (split over replicas under a distribution strategy)
    lr_g: float = 1e-4
    lr_d: float = 4e-4
    # Both rates fall linearly towards 0 over the run's last 20% (1.0: constant): the score had been
    # flat, swinging +-0.01 between snapshots, since epoch 45; the default run's decay gave its best
    # FID/IS/score (README, Results).
    lr_decay_from: float = 0.8
    beta1: float = 0.0
    beta2: float = 0.9
    gp_weight: float = 2.0  # MA-GP: weight k of the matching-aware gradient penalty
    gp_power: float = 6.0  # MA-GP: exponent p
    gp_every: int = 4  # lazy MA-GP: computed every gp_every steps with weight * gp_every
    # Mode-seeking (MSGAN) term: rewards pixel distance between two fakes per unit of noise distance.
    # Off: at 1.0 it drew seed-fixed black and white cut-outs (docs/experiments.md, hypothesis 1).
    mode_seeking_weight: float = 0.0
    # LeCam regularisation of D (Tseng et al. 2021; 0: off): D's real/fake scores are pulled towards
    # running means (decay lecam_decay) of the other side's scores, from step lecam_start on.
    lecam_weight: float = 0.0
    lecam_decay: float = 0.99
    lecam_start: int = 1000
    # Text alignment (XMC-GAN, Zhang et al. 2021; 0: off, dfgan only): D learns a joint space of its
    # own backbone features and the sentence codes (InfoNCE of real images against the batch's
    # captions), and G's loss adds the same term for its images plus one that pulls each fake towards
    # the real image of its caption in that space. No evaluation model is involved.
    contrastive_weight: float = 0.0
    contrastive_temperature: float = 0.1
    contrastive_dim: int = 128
    diffaugment: str = "color,translation,cutout"  # policies applied to real and fake before D ("" for none)
    # A constant-decay EMA of the generator's weights for snapshots (0: off). The 0.999 average from
    # step 500 scored far worse than the raw generator; the ramped EMA below replaces it.
    ema_decay: float = 0.0
    ema_start: int = 500  # steps before the EMA starts tracking (copies G until then)
    # > 0: snapshots hold StyleGAN2-ADA's EMA instead (it wins over ema_decay): a half-life of this
    # many images, ramped up to ema_rampup x the images seen so far (early averages forget the start).
    ema_halflife_images: int = 10000
    ema_rampup: float = 0.05
    precision: str = "auto"  # "auto": mixed_bfloat16 on a GPU, float32 on the CPU (measured faster here)
    augment: bool = True  # random crop + flip of real images
    seed: int = 0
    snapshot_every: int = 5  # epochs between snapshots (plus the first and the last epoch)
    state_every_steps: int = 200  # steps between full training states (and at every epoch end)
    keep_states: int = 2  # full training states kept
    log_every: int = 20  # steps between metric log rows
    sample_captions: int = 8  # rows of the per-snapshot sample grid (fixed captions)
    sample_seeds: int = 8  # columns of the sample grid (fixed seeds)
    jit: bool = False  # XLA-compile the step (single device); on this CPU XLA measured slower than oneDNN
    distribute: str = "none"  # "none", "mirrored" or "multiworker" (TF_CONFIG)


MAX_SEED = 2**32 - 1  # seeds (and IDs) are 0..2^32-1, as numpy's legacy seeding: file names stay short
DIFFAUGMENT_POLICIES = ("color", "translation", "cutout")  # gan_core.train.diffaug's, checked without TensorFlow


def to_dict(config) -> dict:
    return dataclasses.asdict(config)


def _from_dict(cls, data: dict, where: str):
    if not isinstance(data, dict):
        raise UserError(f"config {where or 'root'} must be a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise UserError(f"unknown config key(s) {sorted(unknown)} in {where or 'root'}; known: {sorted(names)}")
    kwargs = {}
    for key, value in data.items():
        hint = hints[key]
        path = f"{where}.{key}" if where else key
        if dataclasses.is_dataclass(hint):
            kwargs[key] = _from_dict(hint, value, path)
        else:
            kwargs[key] = _coerce(hint, value, path)
    return cls(**kwargs)


def _coerce(hint, value, path):
    if hint is bool:
        if isinstance(value, str):
            if value.lower() in ("1", "true", "yes", "on"):
                return True
            if value.lower() in ("0", "false", "no", "off"):
                return False
            raise UserError(f"config {path} must be true or false, got {value!r}")
        return bool(value)
    try:
        if hint is int and isinstance(value, float) and not value.is_integer():
            raise ValueError
        return hint(value)
    except (TypeError, ValueError):
        raise UserError(f"config {path} must be {hint.__name__}, got {value!r}") from None


def model_from_dict(data: dict) -> ModelConfig:
    """A ModelConfig from a stored mapping (a snapshot's model.json), typed and range-checked as a
    run's config is: `"ngf": "abc"` or `-4` is a UserError here, not a crash inside Keras."""
    model = _from_dict(ModelConfig, data, "model")
    validate(TrainConfig(model=model))
    return model


def from_dict(data: dict) -> TrainConfig:
    config = _from_dict(TrainConfig, data, "")
    validate(config)
    return config


def _multipliers(text: str) -> tuple[int, ...] | None:
    try:
        values = tuple(int(v) for v in str(text).split(","))
    except ValueError:
        return None
    return values if len(values) == 5 and min(values) >= 1 else None


def g_multipliers(model: ModelConfig) -> tuple[int, ...]:
    """The generator's channel multipliers, 4 px stage first (validated)."""
    return _multipliers(model.g_mult)


def validate(config: TrainConfig) -> None:
    """Every field checked up front, before a run dir exists: a bad value is one line naming it."""
    m = config.model
    policies = [p.strip() for p in config.diffaugment.split(",") if p.strip()]
    checks = [
        (m.arch in ("dfgan", "dcgan"), f"model.arch must be dfgan or dcgan, got {m.arch!r}"),
        (m.image_size == 64, "model.image_size must be 64 (the competition's size)"),
        (m.upsample in ("bilinear", "nearest"), f"model.upsample must be bilinear or nearest, got {m.upsample!r}"),
        (m.d_lowres in (0, 8, 16, 32) and (m.d_lowres == 0 or m.arch == "dfgan"),
         f"model.d_lowres must be 0 (off), 8, 16 or 32 (dfgan only), got {m.d_lowres}"),
        (not m.g_skip_excitation or m.arch == "dfgan", "model.g_skip_excitation is a dfgan option"),
        (m.text.mode in ("pretrained", "joint"), f"model.text.mode must be pretrained or joint, got {m.text.mode!r}"),
        (min(m.ngf, m.ndf, m.noise_dim, m.cond_dim, m.text.hidden, m.text.embed_dim, m.text.image_channels) >= 1,
         "model sizes (ngf, ndf, noise_dim, cond_dim, text sizes) must be positive"),
        (m.text.pretrain_epochs >= 1 and m.text.pretrain_batch >= 2 and m.text.pretrain_lr > 0,
         "model.text.pretrain_epochs must be >= 1, pretrain_batch >= 2 and pretrain_lr > 0"),
        (config.batch_size >= 2, f"batch_size must be at least 2, got {config.batch_size}"),
        (config.epochs >= 1, f"epochs must be at least 1, got {config.epochs}"),
        (config.max_steps >= 0, f"max_steps must be 0 (no limit) or positive, got {config.max_steps}"),
        (config.lr_g > 0 and config.lr_d > 0, "lr_g and lr_d must be positive"),
        (0.0 <= config.lr_decay_from <= 1.0, f"lr_decay_from must be between 0 and 1, got {config.lr_decay_from}"),
        (0.0 <= config.beta1 < 1.0 and 0.0 <= config.beta2 < 1.0, "beta1 and beta2 must be in [0, 1)"),
        (config.gp_weight >= 0 and config.gp_power > 0, "gp_weight must be >= 0 and gp_power > 0"),
        (config.mode_seeking_weight >= 0, f"mode_seeking_weight must be >= 0, got {config.mode_seeking_weight}"),
        (config.lecam_weight >= 0 and 0.0 <= config.lecam_decay < 1.0 and config.lecam_start >= 0,
         "lecam_weight must be >= 0, lecam_decay in [0, 1) and lecam_start >= 0"),
        (config.contrastive_weight >= 0 and config.contrastive_temperature > 0 and config.contrastive_dim >= 1,
         "contrastive_weight must be >= 0, contrastive_temperature > 0 and contrastive_dim >= 1"),
        (config.contrastive_weight == 0 or m.arch == "dfgan", "contrastive_weight is a dfgan option"),
        (all(p in DIFFAUGMENT_POLICIES for p in policies),
         f"diffaugment must be a comma-separated subset of {','.join(DIFFAUGMENT_POLICIES)} (or empty), "
         f"got {config.diffaugment!r}"),
        (0.0 <= config.ema_decay < 1.0, f"ema_decay must be in [0, 1) (0: off), got {config.ema_decay}"),
        (config.ema_halflife_images >= 0, f"ema_halflife_images must be >= 0 (0: off), got {config.ema_halflife_images}"),
        (0.0 <= config.ema_rampup <= 1.0, f"ema_rampup must be in [0, 1] (0: none), got {config.ema_rampup}"),
        (_multipliers(m.g_mult) is not None,
         f"model.g_mult must be 5 positive integers, comma-separated (4 to 64 px), got {m.g_mult!r}"),
        (config.ema_start >= 0, f"ema_start must be >= 0, got {config.ema_start}"),
        (config.precision in ("auto", "float32", "mixed_bfloat16"), "precision must be auto, float32 or mixed_bfloat16"),
        (config.distribute in ("none", "mirrored", "multiworker"), "distribute must be none, mirrored or multiworker"),
        (config.snapshot_every >= 1, f"snapshot_every must be at least 1, got {config.snapshot_every}"),
        (config.gp_every >= 1, f"gp_every must be at least 1, got {config.gp_every}"),
        (config.state_every_steps >= 1, f"state_every_steps must be at least 1, got {config.state_every_steps}"),
        (config.keep_states >= 1, f"keep_states must be at least 1, got {config.keep_states}"),
        (config.log_every >= 1, f"log_every must be at least 1, got {config.log_every}"),
        (config.sample_captions >= 1, f"sample_captions must be at least 1, got {config.sample_captions}"),
        (config.sample_seeds >= 1, f"sample_seeds must be at least 1, got {config.sample_seeds}"),
        (0 <= config.seed <= MAX_SEED, f"seed must be an integer from 0 to {MAX_SEED}, got {config.seed}"),
    ]
    for ok, message in checks:
        if not ok:
            raise UserError(f"invalid config: {message}")
    _check_finite(config, "")


def _check_finite(node, where: str) -> None:
    """No inf or nan anywhere: `lr=inf` passes every range check above but trains nothing."""
    for f in dataclasses.fields(node):
        value, path = getattr(node, f.name), f"{where}{f.name}"
        if dataclasses.is_dataclass(value):
            _check_finite(value, f"{path}.")
        elif isinstance(value, float) and not math.isfinite(value):
            raise UserError(f"invalid config: {path} must be a finite number, got {value}")


def with_overrides(config: TrainConfig, overrides: dict[str, str]) -> TrainConfig:
    """Apply dotted-key overrides such as {"model.ngf": "48", "epochs": "10"}."""
    data = to_dict(config)
    for dotted, value in overrides.items():
        node = data
        keys = dotted.split(".")
        for key in keys[:-1]:
            if not isinstance(node.get(key), dict):
                raise UserError(f"unknown config key {dotted!r}")
            node = node[key]
        if keys[-1] not in node or isinstance(node[keys[-1]], dict):
            raise UserError(f"unknown config key {dotted!r}")
        node[keys[-1]] = value
    return from_dict(data)


def _read(path: Path) -> dict:
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read config {path}: {exc.strerror}") from None
    yaml_file = path.suffix in (".yaml", ".yml")
    try:
        if yaml_file:
            import yaml

            data = yaml.safe_load(raw) or {}
        else:
            data = json.loads(raw)
    except Exception as exc:
        raise UserError(f"config {path} is not valid {'YAML' if yaml_file else 'JSON'}: "
                        f"{str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UserError(f"config {path} must be a mapping, got {type(data).__name__}")
    return data


def load(path: str | Path) -> TrainConfig:
    """A JSON/YAML config file a user wrote: the fields it lacks take today's defaults."""
    return from_dict(_read(Path(path)))


def load_saved(path: str | Path) -> TrainConfig:
    """A run's own config.json, through the legacy migrator (fields it predates keep the values
    the run was trained with)."""
    from gan_core import legacy

    return from_dict(legacy.migrate_run_config(_read(Path(path))))


def for_run(run_dir: str | Path, config_file: str | Path | None = None,
            overrides: dict[str, str] | None = None) -> TrainConfig:
    """The config a train command means: an explicit file, else the run's own saved config.json,
    else the defaults; then the dotted-key overrides."""
    from gan_core import legacy

    saved = Path(run_dir) / "config.json"
    if config_file:
        data = _read(Path(config_file))
        if saved.is_file():
            data = legacy.complete_from_run(data, to_dict(load_saved(saved)))
        config = from_dict(data)
    elif saved.is_file():
        config = load_saved(saved)
    else:
        config = TrainConfig()
    return with_overrides(config, overrides or {})
