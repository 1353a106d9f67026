"""Mode collapse: per-snapshot diversity within and across captions, distinct predicted classes and
IS; seeds that fail under every caption; one caption over seeds x snapshots; the nearest real
training image of each generated image."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
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
from gan_core.eval.diversity import NOISE_Z, collapse_flags, measure_snapshot, read_cached, still_forming
from gan_core.eval.seed_failures import FAIL_ALPHA, PROBE_CAPTIONS
from gan_core.explore.runs import sample_captions, summarize_run
from gan_core.sample.image_grid import compose_grid, to_png

FALLBACK_CAPTIONS = ["this flower has white petals and a yellow center", "a flower with bright red petals",
                     "this flower is purple with pointed petals", "the petals are pink and rounded"]
COLUMNS = {"pixel_within": "pixel diversity within captions", "pixel_across": "pixel diversity across captions",
           "feature_within": "feature diversity within captions", "feature_across": "feature diversity across captions",
           "distinct_classes": "distinct predicted classes", "inception_score": "IS (these images)"}
MAX_GRID_SNAPSHOTS = 10
MAX_FAILING_SEEDS = 16  # Inception on 60 captions x 16 seeds: about 2 minutes on the 2-core CPU
FAILING_SHOWN = 8  # probe captions shown per seed under the chart

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
    threshold = right.slider("…and a fall of at least", 0.0, 0.9, 0.1, 0.05, key="mc_threshold",
                             format="%.2f", help=f"The alarm needs a fall beyond {NOISE_Z:g} times the seed-to-seed noise of the "
                                                 "measure (bootstrap over the seeds) and at least this fraction of "
                                                 "the previous snapshot's value.")
    captions = [line.strip() for line in text.splitlines() if line.strip()][:16]
    if len(captions) < 2 or len(seeds) < 2:
        raise UserError("give at least two captions and two seeds (diversity compares images)")
    if snapshot is not None:
        vocab = loaders.load_generator(snapshot).vocab
        show_notes(check_captions(vocab, captions, [f"Caption {k + 1}" for k in range(len(captions))]))
    return captions, seeds, threshold


def references(captions, seeds, evaluator) -> dict:
    """{"real": ..., "collapse": ...} measured like a snapshot, or {} without the data set."""
    try:
        loaders.load_dataset(str(roots.data))
    except UserError as exc:
        st.info(f"No real-data reference: {exc}")
        return {}
    path = str(roots.flowers_evaluator) if evaluator is not None else None
    return loaders.reference_diversity(str(roots.data), tuple(captions), len(seeds), path)


def quality_of(info) -> dict:
    try:
        return loaders.snapshot_quality(str(info.path), str(roots.data))
    except (UserError, ImportError, OSError, ValueError):
        return {}


def with_noise(value, sd) -> str:
    if value is None or value != value:
        return "—"
    return f"{value:.4g} ± {sd:.2g}" if sd is not None and sd == sd else f"{value:.4g}"


def alarm_verdict(table, flags, skipped) -> None:
    """One red line per flagged snapshot, or one green line saying nothing exceeded the noise."""
    for k, fallen in enumerate(flags):
        if fallen:
            before = table.iloc[:k][[not s for s in skipped[:k]]]
            parts = [f"{COLUMNS[m]} {before[m].dropna().iloc[-1]:.4g} → {table[m].iloc[k]:.4g}" for m in fallen]
            st.error(f"⚠ Diversity falls beyond the seed-to-seed noise at epoch {int(table['epoch'].iloc[k])}: "
                     + "; ".join(parts))
    left_out = [int(e) for e, s in zip(table["epoch"], skipped) if s]
    note = (f" Left out (flowers FID more than twice the run's best: the images are still forming): epoch "
            f"{', '.join(map(str, left_out))}." if left_out else "")
    if not any(flags):
        st.success(f"No diversity measure falls beyond its seed-to-seed noise ({NOISE_Z:g} standard deviations of "
                   f"the difference, bootstrap over the seeds)." + note)
    elif note:
        st.caption(note.strip())


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
            quality = quality_of(info)
            records.append({"epoch": info.epoch, "fid_flowers": quality.get("fid_flowers"),
                            "score": quality.get("score"), **result})
    if not records:
        st.info("No snapshot measured yet for these captions and seeds: press the button above.")
        return
    table = pd.DataFrame(records)
    skipped = still_forming(list(table["fid_flowers"]))
    flags = collapse_flags(records, threshold, z=NOISE_Z, skip=skipped)
    alarm_verdict(table, flags, skipped)
    refs = references(captions, seeds, evaluator)
    present = [c for c in COLUMNS if table[c].notna().any()]
    shown = pd.DataFrame({"snapshot": [f"epoch {e}" for e in table["epoch"]],
                          "epoch": table["epoch"],
                          "flowers FID": table["fid_flowers"],
                          "state": ["still forming" if s else ("falls: " + ", ".join(COLUMNS[m] for m in f) if f else "")
                                    for s, f in zip(skipped, flags)]})
    for c in present:
        shown[COLUMNS[c]] = table[c]
        shown[f"± {c.replace('_', ' ')}"] = table.get(f"{c}_sd")
    for label, ref in (("real images, same classes", refs.get("real")), ("collapse: one image repeated",
                                                                         refs.get("collapse"))):
        if ref:
            row = {"snapshot": label, "state": "reference", "flowers FID": float("nan")}
            for c in present:
                row[COLUMNS[c]], row[f"± {c.replace('_', ' ')}"] = ref.get(c), ref.get(f"{c}_sd")
            shown = pd.concat([shown, pd.DataFrame([row])], ignore_index=True)
    shown["flowers FID"] = pd.to_numeric(shown["flowers FID"], errors="coerce")  # references: "—", not None
    st.dataframe(shown.style.format(precision=4, na_rep="—"), hide_index=True,
                 column_config={"epoch": None})  # the snapshot column names it (and the references)
    if refs.get("real"):
        st.caption("References, measured like a snapshot with the same captions and as many images: real training "
                   "images of each caption's flower class (the class of its own image, or of the most similar "
                   "training caption), and one image repeated (what total collapse gives). ± is the seed-to-seed "
                   "noise: the standard deviation over 200 resamples of the seeds.")
    diversity_figure(table, present, refs, skipped)


def diversity_figure(table, present, refs, skipped) -> None:
    """One panel per measure with its noise as error bars and both references as lines, and the
    snapshots' flowers FID beside them: a fall with a bad FID is "still noise", not collapse."""
    from plotly.subplots import make_subplots

    panels = present + (["fid_flowers"] if table["fid_flowers"].notna().any() else [])
    if len(table) < 2 or not panels:
        return
    names = {**COLUMNS, "fid_flowers": "quality: flowers FID (lower is better)"}
    rows = (len(panels) + 2) // 3
    figure = make_subplots(rows=rows, cols=3, subplot_titles=[names[p] for p in panels],
                           horizontal_spacing=0.07, vertical_spacing=0.16)
    epochs = list(table["epoch"])
    for k, metric in enumerate(panels):
        row, col = k // 3 + 1, k % 3 + 1
        sd = table.get(f"{metric}_sd")
        figure.add_trace(go.Scatter(x=epochs, y=table[metric], mode="lines+markers", name=names[metric],
                                    showlegend=False, line_color="#1f77b4",
                                    error_y={"array": list(2 * sd.fillna(0))} if sd is not None else None,
                                    marker_symbol=["x" if s else "circle" for s in skipped]), row=row, col=col)
        for label, colour in (("real", "#2ca02c"), ("collapse", "#d62728")):
            value = refs.get(label, {}).get(metric) if metric != "fid_flowers" else None
            if value is not None:
                figure.add_trace(go.Scatter(x=[epochs[0], epochs[-1]], y=[value, value], mode="lines",
                                            line={"color": colour, "dash": "dash"}, name=label,
                                            showlegend=k == 0), row=row, col=col)
    figure.update_xaxes(showticklabels=True, title_text="epoch", title_standoff=2)
    figure.update_layout(height=250 * rows + 40, template="plotly_white", margin={"t": 40, "b": 30},
                         legend={"orientation": "h", "y": -0.12 / rows})
    st.plotly_chart(figure)
    st.caption("Error bars: ±2 seed-to-seed standard deviations. Dashed lines: real images of the same classes "
               "(green) and one image repeated (red). ✕: still forming (left out of the alarm).")


def seed_check_ui(captions, seeds, threshold) -> None:
    """The alarm on the chosen snapshot against itself with other seeds (must stay quiet) and
    against one of its images repeated (must fire): what its verdicts are worth."""
    if snapshot is None:
        st.info("Choose a usable snapshot in the sidebar.")
        return
    other = [s + 1000 for s in seeds]
    st.caption(f"The alarm compares the sidebar's snapshot with itself at seeds {other[0]}-{other[-1]} (a change "
               f"of seeds only: it must stay quiet) and with one of its images repeated (a collapse: it must fire).")
    if not st.button("Check the alarm on this snapshot", key="mc_check"):
        return
    evaluator = evaluator_or_none()
    first = loaders.measure_diversity(snapshot, tuple(captions), tuple(seeds), evaluator)
    second = loaders.measure_diversity(snapshot, tuple(captions), tuple(other), evaluator)
    image = loaders.generate_pairs(snapshot, (captions[0],), (seeds[0],))
    collapsed = measure_snapshot(np.broadcast_to(image[None], (len(captions), len(seeds), *image.shape[1:])).copy(),
                                 evaluator.predict if evaluator is not None else None)
    noise = collapse_flags([first, second], threshold, z=NOISE_Z)[1]
    collapse = collapse_flags([first, collapsed], threshold, z=NOISE_Z)[1]
    if noise:
        st.error("Other seeds of the same snapshot: the alarm fires on " + ", ".join(COLUMNS[m] for m in noise))
    else:
        st.success("Other seeds of the same snapshot: no alarm (the change is within the seed-to-seed noise).")
    verdict = st.success if collapse else st.error
    verdict(f"One image repeated: the alarm {'fires on ' + ', '.join(COLUMNS[m] for m in collapse) if collapse else 'stays quiet'}.")
    rows = [{"sample": f"seeds {seeds[0]}-{seeds[-1]}", **first}, {"sample": f"seeds {other[0]}-{other[-1]}", **second},
            {"sample": "one image repeated", **collapsed}]
    columns = ["sample", *[c for c in COLUMNS if first.get(c) is not None]]
    st.dataframe(pd.DataFrame(rows)[columns].rename(columns=COLUMNS).style.format(precision=4, na_rep="—"),
                 hide_index=True, key="mc_check_table")


def failing_seeds_ui(seeds) -> None:
    """Per-seed precision of the sidebar's snapshot over the probe test captions, the seeds that fail
    under every caption, and their images above the best seed's."""
    if snapshot is None:
        st.info("Choose a usable snapshot in the sidebar.")
        return
    loaders.load_dataset(str(roots.data))  # the prepare hint, before any button
    if len(seeds) > MAX_FAILING_SEEDS:
        st.caption(f"The first {MAX_FAILING_SEEDS} of the {len(seeds)} seeds (Inception time grows with each seed).")
    seeds = tuple(seeds[:MAX_FAILING_SEEDS])
    st.caption(f"Each seed's precision: the share of its images, one per test caption ({PROBE_CAPTIONS} captions), "
               "inside the real images' manifold (FID Inception features against the 3000-image training "
               "reference), beside the real test images of the same captions, measured the same way. A seed "
               f"fails when it lies below what random seed labels give: the {FAIL_ALPHA:.0%} point of the "
               "lowest seed when each caption's images are shuffled between the seeds.")
    key = (snapshot, seeds)
    if st.session_state.get("mc_failing_for") != key:
        label = f"Find failing seeds among {', '.join(map(str, seeds))}"
        if not st.button(label, key="mc_failing", help="Inception on the probe captions x seeds: about a minute for "
                                                         "8 seeds; the first run also measures the reference set."):
            return
        st.session_state["mc_failing_for"] = key
        st.rerun()  # measure in a run without the button, so that it does not linger beside the result
    with st.spinner("Generating the probe captions and measuring them…"):
        result = loaders.failing_seeds(snapshot, str(roots.data), seeds)
    verdict, grid, captions, real = result["verdict"], result["grid"], result["captions"], result["real"]
    levels = f"all images {verdict.pooled:.3f}; real test images of the same captions {real:.3f}"
    failed = [seeds[i] for i in verdict.failed]
    if failed:
        st.error("Failing under every caption: " + ", ".join(
            f"seed {seeds[i]} ({verdict.precision[i]:.2f})" for i in verdict.failed)
            + f"; below {verdict.threshold:.3f}, where {levels}.")
    else:
        st.success(f"No seed fails under every caption: each is at or above {verdict.threshold:.3f} ({levels}).")
    labels = [f"seed {s}" for s in seeds]
    figure = go.Figure(go.Bar(x=labels, y=verdict.precision, name="seed precision",
                              marker_color=["#d62728" if s in failed else "#1f77b4" for s in seeds]))
    # The three levels as legend entries, not annotations: a label on a line sits on the bars.
    for name, level, colour, dash in ((f"real test images {real:.3f}", real, "#2ca02c", "dot"),
                                      (f"all images {verdict.pooled:.3f}", verdict.pooled, "#7f7f7f", "dot"),
                                      (f"fails below {verdict.threshold:.3f}", verdict.threshold, "#d62728", "dash")):
        figure.add_trace(go.Scatter(x=labels, y=[level] * len(labels), mode="lines", name=name,
                                    line={"color": colour, "dash": dash}, hoverinfo="name"))
    figure.update_layout(height=300, template="plotly_white", margin={"t": 40, "b": 30}, yaxis_range=[0, 1],
                         yaxis_title="precision (share inside the real manifold)",
                         legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0})
    st.plotly_chart(figure, key="mc_failing_chart")
    st.dataframe(pd.DataFrame({"seed": seeds, "precision": verdict.precision,
                               "images inside": (verdict.precision * len(captions)).round().astype(int),
                               "fails": [s in failed for s in seeds]}),
                 hide_index=True, key="mc_failing_table")
    best = int(np.argmax(verdict.precision))
    rows = [*verdict.failed, best] if best not in verdict.failed else list(verdict.failed)
    shown = min(FAILING_SHOWN, len(captions))
    png = to_png(compose_grid(np.stack([grid[:shown, i] for i in rows]),
                              [f"seed {seeds[i]}" + (" (best)" if i == best else " (fails)") for i in rows],
                              [c if len(c) <= 48 else c[:47] + "…" for c in captions[:shown]], label_width=90))
    st.image(png, caption=f"The first {shown} probe captions: " + ("the failing seeds above the best seed."
                                                                  if failed else "the best seed."))


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
    left, right = st.columns([2, 1])
    caption = left.selectbox("Caption", captions, key="mc_nn_caption")
    spaces = ["flowers features", "pixels"]
    space = right.radio("Compare in", spaces, key="mc_nn_space", horizontal=True,
                        help="Flowers features: the evaluator's penultimate layer (matches flowers); pixels: RMS "
                             "difference at 64x64 (matches backgrounds and colours).")
    if space == "flowers features":
        try:
            loaders.load_evaluator(str(roots.flowers_evaluator))
        except UserError as exc:
            st.info(f"Pixels only: {exc}")
            space = "pixels"
    shown_seeds = tuple(seeds[:16])
    if space == "flowers features":
        generated, nearest, distance, baseline = loaders.nearest_training_features(
            snapshot, str(roots.data), caption, shown_seeds, str(roots.flowers_evaluator))
        unit = "distance in the flowers evaluator's features"
    else:
        generated, nearest, distance = loaders.nearest_training_images(snapshot, str(roots.data), caption, shown_seeds)
        baseline = loaders.pixel_test_baseline(str(roots.data))
        unit = "RMS pixel difference in [0, 1]"
    png = to_png(compose_grid(np.stack([generated, nearest]), ["generated", "nearest real"],
                              [f"d={d:.3g}" for d in distance], label_width=110))
    st.image(png, caption=f"Top: generated (seeds {', '.join(map(str, shown_seeds))}); bottom: the nearest training "
                          f"image in {space}. d = {unit}.")
    closer = int((np.asarray(distance) < baseline["p05"]).sum())
    st.caption(f"Real baseline: a real test image lies at {baseline['median']:.3g} from its nearest training image "
               f"(median; 5-95 %: {baseline['p05']:.3g}-{baseline['p95']:.3g}, {baseline['count']} test images). "
               f"Far below that would be a copy; {closer} of {len(distance)} generated image(s) are closer than the "
               f"5th percentile.")


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
    st.subheader("What the alarm is worth")
    with shown_errors("Seed-to-seed check"):
        seed_check_ui(captions, seeds, threshold)
    st.subheader("Seeds that fail under every caption")
    with shown_errors("Failing seeds"):
        failing_seeds_ui(seeds)
    st.subheader("One caption: seeds x snapshots")
    with shown_errors("Seeds x snapshots grid"):
        caption_grid_ui(infos, captions, seeds)
    st.subheader("Memorisation check: nearest training images")
    with shown_errors("Memorisation check"):
        loaders.load_dataset(str(roots.data))
        memorisation_ui(captions, seeds)
