"""Widgets shared by the pages. `*_ui()` helpers draw widgets and return plain values."""

from __future__ import annotations

import contextlib
import re
import traceback
from pathlib import Path

import streamlit as st

from gan_core import UserError
from gan_core.explore.runs import list_runs, summarize_run, usable_snapshots

from .settings import DEFAULT_RUN, WHERE_HINT, Roots, roots

MAX_SEEDS = 64
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


def page_roots() -> Roots:
    chosen = roots()
    if chosen.evaluator_note:
        st.sidebar.caption(chosen.evaluator_note)
    return chosen


@contextlib.contextmanager
def shown_errors(what: str = "this section"):
    """Show an error of the block as a readable message and carry on with the rest of the page."""
    try:
        yield
    except UserError as exc:
        st.error(str(exc))
    except Exception as exc:  # noqa: BLE001 - any failure becomes a message, never a traceback
        st.error(f"{what} failed: {type(exc).__name__}: {exc}")
        traceback.print_exc()  # the console keeps the details


def display_path(path: str | Path, root: Path) -> str:
    """`path` as the user knows it: relative to the checkpoints root's parent (checkpoints/RUN/...)
    rather than the server's absolute path."""
    try:
        return str(Path(path).resolve().relative_to(Path(root).resolve().parent))
    except ValueError:
        return str(path)


def remembered(key: str, options: list, default=None):
    """The index for a selectbox whose choice survives page switches (widget state does not)."""
    value = st.session_state.get(f"keep_{key}", default)
    if value not in options:
        value = default
    return options.index(value) if value in options else 0


def remember(key: str, value) -> None:
    st.session_state[f"keep_{key}"] = value


def run_ui(root: Path, key: str = "run", container=None, label: str = "Run") -> Path | None:
    """Pick a run under the checkpoints root; says why when there is none. -> the run folder."""
    box = container or st.sidebar
    try:
        runs = list_runs(root)
    except UserError as exc:
        box.error(f"{exc}. To read runs from another folder, {WHERE_HINT}.")
        return None
    if not runs:
        box.info(f"No runs under {root} yet. Train one with `python scripts/train.py --run-dir {root}/NAME`, "
                 f"or point the app elsewhere: {WHERE_HINT}.")
        return None
    names = [r.name for r in runs]
    default = DEFAULT_RUN
    if DEFAULT_RUN not in names:
        default = next((r.name for r in runs if usable_snapshots(r)), names[0])
        if key == "run":
            box.caption(f"The shipped checkpoint `{root / DEFAULT_RUN}` is not there (yet); showing the other runs.")
    choice = box.selectbox(label, names, index=remembered(key, names, default), key=f"w_{key}")
    remember(key, choice)
    return root / choice


def current_run(root: Path, key: str = "run") -> Path | None:
    """The run last chosen with run_ui(key) on this rerun, or None."""
    name = st.session_state.get(f"keep_{key}")
    return root / name if name and (root / name).is_dir() else None


def snapshot_ui(root: Path, key: str = "snap", container=None, label: str = "Snapshot",
                run_key: str = "run", back: int = 0) -> str | None:
    """Pick a run and one of its snapshots (by default the latest usable one, or `back` usable
    snapshots before it). -> the snapshot path, or None after showing why there is no usable one."""
    box = container or st.sidebar
    run = run_ui(root, run_key, box, "Run")
    if run is None:
        return None
    summary = summarize_run(run)
    if not summary.snapshots:
        box.info(f"Run `{run.name}` has no snapshot yet (they appear after its first epoch).")
        return None
    epochs = [s.epoch for s in summary.snapshots]
    usable = [s.epoch for s in summary.snapshots if s.problem is None]
    default = usable[max(len(usable) - 1 - back, 0)] if usable else epochs[-1]
    remembered_epoch = st.session_state.get(f"keep_{key}")
    index = epochs.index(remembered_epoch) if remembered_epoch in epochs else epochs.index(default)
    epoch = box.selectbox(label, epochs, index=index, key=f"w_{key}_{run.name}",
                          format_func=lambda e: f"epoch {e}")
    remember(key, epoch)
    info = summary.snapshots[epochs.index(epoch)]
    if info.problem:
        box.error(f"This snapshot cannot be used: {info.problem}")
        return None
    return str(info.path)


def truncation_ui(key: str, container=None) -> float:
    """The truncation psi slider: 1 draws the noise as it comes; lower values give more typical,
    less varied images (the noise is scaled by psi)."""
    box = container or st
    return float(box.slider("Truncation ψ", 0.5, 1.0, 1.0, 0.05, key=key,
                            help="Scales each seed's noise by ψ before generating. 1: as drawn (the competition "
                                 "images); lower: more typical, less varied images."))


BEST_OF_CHOICES = (1, 2, 4, 8, 16)


def best_of_ui(key: str, can_rank: bool, container=None) -> int:
    """Best-of-N: each image is the one of N candidates that the GAN's own discriminator rates
    highest for the caption; disabled (1) for a snapshot that holds no discriminator."""
    box = container or st
    help_text = ("Draws N candidates per image and keeps the one the GAN's own discriminator rates highest for the "
                 "caption (candidate 1 is the seed's own image). Costs N times the generation time. Measured on "
                 "the shipped snapshot (docs/experiments.md) it made both worse: score 0.3214 -> 0.3262 (best of 4) "
                 "and 0.3237 (best of 8), Inception-FID 52.0 -> 55.3 and 57.6. Off by default.")
    if not can_rank:
        help_text += " This snapshot holds no discriminator, so only 1 is available."
        box.selectbox("Best of N", (1,), key=f"{key}_unranked", disabled=True, help=help_text)
        return 1
    return int(box.selectbox("Best of N", BEST_OF_CHOICES, key=key, help=help_text))


def parse_seeds(text: str, limit: int = MAX_SEEDS) -> list[int]:
    """'0, 3, 10-13' -> [0, 3, 10, 11, 12, 13]; a UserError for anything else."""
    seeds: list[int] = []
    for part in [p.strip() for p in str(text).replace(";", ",").split(",") if p.strip()]:
        match = _RANGE.match(part)
        if match:
            low, high = int(match.group(1)), int(match.group(2))
            if high < low or high - low >= limit:
                raise UserError(f"seed range {part!r} must go up and hold at most {limit} seeds")
            seeds.extend(range(low, high + 1))
        elif part.isdigit():
            seeds.append(int(part))
        else:
            raise UserError(f"{part!r} is not a seed: use whole numbers >= 0, e.g. `0, 1, 2` or `0-7`")
    if not seeds:
        raise UserError("give at least one seed, e.g. `0, 1, 2` or `0-7`")
    if len(seeds) > limit:
        raise UserError(f"{len(seeds)} seeds given; at most {limit} at a time")
    if max(seeds) >= 2**63:
        raise UserError("seeds must be below 2**63")
    return seeds


def check_captions(vocab, captions: list[str], labels: list[str] | None = None) -> list[str]:
    """Raise a UserError for an empty caption; return warnings for words the model cannot read.
    `labels` name the captions in messages (e.g. "Row 3"); the caption text alone otherwise."""
    from gan_core.data.text import tokenize

    notes = []
    for k, caption in enumerate(captions):
        where = f"{labels[k]}: " if labels else ""
        if len(caption) > 2000:
            raise UserError(f"{where}a caption of {len(caption)} characters is too long (keep it under 2000)")
        encoded = vocab.encode(caption)
        if encoded.length == 0:
            raise UserError(f"{where}the caption {caption!r} is empty: it needs at least one word (letters or digits)")
        shown = caption if len(caption) < 80 else caption[:77] + "…"
        unknown = list(dict.fromkeys(t for t in tokenize(caption)[: vocab.max_len] if t not in vocab.index))
        if encoded.unknown == encoded.length:
            notes.append(f"{where}no word of “{shown}” is in the model's vocabulary, so the model reads it as "
                         f"no text at all.")
        elif unknown:
            notes.append(f"{where}{len(unknown)} word(s) of “{shown}” are not in the model's vocabulary and are "
                         f"read as unknown: {', '.join(unknown[:8])}.")
        if encoded.truncated:
            notes.append(f"{where}“{shown}” is longer than {vocab.max_len} words; only the first {vocab.max_len} "
                         f"are used.")
    return notes


def show_notes(notes: list[str]) -> None:
    """All notes in one warning box (a list when several), not a box per caption."""
    if len(notes) == 1:
        st.warning(notes[0])
    elif notes:
        st.warning("\n".join(f"- {note}" for note in notes))
