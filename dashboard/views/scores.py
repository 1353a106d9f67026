"""Scores: evaluate a snapshot (cached next to it) or a folder of inference images; every scored
snapshot of a run in a table and each metric over training."""

import json
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard import loaders
from dashboard.components import (best_of_ui, current_run, display_path, page_roots, shown_errors, snapshot_ui,
                                  truncation_ui)
from dashboard.settings import REPO
from gan_core import UserError
from gan_core.explore.runs import inside_root, summarize_run

KEY_METRICS = ("score", "inception_score", "fid_flowers", "class_top1", "caption_cosine", "r_precision")
REALISM_METRICS = ("fid_inception", "kid_inception", "precision", "recall", "saturated_white", "saturated_black")
HIDDEN = ("notes", "snapshot", "evaluator_identity", "alignment_identity", "cached", "seconds_predict",
          "r_precision_candidates", "seed", "truncation", "best_of", "inception_reference", "n_reference")
LABELS = {"score": "score (lower is better)", "cosine": "cosine term", "inception_term": "0.5/IS",
          "inception_score": "IS", "inception_score_10": "IS (10 splits)", "inception_score_10_std": "IS (10) std",
          "fid_flowers": "FID (flowers features)", "class_top1": "class top-1", "class_top5": "class top-5",
          "caption_cosine": "caption cosine", "r_precision": "R-precision", "n_images": "images",
          "fid_inception": "Inception-FID", "kid_inception": "KID", "kid_inception_std": "KID std",
          "precision": "precision", "recall": "recall", "saturated_white": "sat. white", "saturated_black": "sat. black"}

roots = page_roots()
st.title("Scores")
st.caption("Competition score (lower is better), IS, FID and class agreement from the flowers evaluator; "
           "caption metrics from the alignment model; realism (Inception-FID, KID, precision, recall, "
           "saturated pixels) in the standard FID Inception features against 3000 training images. "
           "Results are cached next to each snapshot.")


def evaluation_module():
    try:
        from gan_core.eval import evaluate as evaluation
    except ImportError as exc:
        raise UserError(f"scoring is not available in this checkout (gan_core.eval.evaluate: {exc})") from None
    return evaluation


def models():
    """(flowers evaluator, alignment model or None); a UserError when the evaluator is missing."""
    evaluator = loaders.load_evaluator(str(roots.flowers_evaluator))
    try:
        alignment = loaders.load_alignment(str(roots.alignment))
    except UserError as exc:
        st.info(f"Caption metrics will be skipped: {exc}")
        alignment = None
    return evaluator, alignment


def show_result(result: dict) -> None:
    numbers = {k for k in result if isinstance(result.get(k), (int, float)) and not isinstance(result[k], bool)}
    rows = [list(KEY_METRICS), list(REALISM_METRICS)]
    if not numbers & set(REALISM_METRICS[:4]):  # no realism numbers: saturation joins the first row, not a half row
        rows = [list(KEY_METRICS) + list(REALISM_METRICS[4:])]
    for keys in rows:
        present = [k for k in keys if k in numbers]
        for column, key in zip(st.columns(max(len(present), 1)), present):
            value = f"{result[key]:.2%}" if key.startswith("saturated") else f"{result[key]:.4g}"
            column.metric(LABELS.get(key, key.replace("_", " ")), value)
    for note in result.get("notes", []):
        st.warning(f"Note: {note}")
    with st.expander("All numbers"):
        st.json({k: v for k, v in result.items() if k not in ("notes",)})


def score_snapshot_ui(snapshot: str) -> None:
    evaluation = evaluation_module()
    psi_box, best_box, _ = st.columns([1, 1, 2])
    truncation = truncation_ui("score_psi", psi_box)
    best_of = best_of_ui("score_best_of", loaders.load_generator(snapshot).can_rank, best_box)
    left, right, _ = st.columns([1, 2.2, 1.4])
    score = left.button("Score this snapshot", key="score_snapshot", type="primary")
    realism = right.button("Score with realism (Inception: ~1.5 min idle; the first run ~5 min more)", key="realism_snapshot",
                           help="Adds Inception-FID, KID, precision/recall and saturated pixels. The first run also "
                                "computes the Inception features of the 3000-image reference set (about 5 minutes on an "
                                "idle 2-core machine, three times that beside training), cached for every later run.")
    if not (score or realism):
        return
    loaders.load_dataset(str(roots.data))
    evaluator, alignment = models()
    extractor = loaders.load_inception() if realism else None
    bar = st.progress(0.0, "Starting…")
    result = evaluation.evaluate_checkpoint(snapshot, str(roots.data), "flowers",
                                            progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), m),
                                            evaluator=evaluator, alignment=alignment, inception=realism,
                                            extractor=extractor, truncation=truncation, best_of=best_of)
    bar.empty()
    st.success("Loaded from the cache next to the snapshot." if result.get("cached") else "Scored and cached.")
    show_result(result)


def score_folder_ui() -> None:
    evaluation = evaluation_module()
    text = st.text_input("Folder of inference images (inside the repository or the checkpoints folder)", "",
                         key="score_folder", placeholder="inference",
                         help="Relative to the repository (e.g. `inference`, as written by the README's "
                              "`scripts/generate.py --test-captions --out inference`) or an absolute path inside "
                              "the repository or the checkpoints folder. Links that lead outside the folder are "
                              "skipped.")
    if not st.button("Score this folder", key="score_folder_go"):
        return
    if not text.strip():
        raise UserError("type a folder first, relative to the repository (e.g. inference)")
    folder = inside_root(text.strip(), REPO, roots.checkpoints)
    from gan_core.data.imagefolder import load_image_folder

    loaders.load_dataset(str(roots.data))
    images, ids, _, problems = load_image_folder(folder, confine=True)
    for name, reason in problems[:10]:
        st.warning(f"Skipped {name}: {reason}")
    if len(problems) > 10:
        st.warning(f"… and {len(problems) - 10} more file(s) skipped")
    evaluator, alignment = models()
    bar = st.progress(0.0, "Starting…")
    result = evaluation.evaluate_images(images, ids, str(roots.data), evaluator=evaluator, alignment=alignment,
                                        progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), m))
    bar.empty()
    shown = display_path(folder, REPO / "x")
    st.session_state["scored_folders"] = {**st.session_state.get("scored_folders", {}), shown: result}  # the table
    show_result(result)
    st.download_button("Download the folder's scores (JSON)", json.dumps(result, indent=2, default=str),
                       file_name=f"scores_{folder.name}.json", mime="application/json", key="score_folder_download")


def history_ui(run: Path) -> None:
    evaluation = evaluation_module()
    try:
        dataset = loaders.load_dataset(str(roots.data))  # realism keys name the test captions' checksum
    except UserError:
        dataset = None
    records = []
    for info in summarize_run(run).snapshots:
        # read only: the Inception pass never runs on page load
        realism = (evaluation.cached_realism(info.path, dataset) if dataset is not None else None) or {}
        for name, result in evaluation.load_cached_scores(info.path).items():
            merged = {**result, **(realism if name == "flowers" else {})}
            records.append({"epoch": info.epoch, "evaluator": name,
                            **{k: v for k, v in merged.items() if k not in HIDDEN and not isinstance(v, (list, dict))}})
    for name, result in st.session_state.get("scored_folders", {}).items():
        records.append({**{k: v for k, v in result.items() if k not in HIDDEN and not isinstance(v, (list, dict))},
                        "epoch": None, "evaluator": f"folder {name}"})  # after the result's own "evaluator"
    if not records:
        st.info(f"No snapshot of `{run.name}` has been scored yet: choose one in the sidebar and press "
                f"“Score this snapshot”.")
        return
    table = pd.DataFrame(records).sort_values(["evaluator", "epoch"])
    table = table.drop(columns=[c for c in ("format", "seconds") if c in table.columns])
    first = ["epoch", "evaluator", *[c for c in LABELS if c in table.columns]]
    shown = table[first + [c for c in table.columns if c not in first]].rename(columns=LABELS)
    st.dataframe(best_marked(shown), hide_index=True)
    st.caption("Bold green: the best snapshot per column. Lower is better for "
               + ", ".join(LABELS[k] for k in LOWER_BETTER if LABELS[k] in shown.columns)
               + "; higher for the others.")
    table = table[table["epoch"].notna()]
    numeric = [k for k in (*KEY_METRICS, *REALISM_METRICS[:4]) if k in table.columns and table[k].notna().any()]
    if len(table) > 1 and numeric:
        long = table.melt(id_vars=["epoch", "evaluator"], value_vars=numeric, var_name="metric").dropna()
        long["metric"] = long["metric"].map(lambda m: LABELS.get(m, m))
        figure = px.line(long, x="epoch", y="value", color="evaluator", facet_col="metric", facet_col_wrap=3,
                         markers=True, height=260 * ((len(numeric) + 2) // 3), template="plotly_white")
        figure.update_yaxes(matches=None, showticklabels=True, title=None)
        figure.update_xaxes(showticklabels=True)  # every facet, not only the bottom row
        figure.for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1]))
        st.plotly_chart(figure)


LOWER_BETTER = ("score", "cosine", "inception_term", "fid_flowers", "fid_inception", "kid_inception", "kid_inception_std",
                "saturated_white", "saturated_black")
NOT_RANKED = ("epoch", "evaluator", "images", "IS (10) std", "seconds")


def best_marked(shown: pd.DataFrame):
    """The table's Styler with the best value of each metric column in bold green."""
    lower = {LABELS[k] for k in LOWER_BETTER}
    style = shown.style.format(precision=4, na_rep="—")
    for column in shown.columns:
        values = pd.to_numeric(shown[column], errors="coerce")
        if column in NOT_RANKED or values.notna().sum() < 2:
            continue
        best = values.min() if column in lower else values.max()
        style = style.apply(lambda col, b=best: ["font-weight: bold; color: #1a7f37" if v == b else ""
                                                 for v in pd.to_numeric(col, errors="coerce")], subset=[column])
    return style


snapshot = snapshot_ui(roots.checkpoints)
snapshot_tab, folder_tab = st.tabs(["Snapshot", "Inference folder"])
with snapshot_tab:
    if snapshot is None:
        st.info("Choose a usable snapshot in the sidebar.")
    else:
        st.caption(f"Snapshot `{display_path(snapshot, roots.checkpoints)}`: generates the test images with the competition's seeds, then scores them.")
        with shown_errors("Scoring"):
            score_snapshot_ui(snapshot)
with folder_tab, shown_errors("Scoring the folder"):
    score_folder_ui()

st.subheader("Scored snapshots")
run = current_run(roots.checkpoints)
if run is not None:
    with shown_errors("Score history"):
        history_ui(run)
