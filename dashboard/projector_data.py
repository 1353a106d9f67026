"""Dashboard-side loaders for the projector, coverage, latent files and latent directions.

Reads are cached (st.cache_data); the heavy passes (a projection, a directions fit) run only when a
page calls them behind a button. The only files written are the git-ignored caches next to a
snapshot (directions_*), never anything `git status` shows.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import streamlit as st

from dashboard.loaders import load_dataset, load_evaluator, sampler_pool
from gan_core import UserError


@st.cache_data(max_entries=32, show_spinner=False)
def snapshot_digest(snapshot: str) -> str:
    from gan_core.explore.latents import snapshot_digest as digest

    return digest(snapshot)


@st.cache_data(max_entries=8, show_spinner=False)
def noise_dim(snapshot: str) -> int:
    return int(sampler_pool().run(snapshot, lambda g: g.noise_dim))


def _coverage_stamp(snapshot: str) -> tuple:
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in Path(snapshot).glob("coverage_*.json")))


@st.cache_data(max_entries=16, show_spinner=False)
def _coverage(snapshot: str, stamp: tuple) -> list[dict]:
    from gan_core.explore.coverage import cached

    return cached(snapshot)


def coverage_results(snapshot: str) -> list[dict]:
    """The coverage results cached next to a snapshot (scripts/project.py --coverage writes them)."""
    return _coverage(snapshot, _coverage_stamp(snapshot))


@st.cache_data(max_entries=4, show_spinner=False)
def test_table(data_root: str):
    """Test rows with test ID and caption: (row, test_id, caption) as a DataFrame."""
    dataset = load_dataset(data_root)
    rows = np.asarray(dataset.test_rows)
    table = dataset.image_table.loc[rows, ["test_id"]].copy()
    table["row"] = rows
    table["test_id"] = table["test_id"].astype(int)
    captions = dict(zip(dataset.test_captions["ID"].astype(int), dataset.test_captions["caption"]))
    table["caption"] = [captions.get(t, "") for t in table["test_id"]]
    return table.reset_index(drop=True)


def real_images(data_root: str, rows) -> np.ndarray:
    return np.asarray(load_dataset(data_root).images(64))[np.asarray(rows, np.int64)]


def read_upload(data: bytes) -> np.ndarray:
    """An uploaded image -> uint8 [64, 64, 3]; a UserError below 64 px or when unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            img = img.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise UserError(f"cannot read the uploaded image ({exc})") from None
    if min(img.size) < 64:
        raise UserError(f"the image must be at least 64 px on each side, got {img.size[0]}x{img.size[1]}")
    return np.asarray(img.resize((64, 64), Image.Resampling.BILINEAR), np.uint8)


def project_one(snapshot: str, evaluator_path: str, caption: str, target: np.ndarray, steps: int, seed: int,
                progress=None) -> dict:
    """One projection (behind a button): -> a plain dict for st.session_state."""
    from gan_core.explore.projector import ProjectorConfig, gif_bytes, project

    config = ProjectorConfig(steps=int(steps), seed=int(seed))

    def work(sampler):
        evaluator = None if sampler.can_rank else load_evaluator(evaluator_path)
        return project(sampler, [caption], target[None], config, evaluator=evaluator, progress=progress)

    out = sampler_pool().run(snapshot, work)
    return {"snapshot": snapshot, "caption": caption, "target": target, "z": out.z[0], "image": out.images[0],
            "losses": out.losses, "gif": gif_bytes(out.frames), "feature_net": out.feature_net, "steps": int(steps),
            "seed": int(seed), "digest": snapshot_digest(snapshot)}


@st.cache_data(max_entries=64, show_spinner=False)
def render_latent(snapshot: str, text: str) -> tuple[np.ndarray, str | None, str, float]:
    """A latent file's image on a snapshot -> (uint8 [64, 64, 3], note or None, caption, psi)."""
    from gan_core.explore import latents

    latent = latents.from_json(text, noise_dim(snapshot))
    image = sampler_pool().run(snapshot, lambda g: latents.render(g, [latent]))[0]
    return image, latents.note(latent, snapshot_digest(snapshot)), latent.caption, latent.psi


def latent_json(z: np.ndarray, caption: str, psi: float, snapshot: str, source: str) -> str:
    from gan_core.explore.latents import Latent, to_json

    return to_json(Latent(np.asarray(z, np.float32), caption, float(psi), snapshot_digest(snapshot), None, source))


def seed_noise(snapshot: str, seeds: list[int]) -> np.ndarray:
    from gan_core.sample.sampler import seed_noise as draw

    return draw(seeds, noise_dim(snapshot))


# -- latent directions ---------------------------------------------------------------------------
DIRECTION_SAMPLES = 2000
DIRECTION_COMPONENTS = 10


def cached_directions(snapshot: str, captions: tuple[str, ...]):
    """Directions already fitted for (snapshot, captions), or None: reading only, nothing computed."""
    from gan_core import storage
    from gan_core.explore.directions import Directions, cache_key

    key = cache_key(snapshot_digest(snapshot), list(captions), DIRECTION_COMPONENTS, DIRECTION_SAMPLES, 0)
    stored = storage.read_cache(snapshot, "directions", key)
    return Directions.from_dict(stored) if isinstance(stored, dict) else None


def fit_directions(snapshot: str, captions: tuple[str, ...]):
    """GANSpace fit (behind a button), kept next to the snapshot as a git-ignored directions_* file."""
    from gan_core.explore.directions import cached_fit

    digest = snapshot_digest(snapshot)
    return sampler_pool().run(snapshot, lambda g: cached_fit(g, digest, list(captions), DIRECTION_COMPONENTS,
                                                             DIRECTION_SAMPLES, 0))


@st.cache_data(max_entries=64, show_spinner=False)
def edited_images(snapshot: str, captions: tuple[str, ...], seeds: tuple[int, ...], psi: float,
                  vector: tuple[float, ...], layers: tuple[int, int]) -> np.ndarray:
    """uint8 [N, 64, 64, 3]: each seed's psi * z, moved by `vector` in layers first..last."""

    def work(g):
        from gan_core.explore.directions import generate_layered

        z = g.noise(list(seeds), psi)
        codes = g.encode(list(captions)).embeddings
        return generate_layered(g.networks, z, z + np.asarray(vector, np.float32)[None], codes, layers)

    return sampler_pool().run(snapshot, work)


def layer_count(snapshot: str) -> int:
    from gan_core.explore.directions import layer_count as count

    return int(sampler_pool().run(snapshot, lambda g: count(g.networks)))
