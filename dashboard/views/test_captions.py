"""Test captions: every test caption with its per-image competition term for a source A and a source
B (a snapshot or a folder of inference images), worst first; filters, a per-class chart, a caption's
detail and exports. The page reads cached tables only: the heavy passes run behind buttons."""

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import loaders
from dashboard import test_captions_data as data
from dashboard.components import display_path, page_roots, shown_errors, snapshot_ui
from dashboard.settings import REPO
from gan_core import UserError
from gan_core.eval.colour import PALETTE

PAGE_ROWS = 100  # rows drawn per page of the table (each row carries three thumbnails)
SEEDS = tuple(range(8))  # the detail's seeds of A

roots = page_roots()
st.title("Test captions")
st.caption("One row per test caption: the competition's per-image term (cosine distance between the evaluator's "
           "logits for the image and for the real test image; lower is better), the evaluator's classes, the "
           "nearest training image in its features, and the caption's colour words. Worst first.")


def source_ui(side: str):
    """A snapshot (sidebar) or a folder of inference images; -> a per_caption Source or None."""
    from gan_core.eval.per_caption import Source

    box = st.sidebar
    box.markdown(f"**Source {side}**")
    choices = ["Snapshot", "Folder"] + (["None"] if side == "B" else [])
    kind = box.radio(f"{side} is", choices, horizontal=True, key=f"tc_kind_{side}")
    if kind == "None":
        return None
    if kind == "Folder":
        text = box.text_input(f"Folder {side}", "", key=f"tc_folder_{side}", placeholder="inference",
                              help="inference_23.jpg or inference_0023.jpg, as scripts/generate.py --test-captions "
                                   "writes them; relative to the repository or inside the checkpoints folder.")
        if not text.strip():
            return None
        from gan_core.explore.runs import inside_root

        return Source(inside_root(text.strip(), REPO, roots.checkpoints), "folder", confine=True)
    snapshot = snapshot_ui(roots.checkpoints, key="snap" if side == "A" else "tc_snap_b", container=box,
                           label=f"Snapshot {side}", run_key="run" if side == "A" else "tc_run_b",
                           back=0 if side == "A" else 1)
    if snapshot is None:
        return None
    seed = box.number_input(f"Competition seed {side}", 0, 2**31 - 1, 0, key=f"tc_seed_{side}")
    return Source(Path(snapshot), "snapshot", int(seed))


def tables_ui(sources: dict):
    """The cached tables, or a button that computes the missing ones. -> {side: PerCaption} or None."""
    found = {side: data.cached_table(s, str(roots.data), roots.flowers_evaluator) for side, s in sources.items()}
    missing = [side for side, result in found.items() if result is None]
    if not missing:
        return found
    names = ", ".join(f"{side} ({sources[side].label})" for side in missing)
    st.info(f"No per-caption table yet for {names}. Computing one generates the 819 test images and runs the "
            f"evaluator once: a few seconds warm, about a minute the first time. Snapshot tables are kept next to "
            f"the snapshot; a folder's only in this session.")
    if not st.button("Compute the per-caption tables", key="tc_compute", type="primary"):
        return None
    bar = st.progress(0.0, "Starting…")
    step = 1.0 / len(missing)
    for k, side in enumerate(missing):
        data.compute(sources[side], str(roots.data), roots.flowers_evaluator,
                     lambda f, m, k=k, side=side: bar.progress(min(max((k + f) * step, 0.0), 1.0), f"{side}: {m}"))
    bar.empty()
    st.rerun()


def realism_ui(sources: dict, results: dict) -> None:
    pending = [side for side, r in results.items() if r is not None and r.table["realism"].isna().all()]
    if not pending:
        return
    if st.button("Add Inception realism (about 1.5 min per source idle; the first run about 5 min more)",
                 key="tc_realism",
                 help="Kynkäänniemi et al.'s per-image realism in the FID Inception features, against the 3000 "
                      "training images that precision/recall use."):
        bar = st.progress(0.0, "Loading the Inception network…")
        for side in pending:
            data.compute_realism(sources[side], results[side], str(roots.data),
                                 lambda f, m, side=side: bar.progress(min(max(f, 0.0), 1.0), f"{side}: {m}"))
        bar.empty()
        st.rerun()


def summary_ui(comparison, results: dict) -> None:
    s = comparison.summary
    columns = st.columns(6)
    columns[0].metric("score A", f"{results['A'].summary['score']:.4f}", help="mean term + 0.5 / IS; lower is better")
    columns[1].metric("A's class agreement", f"{comparison.table['agree_a'].astype(bool).mean():.3f}")
    if results.get("B") is not None:
        columns[2].metric("score B", f"{results['B'].summary['score']:.4f}")
        columns[3].metric("A wins", s["wins"], help=f"captions where A's term is below B's by more than {s['tie']:g}")
        columns[4].metric("B wins", s["losses"], help=f"{s['ties']} tie(s) besides")
        columns[5].metric("mean gap A - B", f"{s['mean_gap']:+.4f}", help="positive: A is worse")
    if s["left_out"]:
        st.warning(f"{s['left_out']} caption(s) have no image in A ({s['missing_a']}) or B ({s['missing_b']}): they "
                   f"show as missing and are left out of wins, losses and the per-class means.")


def filters_ui(table: pd.DataFrame, with_b: bool) -> data.Filters:
    one, two, three = st.columns([1.2, 1.2, 1.6])
    colours = one.multiselect("Colour word", list(PALETTE), key="tc_colours")
    classes = two.multiselect("Real class", sorted(int(c) for c in table["real_class"].unique() if c > 0),
                              key="tc_classes")
    text = three.text_input("Caption text or test ID", "", key="tc_text")
    four, five, six = st.columns([1, 1, 2])
    disagree = four.checkbox("Classes disagree", key="tc_disagree", help="A's top-1 class is not the real image's")
    loses = five.checkbox("A loses to B", key="tc_loses", disabled=not with_b)
    terms = table["term_a"].to_numpy(float)
    top = max(float(np.ceil(np.nanmax(terms) * 100) / 100) if np.isfinite(terms).any() else 1.0, 0.01)
    low, high = six.slider("A's term", 0.0, top, (0.0, top), 0.01, key="tc_range")
    full = (low, high) == (0.0, top)
    return data.Filters(tuple(colours), tuple(classes), disagree, loses and with_b, None if full else (low, high), text)


def number(label: str, digits: int = 3, sign: str = ""):
    return st.column_config.NumberColumn(label, format=f"%{sign}.{digits}f")


COLUMNS = {"real": st.column_config.ImageColumn("real", width="small"),
           "A": st.column_config.ImageColumn("A", width="small"), "B": st.column_config.ImageColumn("B", width="small"),
           "term_a": number("term A"), "term_b": number("term B"), "gap": number("gap A-B", sign="+"),
           "top1_a": "class A", "top1_b": "class B", "real_top1": "class real", "real_class": "true class",
           "agree_a": "A agrees", "realism_a": number("realism A", 2), "realism_b": number("realism B", 2),
           "nearest_distance_a": number("A to nearest train", 2),
           "real_nearest_distance": number("real to nearest train", 2),
           "caption": st.column_config.TextColumn("caption", width="large")}


def visible_columns(shown: pd.DataFrame, with_b: bool) -> list[str]:
    """The table's columns; B's only with a B, realism only where it was computed."""
    b = lambda *names: list(names) if with_b else []
    realism = [c for c in ("realism_a", "realism_b") if c in shown and shown[c].notna().any()]
    return ["real", "A", *b("B"), "id", "term_a", *b("term_b", "gap", "outcome"), "top1_a", *b("top1_b"),
            "real_top1", "real_class", "agree_a", *realism, "nearest_distance_a", "real_nearest_distance", "colours",
            "caption"]


def table_ui(rows: pd.DataFrame, results: dict, with_b: bool) -> pd.DataFrame:
    """The sorted, filtered rows, one page at a time, with thumbnails; -> the rows shown."""
    left, middle, right = st.columns([2, 1, 1])
    column = left.selectbox("Sort by", list(data.SORTABLE), format_func=data.SORTABLE.get, key="tc_sort")
    descending = middle.toggle("Highest first", True, key="tc_descending")
    pages = max(1, int(np.ceil(len(rows) / PAGE_ROWS)))
    page = right.number_input(f"Page (of {pages})", 1, pages, 1, key="tc_page") if pages > 1 else 1
    ordered = data.sort_rows(rows, column, descending)
    shown = ordered.iloc[(page - 1) * PAGE_ROWS: page * PAGE_ROWS].copy()
    real = data.real_images(str(roots.data))
    blank = np.full((64, 64, 3), 200, np.uint8)
    shown.insert(0, "real", [data.data_uri(real.get(int(i), blank)) for i in shown["id"]])
    shown.insert(1, "A", data.thumbnails(results["A"].images, shown.index, shown["missing_a"]))
    if with_b:
        position = {int(i): k for k, i in enumerate(results["B"].table["id"])}
        shown.insert(2, "B", data.thumbnails(results["B"].images, [position[int(i)] for i in shown["id"]],
                                             shown["missing_b"]))
    columns = visible_columns(shown, with_b)
    first, last = (page - 1) * PAGE_ROWS + 1 if len(rows) else 0, min(page * PAGE_ROWS, len(rows))
    st.caption(f"{len(rows)} of {len(results['A'].table)} captions match; rows {first}–{last} by "
               f"{data.SORTABLE[column]}, {'highest' if descending else 'lowest'} first.")
    event = st.dataframe(shown[columns], column_config=COLUMNS, hide_index=True, row_height=70, key="tc_table",
                         on_select="rerun", selection_mode="single-row", height=min(38 + 70 * len(shown), 560))
    picked = getattr(getattr(event, "selection", None), "rows", None)
    if picked:
        st.session_state["tc_pick"] = int(shown.iloc[picked[0]]["id"])
    return ordered


def class_chart_ui(comparison, with_b: bool) -> None:
    from gan_core.eval.compare import per_class

    classes = per_class(comparison)
    if classes.empty:
        return
    figure = go.Figure()
    text = [f"class {int(c)}: {n} captions" for c, n in zip(classes["real_class"], classes["count"])]
    figure.add_bar(x=classes["real_class"].astype(str), y=classes["term_a"], name="A", hovertext=text)
    if with_b:
        figure.add_bar(x=classes["real_class"].astype(str), y=classes["term_b"], name="B", hovertext=text)
    figure.update_layout(barmode="group", height=320, template="plotly_white", margin={"t": 10, "b": 40},
                         xaxis_title="real class (worst of A first)", yaxis_title="mean term", legend_orientation="h")
    st.plotly_chart(figure, key="tc_classes_chart")
    worst = classes.head(10)
    samples = data.class_samples(str(roots.data))
    blank = np.full((64, 64, 3), 200, np.uint8)
    st.image([samples.get(int(c), blank) for c in worst["real_class"]], width=72,
             caption=[f"class {int(c)}: A {a:.3f}" + (f", B {b:.3f}" if with_b else "")
                      for c, a, b in zip(worst["real_class"], worst["term_a"], worst["term_b"])])
    st.caption("A real training image of each of A's ten worst classes.")


def detail_ui(ordered: pd.DataFrame, results: dict, sources: dict) -> None:
    ids = [int(i) for i in ordered["id"]]
    if not ids:
        return
    picked = st.session_state.get("tc_pick")
    index = ids.index(picked) if picked in ids else None
    captions = dict(zip(ordered["id"].astype(int), ordered["caption"]))
    chosen = st.selectbox("Caption", ids, index=index, key="tc_detail", placeholder="Pick a caption, or a row above",
                          format_func=lambda i: f"{i} — {captions[i]}")
    if chosen is None:
        return
    st.session_state["tc_pick"] = int(chosen)
    row = ordered[ordered["id"] == chosen].iloc[0]
    st.markdown(f"**{chosen}**: {row['caption']}")
    real = data.real_images(str(roots.data)).get(int(chosen), np.full((64, 64, 3), 200, np.uint8))
    pictures, labels = [real], [f"real (class {row['real_class']})"]
    for side in [s for s in ("A", "B") if results.get(s) is not None]:
        suffix = side.lower()
        if not bool(row[f"missing_{suffix}"]):
            table = results[side].table
            pictures.append(results[side].images[int(np.flatnonzero(table["id"].to_numpy() == chosen)[0])])
            labels.append(f"{side}: {row[f'term_{suffix}']:.3f}, class {int(row[f'top1_{suffix}'])}")
    if int(row["nearest_row_a"]) >= 0:
        pictures.append(data.training_image(str(roots.data), int(row["nearest_row_a"])))
        labels.append(f"A's nearest training image ({row['nearest_distance_a']:.2f}; "
                      f"real's: {row['real_nearest_distance']:.2f})")
    st.image(pictures, width=128, caption=labels)
    if sources["A"].kind == "snapshot":
        images = loaders.generate_pairs(str(sources["A"].path), (str(row["caption"]),) * len(SEEDS), SEEDS)
        st.image(list(images), width=96, caption=[f"A, seed {s}" for s in SEEDS])
    link, send, _ = st.columns([1.2, 1, 2])
    link.page_link("views/generate.py", label="Open in Generate & interpolate", icon=":material/palette:",
                   query_params={"caption": str(chosen), "seed": "0"})
    if send.button("Send to report grid", key="tc_send"):
        from dashboard.grid_state import send_to_grid

        st.success(send_to_grid(st.session_state, str(chosen), 0))


def exports_ui(rows: pd.DataFrame, comparison, results: dict) -> None:
    from gan_core.eval.compare import Comparison, sheet_png

    csv_box, png_box, _ = st.columns([1, 1, 1])
    csv_box.download_button("CSV of the filtered rows", rows.to_csv(index=False, float_format="%.6g"),
                            file_name="test_captions.csv", mime="text/csv", key="tc_csv", icon=":material/download:",
                            width="stretch")
    b = results.get("B") or results["A"]  # without B its column stays grey
    subset = Comparison(rows, comparison.summary, comparison.label_a, comparison.label_b or "(none)")

    def sheet() -> bytes:  # drawn only when the button is pressed
        return sheet_png(subset, results["A"], b, loaders.load_dataset(str(roots.data)), 25)

    png_box.download_button("Contact sheet (PNG)", sheet, file_name="contact_sheet.png", mime="image/png",
                            key="tc_png", icon=":material/download:", width="stretch",
                            help="The 25 worst of the filtered captions: caption, real image, A and B.")


def page() -> None:
    sources = {"A": source_ui("A"), "B": source_ui("B")}
    if sources["A"] is None:
        st.info("Choose source A in the sidebar: a snapshot, or a folder of inference images.")
        return
    loaders.load_dataset(str(roots.data))
    present = {side: s for side, s in sources.items() if s is not None}
    st.caption(" · ".join(f"**{side}**: {display_path(s.path, roots.checkpoints)}"
                          + (f" (seed {s.seed})" if s.kind == "snapshot" else "") for side, s in present.items()))
    results = tables_ui(present)
    if results is None:
        return
    results.setdefault("B", None)
    with_b = results["B"] is not None
    comparison = data.comparison(results["A"], results["B"])
    summary_ui(comparison, results)
    realism_ui(present, results)
    rows = data.apply_filters(comparison.table, filters_ui(comparison.table, with_b))
    ordered = table_ui(rows, results, with_b)
    exports_ui(ordered, comparison, results)
    st.subheader("Caption")
    with shown_errors("The caption's detail"):
        detail_ui(ordered, results, present)
    st.subheader("Per class")
    class_chart_ui(comparison, with_b)


with shown_errors("Test captions"):
    try:
        page()
    except UserError as exc:
        st.error(str(exc))
