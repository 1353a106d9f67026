"""Projector: can the model draw this flower? Project a test image (or an upload) for a caption, and
read the cached per-class coverage report of a snapshot (scripts/project.py --coverage)."""

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import projector_data as data
from dashboard.components import display_path, page_roots, shown_errors, snapshot_ui
from gan_core import UserError

STATE = "projector"  # st.session_state[STATE]: the last projection, a plain dict
WORST = 5  # worst-covered classes shown with their real images

roots = page_roots()
st.title("Projector")
snapshot = snapshot_ui(roots.checkpoints)
if snapshot is None:
    st.info("Choose a usable snapshot in the sidebar to project images.")
    st.stop()
st.caption(f"Snapshot `{display_path(snapshot, roots.checkpoints)}`. The projector moves only the noise z "
           f"(Adam, pixel loss at 64 and 16 px plus D's or the evaluator's features); no weight changes.")


def target_ui():
    """-> (target uint8 [64, 64, 3], default caption, label) or None."""
    source = st.radio("Target", ["Test image", "Upload an image"], horizontal=True, key="proj_source")
    if source == "Upload an image":
        upload = st.file_uploader("Image, 64 px or larger (resized to 64x64)", type=["png", "jpg", "jpeg"],
                                  key="proj_upload")
        if upload is None:
            return None
        return data.read_upload(upload.getvalue()), "", upload.name
    try:
        table = data.test_table(str(roots.data))
    except UserError as exc:
        st.info(f"Test images need the prepared data set. {exc}")
        return None
    ids = table["test_id"].tolist()
    texts = dict(zip(table["test_id"], table["caption"]))
    chosen = st.selectbox("Test image", ids, key="proj_test_id", format_func=lambda i: f"{i} — {texts[i]}")
    row = int(table.loc[table["test_id"] == chosen, "row"].iloc[0])
    return data.real_images(str(roots.data), [row])[0], texts[chosen], f"test image {chosen}"


def project_tab() -> None:
    picked = target_ui()
    if picked is None:
        return
    target, default_caption, label = picked
    left, right = st.columns([1, 3])
    left.image(target, caption=label, width=128)
    if st.session_state.get("proj_caption_for") != label:  # a new target brings its own caption
        st.session_state["proj_caption_for"] = label
        st.session_state["proj_caption"] = default_caption or "this flower has white petals and a yellow center"
    caption = right.text_input("Caption", key="proj_caption")
    steps_col, seed_col = right.columns(2)
    steps = steps_col.slider("Steps", 10, 500, 200, 10, key="proj_steps", help="Adam steps; 200 takes ~10-20 s here")
    seed = seed_col.number_input("Start seed", 0, 2**31 - 1, 0, key="proj_seed")
    if right.button("Project", key="proj_run", type="primary"):
        bar = st.progress(0.0, "Projecting…")
        st.session_state[STATE] = data.project_one(
            snapshot, str(roots.flowers_evaluator), caption, target, steps, int(seed),
            progress=lambda done, total: bar.progress(done / total, f"Step {done} of {total}"))
        bar.empty()
    result = st.session_state.get(STATE)
    if not result or result["snapshot"] != snapshot:
        st.caption("Press Project to run it.")
        return
    show_projection(result)


def show_projection(result: dict) -> None:
    st.subheader("Result")
    a, b, c, d = st.columns([1, 1, 2.2, 2.8])
    a.image(result["target"], caption="target", width=110)
    b.image(result["image"], caption="projection", width=110)
    c.image(result["gif"], caption="target | projection while optimising", width=240)
    d.line_chart(pd.DataFrame({"loss": result["losses"]}), x_label="step", y_label="loss", height=220)
    st.caption(f"“{result['caption']}”: loss {result['losses'][0]:.3f} → {result['losses'][-1]:.3f} in "
               f"{result['steps']} steps ({result['feature_net']} features, start seed {result['seed']}).")
    left, right, _ = st.columns([1, 1, 3])
    left.download_button("Save latent", data.latent_json(result["z"], result["caption"], 1.0, result["snapshot"],
                                                         "projector"),
                         file_name="projection_latent.json", mime="application/json", key="proj_latent",
                         help="JSON: z, caption, psi, snapshot digest. Load it on Generate & interpolate, or "
                              "render it with scripts/generate.py --latents")
    right.download_button("Download GIF", result["gif"], file_name="projection.gif", mime="image/gif",
                          key="proj_gif")


def setting(result: dict) -> str:
    net = result["summary"].get("feature_net", result["config"]["feature_net"])  # what "auto" turned out to be
    return (f"{result['per_class']} per class, {result['config']['steps']} steps, "
            + ("pixel loss only" if net == "none" else f"pixels + {net} features"))


def compare_ui(result: dict) -> None:
    """Every snapshot of the same run with a report of the same settings: reachable share by epoch."""
    from gan_core.sample.snapshot import list_snapshots

    rows = []
    for other in list_snapshots(Path(snapshot).parents[1]):
        for found in data.coverage_results(str(other)):
            if setting(found) == setting(result) and found["config"]["seed"] == result["config"]["seed"]:
                rows.append({"epoch": found["epoch"], "reachable": found["summary"]["reachable"],
                             "classes reached": found["summary"]["classes_reached"],
                             "median feature distance": found["summary"]["median_feature_distance"]})
    if len(rows) > 1:
        st.caption("The same report on the run's other snapshots")
        st.dataframe(pd.DataFrame(rows).sort_values("epoch"), hide_index=True)


def coverage_tab() -> None:
    results = data.coverage_results(snapshot)
    if not results:
        st.info("No coverage report for this snapshot yet. Make one (about 10 minutes on 2 cores) with:\n\n"
                f"    python scripts/project.py --checkpoint {snapshot} --data {roots.data} --coverage "
                f"--out coverage_report/")
        return
    labels = [setting(r) for r in results]
    index = st.selectbox("Report", range(len(results)), format_func=lambda i: labels[i], key="cov_report")
    result = results[index]
    summary = result["summary"]
    base = {k: "n/a" if v is None else f"{v:.3f}" for k, v in summary["baseline"].items()}
    cols = st.columns(4)
    cols[0].metric("Reachable", f"{summary['reachable']:.1%}", help="projections in their real image's class")
    cols[1].metric("Classes reached", f"{summary['classes_reached']} / {summary['classes']}")
    cols[2].metric("Median feature distance", f"{summary['median_feature_distance']:.3f}",
                   help=f"cosine, evaluator features; median of two real images of one class: {base['same_class']}, "
                        f"of two classes: {base['other_class']}")
    cols[3].metric("Projected images", summary["images"])
    if summary.get("feature_net", result["config"]["feature_net"]) == "evaluator":
        st.warning("This report's projections optimised the evaluator's own features (the snapshot holds no D), "
                   "so its class matches are inflated; compare snapshots on a pixel-only report.")
    compare_ui(result)
    classes = pd.DataFrame(result["classes"])
    st.bar_chart(classes.set_index("class_id")["reachable"], x_label="flower class", y_label="reachable share",
                 height=260)
    st.subheader(f"The {WORST} worst-covered classes")
    images = pd.DataFrame(result["images"])
    for cls in classes["class_id"].head(WORST):
        rows = images[images["class_id"] == cls]
        st.image(list(data.real_images(str(roots.data), rows["row"])), width=96,
                 caption=[f"class {cls}, test {t}: {d:.2f}" for t, d in zip(rows["test_id"], rows["feature_distance"])])
    with st.expander("Per-image table"):
        st.dataframe(images, hide_index=True)


project, coverage = st.tabs(["Project an image", "Coverage"])
with project, shown_errors("The projector"):
    project_tab()
with coverage, shown_errors("The coverage report"):
    coverage_tab()
