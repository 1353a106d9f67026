"""Latent files: one image's noise z, its caption, psi and the snapshot's digest, as JSON.

The image is G(psi * z, code(caption)), as the report grid draws a cell with a latent
(gan_core.explore.report_grid), so z is a flat list a grid Cell's `latent` takes as is. A projection
that also moved the sentence code stores it as `sentence` (then the caption is a label only).
Every number is a float32 written as the shortest decimal that reads back to it, so a file loads
back bit-exactly. A file from a snapshot with another noise size is a one-line error; one from
another snapshot of the same size loads (the same z drawn by another epoch) and `note` says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_core import UserError, storage

FORMAT = "gan_core.latent/1"
MAX_BYTES = 1_000_000  # a latent file is a few kB; anything larger is not one


@dataclass(frozen=True)
class Latent:
    z: np.ndarray  # float32 [noise_dim]
    caption: str
    psi: float = 1.0  # truncation: the generator sees psi * z
    digest: str = ""  # the snapshot's weights digest (snapshot_digest); "" when unknown
    sentence: np.ndarray | None = None  # float32 [D]: an optimised sentence code, used instead of the caption's
    source: str = ""  # where it came from: "generate seed 3", "projector", ...


def snapshot_digest(snapshot: str | Path) -> str:
    """The identity the score caches use: the hash of the snapshot's weights file."""
    return storage.file_identity(Path(snapshot) / "weights.npz")


def _floats(values) -> list[float]:
    # float32 -> Python float -> repr is exact; float32(float(x)) == x round-trips bit for bit.
    return [float(v) for v in np.asarray(values, np.float32).reshape(-1)]


def to_json(latent: Latent) -> str:
    data = {"format": FORMAT, "z": _floats(latent.z), "caption": str(latent.caption), "psi": float(latent.psi),
            "digest": str(latent.digest), "source": str(latent.source)}
    if latent.sentence is not None:
        data["sentence"] = _floats(latent.sentence)
    return json.dumps(data)


def _vector(value, name: str) -> np.ndarray:
    try:
        array = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise UserError(f"not a latent file: {name} must be a list of numbers") from None
    if array.ndim != 1 or not len(array):
        raise UserError(f"not a latent file: {name} must be a flat, non-empty list of numbers")
    if not np.all(np.isfinite(array)):
        raise UserError(f"not a latent file: {name} holds a value that is not a finite number")
    return array.astype(np.float32)


def from_json(text: str | bytes, noise_dim: int | None = None) -> Latent:
    """A Latent, checked; with `noise_dim`, a z of another length is a one-line UserError."""
    if len(text) > MAX_BYTES:
        raise UserError(f"not a latent file: {len(text)} bytes (a latent file is a few kB)")
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"not a latent file (not JSON: {exc})") from None
    if not isinstance(data, dict) or "z" not in data or "caption" not in data:
        raise UserError("not a latent file: it needs at least z and caption")
    if str(data.get("format", FORMAT)) != FORMAT:
        raise UserError(f"latent file has format {data.get('format')!r}; this version reads {FORMAT}")
    z = _vector(data["z"], "z")
    try:
        psi = float(data.get("psi", 1.0))
    except (TypeError, ValueError):
        raise UserError(f"not a latent file: psi must be a number, got {data.get('psi')!r}") from None
    if not 0.0 < psi <= 1.0:
        raise UserError(f"latent file: psi must be in (0, 1], got {psi:g}")
    sentence = _vector(data["sentence"], "sentence") if data.get("sentence") is not None else None
    if noise_dim is not None and len(z) != noise_dim:
        raise UserError(f"the latent has {len(z)} noise values but this snapshot's noise has {noise_dim}: "
                        f"it was saved from a snapshot of another architecture")
    return Latent(z, str(data["caption"]), psi, str(data.get("digest", "")), sentence, str(data.get("source", "")))


def read(path: str | Path, noise_dim: int | None = None) -> Latent:
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UserError(f"{path} is not a latent file ({path.stat().st_size} bytes)")
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the latent file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return from_json(text, noise_dim)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None


def note(latent: Latent, digest: str) -> str | None:
    """A line when the latent was saved from another snapshot (it still loads), else None."""
    if latent.digest and digest and latent.digest != digest:
        return f"saved from another snapshot ({latent.digest}); this one is {digest}: the same z, drawn by these weights"
    return None


def check_sentence(latent: Latent, sentence_dim: int) -> None:
    if latent.sentence is not None and len(latent.sentence) != sentence_dim:
        raise UserError(f"the latent's sentence code has {len(latent.sentence)} values, this snapshot's has "
                        f"{sentence_dim}")


def render(sampler, latents: list[Latent]) -> np.ndarray:
    """uint8 [N, 64, 64, 3]: each latent drawn by `sampler` (G(psi * z, code)), checked first."""
    if not latents:
        return sampler.from_embeddings(np.zeros((0, 1), np.float32), np.zeros((0, sampler.noise_dim), np.float32))
    for latent in latents:
        if len(latent.z) != sampler.noise_dim:
            raise UserError(f"the latent has {len(latent.z)} noise values but this snapshot's noise has "
                            f"{sampler.noise_dim}: it was saved from a snapshot of another architecture")
    typed = [i for i, x in enumerate(latents) if x.sentence is None]  # an optimised code needs no caption
    codes = None
    if typed:
        encoded = sampler.encode([latents[i].caption for i in typed]).embeddings
        codes = np.zeros((len(latents), encoded.shape[1]), np.float32)
        codes[typed] = encoded
    for i, latent in enumerate(latents):
        if latent.sentence is not None:
            if codes is None:
                codes = np.zeros((len(latents), len(latent.sentence)), np.float32)
            check_sentence(latent, codes.shape[1])
            codes[i] = latent.sentence
    z = np.stack([x.z * np.float32(x.psi) for x in latents]).astype(np.float32)
    return sampler.from_embeddings(codes, z)


RENDER_MODE = "latents"  # generation.json's mode for a folder of rendered latent files


def render_file_name(index: int) -> str:
    return f"latent_{index:04d}.png"


def is_render_folder(path: Path) -> bool:
    """Whether `path` is a folder `render_files` wrote (generate.py's ownership rule,
    inference.is_generated_folder, with this mode)."""
    from gan_core.sample.inference import RECORD_NAME, is_generated_folder

    return is_generated_folder(path) and json.loads((Path(path) / RECORD_NAME).read_text()).get("mode") == RENDER_MODE


def render_files(sampler, paths: list[str | Path], out: str | Path) -> list[Path]:
    """Each latent file -> out/latent_NNNN.png (in the order given) plus generation.json naming the
    files; the folder is written aside and moved into place whole. Every file is read and checked
    against the snapshot before anything is drawn."""
    from PIL import Image

    from gan_core import atomic

    loaded = [read(p, sampler.noise_dim) for p in paths]
    images = render(sampler, loaded)
    digest = snapshot_digest(sampler.path) if sampler.path is not None else ""
    out = Path(out)
    from gan_core.sample.inference import is_generated_folder

    with atomic.atomic_dir(out, owned=is_generated_folder) as tmp:  # any of generate.py's own outputs
        for i, image in enumerate(images):
            with atomic.atomic_path(tmp / render_file_name(i)) as target:
                Image.fromarray(image).save(target, format="PNG")
        atomic.write_json(tmp / "generation.json", {
            "snapshot": str(sampler.path), "epoch": int(sampler.epoch), "mode": RENDER_MODE, "images": len(images),
            "latents": [{"file": str(p), "image": render_file_name(i), "caption": x.caption, "psi": x.psi,
                         "saved_from": x.digest, "note": note(x, digest)} for i, (p, x) in enumerate(zip(paths, loaded))]})
    return [out / render_file_name(i) for i in range(len(images))]
