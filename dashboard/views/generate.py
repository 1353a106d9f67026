"""Generate & interpolate: a caption (typed or a test caption) with chosen seeds; seed and caption
interpolation strips with PNG and GIF downloads."""

import re
from pathlib import Path

import streamlit as st

from dashboard import exports, loaders
from dashboard import projector_data as latent_data
from dashboard.components import (best_of_ui, check_captions, display_path, page_roots, parse_seeds, show_notes,
                                  shown_errors, snapshot_ui, truncation_ui)
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
        st.session_state.setdefault("gen_caption", DEFAULT_CAPTION)  # no default argument: a link may set it
        return st.text_input("Your caption", key="gen_caption")
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
    st.session_state["gen_chosen_id"] = int(chosen)
    return texts[chosen]


def apply_query() -> None:
    """`?caption=...&seed=...` (e.g. a link from Test captions) fills the caption and seeds once per
    link: digits in caption pick that test caption."""
    caption, seed = st.query_params.get("caption"), st.query_params.get("seed")
    if not caption and not seed or st.session_state.get("gen_query_applied") == (caption, seed):
        return
    st.session_state["gen_query_applied"] = (caption, seed)
    if caption and caption.strip().isdigit():
        st.session_state["gen_source"] = "Pick a test caption"
        st.session_state["gen_search"] = caption.strip()
    elif caption:
        st.session_state["gen_source"] = "Type a caption"
        st.session_state["gen_caption"] = caption
    if seed:
        st.session_state["gen_seeds"] = seed


def send_ui(caption: str, seeds: list[int]) -> None:
    """Send the caption (a test ID when one was picked) and a seed into the report grid's state."""
    from dashboard.grid_state import grid_state, send_to_grid

    grid = grid_state(st.session_state)
    rows, cols = grid.shape
    picked = st.session_state.get("gen_chosen_id") if st.session_state.get("gen_source") == "Pick a test caption" \
        else None
    what = str(picked) if picked is not None else caption
    seed_col, row_col, cell_col, go = st.columns([1, 1, 1.3, 1.2], vertical_alignment="bottom")
    seed = seed_col.selectbox("Seed to send", seeds, key="gen_send_seed")
    row = row_col.selectbox("Grid row", range(rows), index=rows - 1, key="gen_send_row",
                            format_func=lambda r: f"Row {r + 1}")
    target = cell_col.selectbox("Into", ["the cell in column 1"] + [f"the cell in column {c + 1}" for c in range(1, cols)]
                                + [f"all of column {c + 1}" for c in range(cols)], key="gen_send_target")
    if go.button("Send to report grid", key="gen_send", width="stretch",
                 help="The caption goes into the grid row, the seed into the cell or the column (locks hold)"):
        column = int(target.rsplit(" ", 1)[1]) - 1
        st.success(send_to_grid(st.session_state, what, int(seed), row=int(row), column=column,
                                whole_column=target.startswith("all")))


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


POOLED = (DEFAULT_CAPTION, OTHER_CAPTION, "a purple flower with many thin pointed petals",
          "this flower is pink with ruffled petals and yellow stamens",
          "an orange flower with long curled back petals and dark spots")
SLIDERS = 5  # top GANSpace components with a slider
LAYER_NAMES = ["fc (4 px)", "block 1 (8 px)", "block 2 (16 px)", "block 3 (32 px)", "block 4 (64 px)"]
NAMED = "gen_named_directions"  # st.session_state[NAMED]: name -> {"vector": [z], "layers": [first, last]}


def directions_ui(caption: str, seeds: list[int], psi: float):
    """GANSpace sliders and named directions -> (z offset, layer range) or None when nothing is fitted."""
    import numpy as np

    from gan_core.explore.directions import named_from_json, named_to_json

    pooled = st.radio("Directions of", ["this caption", "5 captions pooled"], horizontal=True, key="dir_pool",
                      help="PCA of the first up block's activations over 2000 z (GANSpace), mapped back to z")
    captions = (caption,) if pooled == "this caption" else POOLED
    found = latent_data.cached_directions(snapshot, captions)
    if found is None:
        if not st.button("Find directions", key="dir_fit", help="About 10 s; kept next to the snapshot"):
            st.caption("No directions fitted for this yet.")
            return None
        with st.spinner("Fitting directions…"):
            found = latent_data.fit_directions(snapshot, captions)
    count = latent_data.layer_count(snapshot)
    names = (LAYER_NAMES + [f"layer {i}" for i in range(len(LAYER_NAMES), count)])[:count]
    cols = st.columns(SLIDERS)
    amounts = [cols[k].slider(f"Component {k + 1}", -3.0, 3.0, 0.0, 0.25, key=f"dir_pc{k}",
                              help=f"sigma units; {found.explained[k]:.1%} of the activation variance")
               for k in range(min(SLIDERS, len(found.components)))]
    first, last = st.select_slider("Apply to layers (component range)", options=list(range(count)),
                                   value=(0, count - 1), format_func=lambda i: names[i], key="dir_layers")
    named = st.session_state.setdefault(NAMED, {})
    vector = (np.asarray(amounts, np.float32) * found.sigma[:len(amounts)]) @ found.components[:len(amounts)]
    for name, saved in named.items():
        weight = st.slider(f"Named: {name}", -3.0, 3.0, 0.0, 0.25, key=f"dir_named_{name}")
        vector = vector + weight * np.asarray(saved["vector"], np.float32)
    layers = (int(first), int(last))
    if np.any(vector != 0):
        images = latent_data.edited_images(snapshot, (caption,) * len(seeds), tuple(seeds), psi,
                                           tuple(float(v) for v in vector), layers)
        st.image(list(images), caption=[f"seed {s}, edited" for s in seeds], width=104)
    name_col, save_col, file_col = st.columns([2, 1, 2], vertical_alignment="bottom")
    name = name_col.text_input("Name this edit", "", key="dir_name", placeholder="e.g. zoom out")
    if save_col.button("Save direction", key="dir_save", disabled=not name.strip() or not np.any(vector != 0)):
        named[name.strip()] = {"vector": [float(v) for v in vector], "layers": list(layers)}
        st.success(f"Saved “{name.strip()}”: it has its own slider now.")
    upload = file_col.file_uploader("Load named directions", type=["json"], key="dir_upload")
    if upload is not None and st.session_state.get("dir_loaded") != upload.file_id:
        named.update(named_from_json(upload.getvalue(), latent_data.noise_dim(snapshot)))
        st.session_state["dir_loaded"] = upload.file_id
    if named:
        st.download_button("Download named directions", named_to_json(named, latent_data.noise_dim(snapshot)),
                           file_name="directions.json", mime="application/json", key="dir_download")
    return vector, layers, count


def latents_ui(caption: str, seeds: list[int], psi: float, best_of: int, edit) -> None:
    """Save any shown image as a latent file; load one back and see it drawn by this snapshot."""
    import numpy as np

    save_col, load_col = st.columns(2)
    seed = save_col.selectbox("Image to save", seeds, key="lat_seed", format_func=lambda s: f"seed {s}")
    z = latent_data.seed_noise(snapshot, [int(seed)])[0]
    saved_psi, source = psi, f"generate seed {seed}"
    blocked = "Best of N picks among candidates: set it to 1 to save a latent." if best_of > 1 else None
    if edit is not None and np.any(edit[0] != 0):
        if edit[1] != (0, edit[2] - 1):
            blocked = "An edit on a layer range is not one z: apply it to all layers to save it."
        z, saved_psi, source = np.float32(psi) * z + edit[0], 1.0, f"generate seed {seed}, edited"
    if blocked:
        save_col.caption(blocked)
    else:
        save_col.download_button("Save latent", latent_data.latent_json(z, caption, saved_psi, snapshot, source),
                                 file_name=f"latent_{slug(caption, 4)}_s{seed}.json", mime="application/json",
                                 key="lat_save", help="JSON: z, caption, psi and the snapshot's digest")
    upload = load_col.file_uploader("Load a latent file", type=["json"], key="lat_upload")
    if upload is not None:
        image, note, saved_caption, saved_psi = latent_data.render_latent(
            snapshot, upload.getvalue().decode("utf-8", errors="replace"))
        load_col.image(image, caption=f"“{saved_caption}”, psi {saved_psi:g}", width=128)
        if note:
            load_col.caption(note)


if snapshot is None:
    st.info("Choose a usable snapshot in the sidebar to generate images.")
    st.stop()

with shown_errors("Loading the snapshot"):
    generator = loaders.load_generator(snapshot)
    st.caption(f"Snapshot `{display_path(snapshot, roots.checkpoints)}` (epoch {generator.epoch}, "
               f"vocabulary of {len(generator.vocab)} words)")
    apply_query()
    caption = caption_ui()
    seeds_col, psi_col, best_col = st.columns([3, 1, 1])
    st.session_state.setdefault("gen_seeds", "0-7")
    seeds = parse_seeds(seeds_col.text_input("Seeds", key="gen_seeds",
                                             help="Whole numbers, comma-separated, ranges allowed: `0, 5, 10-13`"))
    psi = truncation_ui("gen_psi", psi_col)
    best_of = best_of_ui("gen_best_of", generator.can_rank, best_col)
    tag = ("" if psi == 1.0 else f"_psi{psi:g}") + ("" if best_of == 1 else f"_best{best_of}")
    if caption is not None:
        show_notes(check_captions(generator.vocab, [caption]))
        images = loaders.generate_pairs(snapshot, (caption,) * len(seeds), tuple(seeds), psi, best_of)
        st.image(list(images), caption=[f"seed {s}" for s in seeds], width=104)
        strip_downloads(images, [f"seed {s}" for s in seeds], "samples", slug(caption) + tag)
        with shown_errors("Sending to the report grid"):
            send_ui(caption, seeds)
        edit = None
        with st.expander("Latent directions (GANSpace)"), shown_errors("Latent directions"):
            edit = directions_ui(caption, seeds, psi)
        with st.expander("Latent files: save or load"), shown_errors("Latent files"):
            latents_ui(caption, seeds, psi, best_of, edit)

        st.subheader("Interpolate")
        seeds_tab, captions_tab = st.tabs(["Between two seeds", "Between two captions"])
        with seeds_tab, shown_errors("Seed interpolation"):
            seed_interpolation_ui(caption, psi)
        with captions_tab, shown_errors("Caption interpolation"):
            caption_interpolation_ui(caption, psi)
