"""Mode collapse: per-snapshot diversity within and across captions, distinct predicted classes and
IS; one caption over seeds x snapshots; the nearest real training image of each generated image."""

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import loaders
from dashboard.components import (
    check_captions,
    current_run,
    page_roots,
    parse_seeds,
    show_notes,
    shown_errors,
    snapshot_ui,
)
from gan_core import UserError
from gan_core.eval.diversity import collapse_flags, read_cached
from gan_core.explore.runs import sample_captions, summarize_run
from gan_core.sample.image_grid import compose_grid, to_png

FALLBACK_CAPTIONS = ["this flower has white petals and a yellow center", "a flower with bright red petals",
                     "this flower is purple with pointed petals", "the petals are pink and rounded"]
COLUMNS = {"pixel_within": "pixel diversity within captions", "pixel_across": "pixel diversity across captions",
           "feature_within": "feature diversity within captions", "feature_across": "feature diversity across captions",
           "distinct_classes": "distinct predicted classes", "inception_score": "IS (these images)"}
MAX_GRID_SNAPSHOTS = 10

roots = page_roots()
st.title("Mode collapse")
st.caption("Diversity = mean pairwise distance: pixels as RMS difference in [0, 1], features in the flowers "
           "evaluator's feature space. Within captions: across seeds of one caption; across captions: across "
           "captions at one seed.")
snapshot = snapshot_ui(roots.checkpoints)
run = current_run(roots.checkpoints)


def evaluator_or_none():
    try:
        return loaders.load_evaluator(str(roots.flowers_evaluator))
    except UserError as exc:
        st.info(f"Pixel diversity only (feature diversity, classes and IS need the flowers evaluator): {exc}")
        return None


def controls_ui(run) -> tuple[list[str], list[int], float]:
    defaults = sample_captions(run)[:4] or FALLBACK_CAPTIONS
    left, right = st.columns([3, 1])
    text = left.text_area("Captions (one per line)", "\n".join(defaults), key="mc_captions", height=120)
    seeds = parse_seeds(right.text_input("Seeds", "0-7", key="mc_seeds"), limit=32)
    threshold = right.slider("Flag a drop of more than", 0.1, 0.9, 0.3, 0.05, key="mc_threshold",
                             format="%.2f", help="fraction below the previous snapshot's diversity")
    captions = [line.strip() for line in text.splitlines() if line.strip()][:16]
    if len(captions) < 2 or len(seeds) < 2:
        raise UserError("give at least two captions and two seeds (diversity compares images)")
    if snapshot is not None:
        vocab = loaders.load_generator(snapshot).vocab
        show_notes(check_captions(vocab, captions, [f"Caption {k + 1}" for k in range(len(captions))]))
    return captions, seeds, threshold


def diversity_ui(infos, captions, seeds, threshold) -> None:
    evaluator = evaluator_or_none()
    name = getattr(evaluator, "identity", None) if evaluator is not None else None
    missing = [i for i in infos if read_cached(i.path, captions, seeds, name) is None]
    if missing and st.button(f"Measure {len(missing)} snapshot(s)", key="mc_measure", type="primary"):
        bar = st.progress(0.0, "Measuring…")
        try:
            for k, info in enumerate(missing):
                bar.progress(k / len(missing), f"epoch {info.epoch} ({k + 1}/{len(missing)})")
                loaders.measure_diversity(str(info.path), tuple(captions), tuple(seeds), evaluator)
        finally:
            bar.empty()  # also after an error: no progress bar left stuck half-way
        st.rerun()  # redraw without the button, now that everything is measured
    records = []
    for info in infos:
        result = read_cached(info.path, captions, seeds, name)
        if result is not None:
            records.append({"epoch": info.epoch, **result})
    if not records:
        st.info("No snapshot measured yet for these captions and seeds: press the button above.")
        return
    table = pd.DataFrame(records)
    flags = collapse_flags(records, threshold)
    table["sharp drop"] = [", ".join(COLUMNS[m] for m in f) for f in flags]
    for k, fallen in enumerate(flags):
        if fallen:
            before = table.iloc[:k]
            parts = [f"{COLUMNS[m]} {before[m].dropna().iloc[-1]:.4g} → {table[m].iloc[k]:.4g}" for m in fallen]
            st.error(f"⚠ Diversity falls sharply at epoch {int(table['epoch'].iloc[k])}: " + "; ".join(parts))
    order = ["epoch", "sharp drop", *[c for c in COLUMNS if c in table.columns]]
    shown = table[order + [c for c in table.columns if c not in order]].rename(columns=COLUMNS)
    st.dataframe(shown.style.format(precision=4, na_rep="—"), hide_index=True)
    present = [c for c in COLUMNS if table[c].notna().any()]
    if len(table) > 1:
        long = table.melt(id_vars=["epoch"], value_vars=present, var_name="metric").dropna()
        long["metric"] = long["metric"].map(COLUMNS)
        figure = px.line(long, x="epoch", y="value", facet_col="metric", facet_col_wrap=3, markers=True,
                         height=260 * ((len(present) + 2) // 3), template="plotly_white")
        figure.update_yaxes(matches=None, showticklabels=True, title=None)
        figure.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
        st.plotly_chart(figure)


def caption_grid_ui(infos, captions, seeds) -> None:
    caption = st.selectbox("Caption", captions, key="mc_grid_caption")
    picked = infos if len(infos) <= MAX_GRID_SNAPSHOTS else [
        infos[i] for i in np.unique(np.linspace(0, len(infos) - 1, MAX_GRID_SNAPSHOTS).round().astype(int))]
    grid = loaders.caption_over_snapshots(tuple(str(i.path) for i in picked), caption, tuple(seeds))
    png = to_png(compose_grid(grid, [f"epoch {i.epoch}" for i in picked], [f"seed {s}" for s in seeds],
                              label_width=80))
    st.image(png, caption=f"“{caption}”: rows are snapshots, columns seeds")


def memorisation_ui(captions, seeds) -> None:
    if snapshot is None:
        st.info("Choose a usable snapshot in the sidebar.")
        return
    caption = st.selectbox("Caption", captions, key="mc_nn_caption")
    generated, nearest, distance = loaders.nearest_training_images(snapshot, str(roots.data), caption, tuple(seeds))
    grid = np.stack([generated, nearest])
    png = to_png(compose_grid(grid, ["generated", "nearest real"], [f"d={d:.3f}" for d in distance], label_width=110))
    st.image(png, caption=f"Top: generated (seeds {', '.join(map(str, seeds))}); bottom: the nearest training image "
                          f"in pixels. d = RMS pixel difference; near 0 would mean a copied image.")


if run is None:
    st.info("Choose a run in the sidebar.")
    st.stop()

with shown_errors("Mode collapse"):
    infos = [i for i in summarize_run(run).snapshots if i.problem is None]
    if not infos:
        raise UserError(f"run `{run.name}` has no usable snapshot yet")
    captions, seeds, threshold = controls_ui(run)
    st.subheader(f"Diversity over the snapshots of `{run.name}`")
    with shown_errors("Diversity"):
        diversity_ui(infos, captions, seeds, threshold)
    st.subheader("One caption: seeds x snapshots")
    with shown_errors("Seeds x snapshots grid"):
        caption_grid_ui(infos, captions, seeds)
    st.subheader("Memorisation check")
    with shown_errors("Memorisation check"):
        loaders.load_dataset(str(roots.data))
        memorisation_ui(captions, seeds)
