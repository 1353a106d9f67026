"""Generate & interpolate: a caption (typed or a test caption) with chosen seeds; seed and caption
interpolation strips with PNG and GIF downloads."""

import re
from pathlib import Path

import streamlit as st

from dashboard import exports, loaders
from dashboard.components import (check_captions, display_path, page_roots, parse_seeds, show_notes, shown_errors,
                                  best_of_ui, snapshot_ui, truncation_ui)
from gan_core import UserError

DEFAULT_CAPTION = "this flower has white petals and a bright yellow center"
OTHER_CAPTION = "this flower has large red petals with a dark center"
MAX_MATCHES = 200

roots = page_roots()
st.title("Generate & interpolate")
snapshot = snapshot_ui(roots.checkpoints)


def caption_ui() -> str | None:
    source = st.radio("Caption", ["Type a caption", "Pick a test caption"], horizontal=True, key="gen_source")
    if source == "Type a caption":
        return st.text_input("Your caption", DEFAULT_CAPTION, key="gen_caption")
    try:
        table = loaders.test_captions(str(roots.data))
    except UserError as exc:
        st.info(f"Test captions need the prepared data set. {exc}")
        return st.text_input("Your caption", DEFAULT_CAPTION, key="gen_caption_fallback")
    query = st.text_input("Search test captions by ID or words", "", key="gen_search").strip().lower()
    matches = table
    if query:
        by_id = table["ID"].astype(str) == query
        by_words = table["caption"].str.lower().str.contains(query, regex=False)
        matches = table[by_id | by_words]
    if matches.empty:
        st.info(f"No test caption matches “{query}”.")
        return None
    if len(matches) > MAX_MATCHES:
        st.caption(f"{len(matches)} matches; showing the first {MAX_MATCHES}. Type more to narrow it down.")
        matches = matches.head(MAX_MATCHES)
    texts = dict(zip(matches["ID"].astype(int), matches["caption"]))
    chosen = st.selectbox("Test caption", list(texts), key="gen_test_id", format_func=lambda i: f"{i} — {texts[i]}")
    return texts[chosen]


def strip_downloads(images, labels, key: str, name: str) -> None:
    """PNG and GIF downloads; `name` (file name without extension) says what the strip shows."""
    name = f"{Path(snapshot).parents[1].name}_e{loaders.load_generator(snapshot).epoch}_{name}"
    left, right, _ = st.columns([1, 1, 4])
    left.download_button("Download PNG", exports.strip_png(images, labels), file_name=f"{name}.png",
                         mime="image/png", key=f"{key}_png")
    right.download_button("Download GIF", exports.gif(images), file_name=f"{name}.gif", mime="image/gif",
                          key=f"{key}_gif")


def slug(caption: str, words: int = 6) -> str:
    return "-".join(re.findall(r"[a-z0-9]+", caption.lower())[:words]) or "caption"


def seed_interpolation_ui(caption: str, psi: float) -> None:
    a, b, mode, steps = st.columns(4)
    seed_a = a.number_input("Seed A", 0, 2**31 - 1, 0, key="int_seed_a")
    seed_b = b.number_input("Seed B", 0, 2**31 - 1, 1, key="int_seed_b")
    how = mode.radio("Path", ["slerp", "lerp"], horizontal=True, key="int_mode",
                     help="slerp follows the sphere Gaussian noise lives on; lerp cuts through its middle")
    count = steps.slider("Steps", 3, 16, 8, key="int_steps")
    images = loaders.interpolate_noise(snapshot, caption, int(seed_a), int(seed_b), int(count), how, psi)
    labels = [f"t={t / (count - 1):.2f}" for t in range(count)]
    st.image(list(images), caption=labels, width=96)
    strip_downloads(images, labels, "seeds", f"{slug(caption)}_seeds{seed_a}-{seed_b}_{how}")


def caption_interpolation_ui(caption: str, psi: float) -> None:
    other = st.text_input("Caption B", OTHER_CAPTION, key="int_caption_b")
    seed_col, steps_col = st.columns(2)
    seed = seed_col.number_input("Seed", 0, 2**31 - 1, 0, key="int_caption_seed")
    count = steps_col.slider("Steps", 3, 16, 8, key="int_caption_steps")
    show_notes(check_captions(loaders.load_generator(snapshot).vocab, [other]))
    images = loaders.interpolate_captions(snapshot, caption, other, int(seed), int(count), psi)
    labels = [f"t={t / (count - 1):.2f}" for t in range(count)]
    st.caption(f"From “{caption}” to “{other}”, seed {seed}.")
    st.image(list(images), caption=labels, width=96)
    strip_downloads(images, labels, "captions", f"{slug(caption, 3)}_to_{slug(other, 3)}_seed{seed}")


if snapshot is None:
    st.info("Choose a usable snapshot in the sidebar to generate images.")
    st.stop()

with shown_errors("Loading the snapshot"):
    generator = loaders.load_generator(snapshot)
    st.caption(f"Snapshot `{display_path(snapshot, roots.checkpoints)}` (epoch {generator.epoch}, "
               f"vocabulary of {len(generator.vocab)} words)")
    caption = caption_ui()
    seeds_col, psi_col, best_col = st.columns([3, 1, 1])
    seeds = parse_seeds(seeds_col.text_input("Seeds", "0-7", key="gen_seeds",
                                             help="Whole numbers, comma-separated, ranges allowed: `0, 5, 10-13`"))
    psi = truncation_ui("gen_psi", psi_col)
    best_of = best_of_ui("gen_best_of", generator.can_rank, best_col)
    tag = ("" if psi == 1.0 else f"_psi{psi:g}") + ("" if best_of == 1 else f"_best{best_of}")
    if caption is not None:
        show_notes(check_captions(generator.vocab, [caption]))
        images = loaders.generate_pairs(snapshot, (caption,) * len(seeds), tuple(seeds), psi, best_of)
        st.image(list(images), caption=[f"seed {s}" for s in seeds], width=104)
        strip_downloads(images, [f"seed {s}" for s in seeds], "samples", slug(caption) + tag)

        st.subheader("Interpolate")
        seeds_tab, captions_tab = st.tabs(["Between two seeds", "Between two captions"])
        with seeds_tab, shown_errors("Seed interpolation"):
            seed_interpolation_ui(caption, psi)
        with captions_tab, shown_errors("Caption interpolation"):
            caption_interpolation_ui(caption, psi)
