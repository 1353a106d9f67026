"""Checkpoints: every run with its config summary, loss curves, sample grids and a snapshot compare."""

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import loaders
from dashboard.components import (check_captions, display_path, page_roots, parse_seeds, show_notes, shown_errors,
                                  snapshot_ui)
from dashboard.settings import WHERE_HINT
from gan_core import UserError
from gan_core.explore.runs import METRIC_COLUMNS, list_runs, read_metrics, sample_captions, summarize_run
from gan_core.sample.image_grid import compose_grid, to_png

MAX_COMPARE_CAPTIONS = 8
roots = page_roots()
st.title("Checkpoints")
st.caption(f"Runs under `{display_path(roots.checkpoints, roots.checkpoints)}`")


def loss_curves_ui(summaries) -> None:
    names = [s.name for s in summaries]
    left, mid, right, smooth_box = st.columns([2, 3, 1, 1.2])
    logged = [s.name for s in summaries if s.steps_done] or names
    chosen = left.multiselect("Runs", names, default=logged[:3], key="curve_runs")
    metrics = mid.multiselect("Metrics", list(METRIC_COLUMNS), default=["d_loss", "g_loss"], key="curve_metrics")
    x_axis = right.radio("x-axis", ["step", "epoch"], horizontal=True, key="curve_x")
    window = smooth_box.select_slider("Smoothing", [1, 5, 11, 25, 51, 101], value=1, key="curve_smooth",
                                      help="A centred moving average over this many logged points (1: raw).")
    if not chosen or not metrics:
        st.info("Choose at least one run and one metric.")
        return
    frames = []
    for name in chosen:
        table = read_metrics(roots.checkpoints / name)
        present = [m for m in metrics if m in table.columns]
        if len(table) and present:
            if window > 1:  # per run and metric, before the runs are joined
                table = table.assign(**{m: table[m].rolling(window, center=True, min_periods=1).mean() for m in present})
            long = table.melt(id_vars=[x_axis], value_vars=present, var_name="metric", value_name="value")
            frames.append(long.assign(run=name))
    if not frames:
        st.info("No logged metrics for these runs yet (metrics.csv appears after the first log_every steps).")
        return
    data = pd.concat(frames, ignore_index=True)
    flat = [m for m in metrics if m in set(data["metric"]) and not data.loc[data["metric"] == m, "value"].any()]
    if flat:
        st.caption(f"Always 0 in these runs, not drawn: {', '.join(flat)} (kl exists only in the dcgan model; "
                   f"runs trained before gp carried its latest value logged it as 0 between its lazy steps).")
        data = data[~data["metric"].isin(flat)]
        metrics = [m for m in metrics if m not in flat]
        if data.empty:
            return
    figure = px.line(data, x=x_axis, y="value", color="run", facet_col="metric", facet_col_wrap=2,
                     height=300 * ((len(metrics) + 1) // 2), template="plotly_white")
    figure.update_yaxes(matches=None, showticklabels=True, title=None)
    figure.update_xaxes(showticklabels=True)  # every facet, not only the bottom row
    figure.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
    st.plotly_chart(figure)


def sample_grids_ui(summaries) -> None:
    with_samples = [s for s in summaries if any(i.samples and i.problem is None for i in s.snapshots)]
    if not with_samples:
        st.info("No snapshot has a sample grid yet.")
        return
    epochs = sorted({i.epoch for s in with_samples for i in s.snapshots if i.samples and i.problem is None})
    epoch = epochs[0] if len(epochs) == 1 else st.select_slider(
        "Snapshot epoch (all runs)", epochs, value=epochs[-1], key="grid_epoch")
    # Two runs side by side; one run gets the full width so the grid's caption labels stay readable.
    columns = st.columns(2) if len(with_samples) > 1 else [st.container()]
    for k, summary in enumerate(with_samples):
        shown = [i for i in summary.snapshots if i.samples and i.problem is None and i.epoch <= epoch]
        column = columns[k % len(columns)]
        if not shown:
            column.caption(f"**{summary.name}**: no snapshot at or before epoch {epoch}")
            continue
        info = shown[-1]
        column.image(str(info.samples), caption=f"{summary.name} — epoch {info.epoch}", width="stretch")


def compare_ui() -> None:
    left, right = st.columns(2)
    with left:
        snap_a = snapshot_ui(roots.checkpoints, key="cmp_a", container=left, label="Snapshot A", run_key="cmp_run_a")
    with right:
        snap_b = snapshot_ui(roots.checkpoints, key="cmp_b", container=right, label="Snapshot B", run_key="cmp_run_b",
                             back=1)
    if not (snap_a and snap_b):
        return
    from pathlib import Path

    defaults = sample_captions(Path(snap_a).parents[1])[:4] or ["this flower has white petals and a yellow center"]
    captions_text = st.text_area("Captions (one per line)", "\n".join(defaults), key="cmp_captions", height=110)
    seeds_text = st.text_input("Seeds", "0-3", key="cmp_seeds")
    captions = [c.strip() for c in captions_text.splitlines() if c.strip()]
    if not captions:
        st.info("Type at least one caption.")
        return
    if len(captions) > MAX_COMPARE_CAPTIONS:
        st.warning(f"{len(captions)} captions given: the first {MAX_COMPARE_CAPTIONS} are shown.")
        captions = captions[:MAX_COMPARE_CAPTIONS]
    seeds = parse_seeds(seeds_text, limit=16)
    vocab = loaders.load_generator(snap_a).vocab
    show_notes(check_captions(vocab, captions, [f"Caption {k + 1}" for k in range(len(captions))]))
    for column, snapshot in zip(st.columns(2), (snap_a, snap_b)):  # below the inputs, not beside the pickers
        with column, shown_errors(f"Generating from {snapshot}"):
            grid = loaders.generate_grid(snapshot, tuple(captions), tuple(seeds))
            png = to_png(compose_grid(grid, captions, [f"seed {s}" for s in seeds], label_width=180))
            st.image(png, caption=f"{Path(snapshot).parents[1].name} / {Path(snapshot).name}", width="stretch")


summaries = []
with shown_errors("Listing runs"):
    try:
        runs = list_runs(roots.checkpoints)
    except UserError as exc:
        raise UserError(f"{exc}. To read runs from another folder, {WHERE_HINT}.") from None
    if not runs:
        st.info(f"No runs under `{roots.checkpoints}` yet. The shipped checkpoint goes to `checkpoints/default`; "
                f"train one with `python scripts/train.py --run-dir {roots.checkpoints}/NAME`, or point the app "
                f"elsewhere with GAN_CHECKPOINTS or `-- --checkpoints DIR`.")
    summaries = [summarize_run(r) for r in runs]
    if runs and "default" not in [r.name for r in runs]:
        st.info(f"The shipped checkpoint `{roots.checkpoints / 'default'}` is not there (yet).")

if summaries:
    st.dataframe(pd.DataFrame([s.row() for s in summaries]), hide_index=True)
    for summary in summaries:
        for problem in summary.problems:
            st.warning(f"Run `{summary.name}`: {problem}")
    st.subheader("Loss curves")
    with shown_errors("Loss curves"):
        loss_curves_ui(summaries)
    st.subheader("Sample grids")
    with shown_errors("Sample grids"):
        sample_grids_ui(summaries)
    st.subheader("Compare two snapshots")
    st.caption("Same captions and seeds through two snapshots (of one run or of two runs).")
    with shown_errors("Compare"):
        compare_ui()
