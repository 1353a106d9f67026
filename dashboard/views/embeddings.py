"""Caption embeddings: a UMAP map of the text encoder's sentence embeddings, cosine similarity and
nearest neighbours of two captions, and two snapshots' encoders side by side."""

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboard import loaders
from dashboard.components import check_captions, display_path, page_roots, show_notes, shown_errors, snapshot_ui
from gan_core import UserError
from gan_core.explore.embeddings import colour_word, cosine_similarity, nearest_neighbours, place_new
from gan_core.explore.runs import list_runs, usable_snapshots

COLOURS = {"red": "#d62728", "pink": "#e377c2", "orange": "#ff7f0e", "yellow": "#e6c619", "white": "#b0b0b0",
           "purple": "#7b3fa0", "blue": "#1f57b4", "green": "#2ca02c", "brown": "#8c564b", "black": "#222222",
           "(no colour word)": "#dddddd"}
COLOUR_BY = {"Colour word in the caption": "colour", "Flower class (visualisation only)": "class",
             "Source (test / train / yours)": "source"}
MAX_MATCHES = 300
# 102 classes: one distinct hue each (a qualitative palette would repeat every 10-24 classes),
# shuffled so that neighbouring class numbers do not get near-identical colours.
_TURBO = px.colors.sample_colorscale("Turbo", [k / 101 for k in range(102)])
CLASS_COLOURS = [_TURBO[i] for i in np.random.default_rng(0).permutation(102)]

roots = page_roots()
st.title("Caption embeddings")
snapshot = snapshot_ui(roots.checkpoints)


def other_encoders(snap: str) -> list[str]:
    """Snapshots under the checkpoints root whose text encoder differs from `snap`'s (the first and
    last usable snapshot of each run: a frozen encoder is the same in all of a run's snapshots)."""
    mine, found = loaders.text_encoder_digest(snap), []
    try:
        runs = list_runs(roots.checkpoints)
    except UserError:
        return []
    for run in runs:
        usable = usable_snapshots(run)
        for info in {str(i.path): i for i in (usable[:1] + usable[-1:])}.values():
            try:
                if loaders.text_encoder_digest(str(info.path)) != mine:
                    found.append(str(info.path))
            except (UserError, OSError, ValueError, KeyError):
                continue  # an unreadable snapshot offers nothing to compare with
    return found


def controls_ui(snap: str) -> tuple[int, str, list[tuple[int, str]], bool]:
    a, b, c = st.columns([1.2, 2.2, 1.3])
    sample = a.select_slider("Training captions", [500, 1000, 2000, 4000, 7000, 15000], value=7000,
                             key="emb_sample", help="A seeded sample of the training captions, plus all test captions")
    colour_by = COLOUR_BY[b.radio("Colour by", list(COLOUR_BY), horizontal=True, key="emb_colour")]
    if other_encoders(snap):
        compare = c.toggle("Compare two snapshots", key="emb_compare",
                           help="Draws a second snapshot's map beside this one (only snapshots whose text encoder "
                                "differs give a different map).")
    else:
        compare = c.toggle("Compare two snapshots", key="emb_compare", value=False, disabled=True,
                           help="Not available: every run under the checkpoints folder holds the same text encoder "
                                "as this snapshot (pretrained, then frozen while the GAN trains), so every map would "
                                "be this one. A run that trains its encoder (`model.text.mode=joint`) or another "
                                "pretraining makes it available.")
    own = st.text_area("Your captions (one per line, placed on the map by their nearest captions)", "",
                       key="emb_own", height=80)
    lines = [(k + 1, line.strip()) for k, line in enumerate(own.splitlines()) if line.strip()]
    search = st.text_input("Highlight captions containing", "", key="emb_search",
                           placeholder="e.g. trumpet").strip().lower()
    return sample, colour_by, lines, compare, search


def projection(snap: str, sample: int):
    """Cached in memory and on disk; the first computation shows its progress."""
    bar = st.progress(0.0, "Embedding captions…")
    table, embeddings, layout = loaders.caption_projection(snap, str(roots.data), sample,
                                                           lambda f, m: bar.progress(min(f, 1.0), m))
    bar.empty()
    return table, embeddings, layout


def usable_lines(snap: str, lines: list[tuple[int, str]], report: bool = True) -> list[tuple[int, str]]:
    """The lines that can be drawn; each bad one is reported by its line number, the others still draw."""
    vocab, kept, notes = loaders.load_generator(snap).vocab, [], []
    for number, text in lines:
        try:
            notes += check_captions(vocab, [text], [f"Line {number}"])
            kept.append((number, text))
        except UserError as exc:
            if report:
                st.error(f"{exc} (not drawn; the other lines are)")
    if report:
        show_notes(notes)
    return kept


def with_own(snap: str, table, embeddings, layout, lines: list[tuple[int, str]], report: bool = True):
    lines = usable_lines(snap, lines, report) if lines else []
    if not lines:
        return table, embeddings, layout
    own = [text for _, text in lines]
    extra = loaders.encode(snap, own)
    mine = pd.DataFrame({"source": "yours", "id": [n for n, _ in lines], "caption": own,
                         "colour": [colour_word(c) for c in own], "class": -1})
    return (pd.concat([table, mine], ignore_index=True), np.concatenate([embeddings, extra]),
            np.concatenate([layout, place_new(embeddings, layout, extra)]))


def short(text: str, words: int = 4) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def scatter(table, layout, colour_by: str, title: str | None, search: str = ""):
    data = table.assign(x=layout[:, 0], y=layout[:, 1], row=np.arange(len(table)))
    data["class"] = data["class"].astype(str).replace("-1", "unknown")
    data["text"] = data["caption"].str.wrap(60).str.replace("\n", "<br>")
    base, yours = data[data["source"] != "yours"], data[data["source"] == "yours"]
    if colour_by == "source":  # later traces draw on top: the 819 test captions over the training ones
        base = base.sort_values("source", ascending=False, kind="stable")
    palette = {"colour": {"color_discrete_map": COLOURS}, "class": {"color_discrete_sequence": CLASS_COLOURS},
               "source": {}}[colour_by]
    figure = px.scatter(base, x="x", y="y", color=colour_by, hover_name="text",
                        hover_data={"id": True, "source": True, "x": False, "y": False, colour_by: True},
                        custom_data=["row"], title=title, height=560, template="plotly_white", render_mode="webgl", **palette)
    figure.update_traces(marker={"size": 5, "opacity": 0.7})
    if colour_by == "class":
        figure.update_layout(showlegend=False)  # 102 entries: hover a point for its class
    if len(yours):
        # WebGL too: an SVG trace would be drawn beneath the WebGL points and hide in the clusters.
        figure.add_trace(go.Scattergl(x=yours["x"], y=yours["y"], mode="markers+text", name="your captions",
                                      hovertext=yours["text"], hoverinfo="text", customdata=yours[["row"]].to_numpy(),
                                      text=[f"{n}: {short(c)}" for n, c in zip(yours["id"], yours["caption"])],
                                      textposition="top center", textfont={"size": 12, "color": "black"},
                                      marker={"symbol": "star", "size": 16, "color": "black",
                                              "line": {"width": 1, "color": "white"}}))
    if search:
        hits = data[data["caption"].str.lower().str.contains(search, regex=False)]
        figure.add_trace(go.Scattergl(x=hits["x"], y=hits["y"], mode="markers", name=f"contains “{search}”",
                                      hovertext=hits["text"], hoverinfo="text", customdata=hits[["row"]].to_numpy(),
                                      marker={"size": 11, "color": "rgba(0,0,0,0)",
                                              "line": {"width": 2, "color": "#111"}}))
    figure.update_xaxes(showticklabels=False, title=None, showgrid=False, zeroline=False)
    figure.update_yaxes(showticklabels=False, title=None, showgrid=False, zeroline=False)
    if colour_by == "class":
        figure.add_annotation(text="class ids: visualisation only, never used by the GAN", showarrow=False,
                              xref="paper", yref="paper", x=0, y=1.02, font={"size": 11, "color": "#666"})
    return figure


def pick_caption_ui(table, label: str, key: str, default: int) -> int:
    query = st.text_input(f"Find {label}", "", key=f"{key}_find").strip().lower()
    candidates = table.index[table["caption"].str.lower().str.contains(query, regex=False)] if query else table.index
    if len(candidates) == 0:
        st.info(f"No caption contains “{query}”.")
        return None
    candidates = list(candidates[:MAX_MATCHES])
    return st.selectbox(label, candidates, key=key, index=candidates.index(default) if default in candidates else 0,
                        format_func=lambda i: f"[{table.at[i, 'source']} {table.at[i, 'id']}] {table.at[i, 'caption']}")


def load_into(key: str, row: int) -> None:
    """Button callback (before the widgets draw): caption A or B becomes the clicked caption."""
    st.session_state[f"{key}_find"] = ""
    st.session_state[key] = row


def clicked_ui(event, table) -> None:
    """A clicked point: load it into caption A or B, or generate its images."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    rows = [int(p["customdata"][0]) for p in points if p.get("customdata") is not None]
    if not rows:
        st.caption("Click a point to load its caption into A or B, or to generate its images.")
        return
    row = rows[0]
    st.markdown(f"**Clicked:** [{table.at[row, 'source']} {table.at[row, 'id']}] {table.at[row, 'caption']}")
    a, b, c, _ = st.columns([1, 1, 1, 2])
    a.button("Load into caption A", key="emb_to_a", on_click=load_into, args=("emb_a", row))
    b.button("Load into caption B", key="emb_to_b", on_click=load_into, args=("emb_b", row))
    if c.button("Generate its images", key="emb_generate"):
        seeds = tuple(range(8))
        images = loaders.generate_pairs(snapshot, (table.at[row, "caption"],) * len(seeds), seeds)
        st.image(list(images), caption=[f"seed {s}" for s in seeds], width=96)


def similarity_ui(table, embeddings) -> None:
    st.subheader("Two captions")
    left, right = st.columns(2)
    with left:
        first = pick_caption_ui(table, "caption A", "emb_a", 0)
    with right:
        second = pick_caption_ui(table, "caption B", "emb_b", min(1, len(table) - 1))
    if first is not None and second is not None:
        st.metric("Cosine similarity (A, B)", f"{cosine_similarity(embeddings[first], embeddings[second]):.3f}")
    for column, index, name in zip(st.columns(2), (first, second), "AB"):
        if index is None:
            continue
        idx, sims = nearest_neighbours(embeddings, embeddings[index], k=10, exclude=index)
        column.caption(f"Nearest neighbours of {name}")
        column.dataframe(pd.DataFrame({"cosine": sims, "source": table.loc[idx, "source"].to_numpy(),
                                       "caption": table.loc[idx, "caption"].to_numpy()}), hide_index=True,
                         column_config={"cosine": st.column_config.NumberColumn(format="%.3f", width="small"),
                                        "source": st.column_config.TextColumn(width="small"),
                                        "caption": st.column_config.TextColumn(width="large")})


if snapshot is None:
    st.info("Choose a usable snapshot in the sidebar.")
    st.stop()

with shown_errors("Caption embeddings"):
    loaders.load_dataset(str(roots.data))
    sample, colour_by, own, compare, search = controls_ui(snapshot)
    second = None
    if compare:
        second = snapshot_ui(roots.checkpoints, key="emb_snap_b", container=st, label="Second snapshot",
                             run_key="emb_run_b", back=1)
    table, embeddings, layout = with_own(snapshot, *projection(snapshot, sample), own)
    st.caption(f"{len(table)} captions ({(table['source'] == 'test').sum()} test, "
               f"{(table['source'] == 'train').sum()} training, {(table['source'] == 'yours').sum()} yours); "
               f"UMAP, cosine metric." + (f" {int(table['caption'].str.lower().str.contains(search, regex=False).sum())}"
                                          f" contain “{search}” (ringed)." if search else ""))
    if second and loaders.text_encoder_digest(second) == loaders.text_encoder_digest(snapshot):
        st.info(f"`{display_path(snapshot, roots.checkpoints)}` and `{display_path(second, roots.checkpoints)}` "
                f"hold the same text encoder (pretrained, then frozen while the GAN trains), so their caption "
                f"maps are identical: one map is shown. Compare with a run that trains its encoder "
                f"(`model.text.mode=joint`) or another pretraining.")
        second = None
    select = {"on_select": "rerun", "selection_mode": "points"}
    if second:
        table_b, embeddings_b, layout_b = with_own(second, *projection(second, sample), own, report=False)
        left, right = st.columns(2)
        event = left.plotly_chart(scatter(table, layout, colour_by, f"A: {display_path(snapshot, roots.checkpoints)}",
                                          search), key="emb_plot_a", **select)
        right.plotly_chart(scatter(table_b, layout_b, colour_by, f"B: {display_path(second, roots.checkpoints)}",
                                   search), key="emb_plot_b")
    else:
        event = st.plotly_chart(scatter(table, layout, colour_by, None, search), key="emb_plot", **select)
    clicked_ui(event, table)
    similarity_ui(table, embeddings)
