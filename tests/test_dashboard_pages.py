"""Every dashboard page through streamlit's AppTest, on a tiny workspace built once per session:
drive the widgets, assert on what the page shows, and never a traceback.

Tests on the workspace are in the slow tier (building it trains the tiny evaluator and alignment
model); every page still opens in the fast tier, on an empty and on a missing checkpoints root."""

from pathlib import Path

import pytest
from dashboard_fixtures import ROOT, app_env, workspace  # noqa: F401  (pytest fixtures)
from streamlit.testing.v1 import AppTest

from gan_core.data.dataset import PREPARE_HINT

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 240  # first runs import TensorFlow and build models on a busy 2-core CPU


def open_page(page: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    if page:
        at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def images(at) -> list[str]:
    return [url for element in at.image for url in element.value]


@pytest.mark.slow
def test_checkpoints_page_lists_runs_and_their_problems(app_env):
    at = open_page()
    assert at.title[0].value == "Checkpoints"
    table = at.dataframe[0].value
    assert list(table["run"]) == ["broken", "empty", "tiny"]
    tiny = table[table["run"] == "tiny"].iloc[0]
    assert tiny["arch"] == "dfgan" and tiny["ngf/ndf"] == "4/4" and tiny["snapshots"] == 2 and tiny["batch"] == "8"
    warnings = texts(at.warning)
    assert "Run `empty`: no snapshot yet" in warnings and "config.json is not valid JSON" in warnings
    assert "checkpoints/default" in texts(at.info)  # the shipped checkpoint is missing: said so
    # sample grid of the usable run at the chosen epoch, then the compare: tiny epoch 2 vs epoch 1
    captions = [c for e in at.image for c in e.captions]
    assert "tiny — epoch 2" in captions
    assert "tiny / epoch_0002" in captions and "tiny / epoch_0001" in captions
    at.select_slider(key="grid_epoch").set_value(1).run()
    assert "tiny — epoch 1" in [c for e in at.image for c in e.captions]
    at.radio(key="curve_x").set_value("epoch").run()
    assert not at.exception and at.get("plotly_chart")
    at.select_slider(key="curve_smooth").set_value(5).run()
    spec = at.get("plotly_chart")[0].proto.spec
    assert not at.exception and spec.count('"showticklabels":true') >= 2


@pytest.mark.slow
def test_generate_page_images_seeds_and_interpolation(app_env):
    at = open_page("generate")
    first = at.image[0]
    assert first.captions == [f"seed {s}" for s in range(8)] and len(set(first.value)) == 8
    at.text_input(key="gen_seeds").set_value("3, 5").run()
    shown = at.image[0]
    assert shown.captions == ["seed 3", "seed 5"]
    assert shown.value == [first.value[3], first.value[5]]  # same caption and seed: the same image
    strips = at.image[1:]
    assert [len(s.value) for s in strips] == [8, 8]
    assert strips[0].value[0] == first.value[0]  # the seed path starts at seed A = 0
    at.slider(key="int_steps").set_value(5).run()
    assert len(at.image[1].value) == 5 and at.image[1].captions[-1] == "t=1.00"
    assert {b.label for b in at.download_button} == {"Download PNG", "Download GIF", "Save latent"}
    downloads = [b for b in at.download_button if b.label in ("Download PNG", "Download GIF")]
    assert len(downloads) == 6  # samples, seed strip, caption strip
    # truncation psi: other images for the same seeds; back at 1, the originals
    at.slider(key="gen_psi").set_value(0.6).run()
    truncated = at.image[0].value
    assert len(truncated) == 2 and not set(truncated) & set(shown.value)
    at.slider(key="gen_psi").set_value(1.0).run()
    assert at.image[0].value == shown.value
    # best of N by the run's own D (the tiny run's snapshots hold it): other images for some seeds
    assert at.selectbox(key="gen_best_of").options == ["1", "2", "4", "8", "16"]
    at.text_input(key="gen_seeds").set_value("0-7").run()
    plain = at.image[0].value
    at.selectbox(key="gen_best_of").set_value(4).run()
    best = at.image[0].value
    assert not at.exception and len(best) == 8 and best != plain
    at.selectbox(key="gen_best_of").set_value(1).run()
    assert at.image[0].value == plain
    # a test caption, found by its words
    at.radio(key="gen_source").set_value("Pick a test caption").run()
    at.text_input(key="gen_search").set_value("blue").run()
    options = at.selectbox(key="gen_test_id").options
    assert options and all("blue" in o for o in options)


@pytest.mark.slow
def test_generate_page_says_what_is_wrong_with_a_caption(app_env):
    at = open_page("generate")
    at.text_input(key="gen_caption").set_value("?!  ...").run()
    assert not at.exception and "empty" in texts(at.error) and not at.image
    at.text_input(key="gen_caption").set_value("qwzx " * 30).run()
    assert "vocabulary" in texts(at.warning) and len(at.image[0].value) == 8
    at.text_input(key="gen_seeds").set_value("1, two").run()
    assert "'two' is not a seed" in texts(at.error)


@pytest.mark.slow
def test_report_grid_records_every_cell_seed(app_env, workspace):
    """The table under the preview names every cell: its row, column, test ID or caption, seed, psi
    and N (locks, re-rolls and save/load are tests/test_report_grid_page.py)."""
    from gan_core.data.dataset import PreparedDataset

    test_ids = list(PreparedDataset(workspace.data).test_captions["ID"].astype(int))
    at = open_page("report_grid")
    assert "not among the" in texts(at.error)  # the competition IDs are not in the tiny set
    for r in range(4):
        at.text_input(key=f"report_row_{r}").set_value(str(test_ids[r]))
    at.text_input(key="report_row_4").set_value("a flower with yellow petals").run()
    assert not at.error and not at.exception
    previews = [e for e in at.image if e.captions and e.captions[0].startswith("The PNG that Download PNG saves")]
    assert len(previews) == 1
    table = at.dataframe[0].value
    assert len(table) == 25 and list(table["seed"][:5]) == [0, 1, 2, 3, 4]
    assert list(table["test_id"][:5]) == [str(test_ids[0])] * 5 and table["caption"].iloc[-1] == "a flower with yellow petals"
    assert {"Download PNG", "Download CSV", "Download MD", "Save grid (JSON)"} <= {b.label for b in at.download_button}
    assert (table["truncation"] == 1.0).all()
    before = previews[0].value
    at.slider(key="report_psi").set_value(0.75).run()  # psi: a new PNG, recorded on every unlocked cell
    table = at.dataframe[0].value
    assert (table["truncation"] == 0.75).all() and len(table) == 25
    after = [e for e in at.image if e.captions and e.captions[0].startswith("The PNG that Download PNG saves")]
    assert len(after) == 1 and after[0].value != before
    at.text_input(key="report_row_4").set_value("?!").run()  # an empty caption is named by its row
    assert "Row 5: the caption '?!' is empty" in texts(at.error) and not at.exception


def test_paths_are_shown_relative_to_the_checkpoints_folder(tmp_path):
    from dashboard.components import display_path

    root = tmp_path / "checkpoints"
    shown = display_path(root / "default" / "snapshots" / "epoch_0035", root)
    assert shown == "checkpoints/default/snapshots/epoch_0035"
    assert display_path("/elsewhere/x", root) == "/elsewhere/x"


@pytest.mark.slow
def test_embeddings_page_map_similarity_and_disk_cache(app_env, workspace):
    at = open_page("embeddings")
    assert not at.error, texts(at.error)
    assert at.get("plotly_chart")
    cosine = float(at.metric[0].value)
    assert -1.0 <= cosine <= 1.0
    assert [len(d.value) for d in at.dataframe] == [10, 10]
    snapshot = workspace.tiny_run / "snapshots" / "epoch_0002"
    assert len(list(snapshot.glob("umap_*.json"))) == 1  # kept next to the snapshot (a storage cache)
    at.text_area(key="emb_own").set_value("a flower with blue petals").run()
    assert "1 yours" in texts(at.caption)
    at.text_input(key="emb_a_find").set_value("a flower with blue petals").run()
    options = at.selectbox(key="emb_a").options
    at.selectbox(key="emb_a").select_index(next(i for i, o in enumerate(options) if o.startswith("[yours"))).run()
    neighbours = at.dataframe[0].value
    assert len(neighbours) == 10 and neighbours["cosine"].is_monotonic_decreasing
    assert "yours" not in set(neighbours["source"])  # a caption is not its own neighbour
    at.text_input(key="emb_b_find").set_value("no caption says this").run()  # B not found: no made-up B
    assert not at.metric and len(at.dataframe) == 1 and "No caption contains" in texts(at.info)
    at.text_input(key="emb_b_find").set_value("").run()
    at.radio(key="emb_colour").set_value("Flower class (visualisation only)").run()
    at.toggle(key="emb_compare").set_value(True).run()
    assert not at.exception and len(at.get("plotly_chart")) == 2
    assert len(list(snapshot.parent.glob("*/umap_*.json"))) == 2  # joint mode: two encoders, two maps


@pytest.mark.slow
def test_embeddings_page_labels_own_captions_reports_a_bad_line_and_highlights_a_search(app_env):
    at = open_page("embeddings")
    at.text_area(key="emb_own").set_value("a flower with blue petals\n\n?!?\na red flower").run()
    assert not at.exception
    assert "Line 3: the caption '?!?' is empty" in texts(at.error)  # named by its line number in the box
    assert "2 yours" in texts(at.caption)  # lines 1 and 4 still drawn
    figure = at.get("plotly_chart")[0].proto.spec
    assert "1: a flower with blue" in figure and "4: a red flower" in figure  # labels on the map
    at.text_input(key="emb_search").set_value("blue").run()
    assert "contain “blue” (ringed)" in texts(at.caption)
    assert "contains “blue”" in at.get("plotly_chart")[0].proto.spec
    assert at.toggle(key="emb_compare").proto.help.startswith("Draws a second")  # the tiny run trains its encoder
    assert "Click a point" in texts(at.caption)


@pytest.mark.slow
def test_scores_page_scores_once_then_reads_the_cache(app_env, workspace):
    if not workspace.evaluator:
        pytest.fail("gan_core.eval.evaluators.flowers / gan_core.eval.alignment are missing: cannot train the tiny evaluator")
    at = open_page("scores")
    at.button(key="score_snapshot").click().run()
    assert not at.error, texts(at.error)
    assert "Scored and cached." in texts(at.success)
    names = {m.label for m in at.metric}
    assert {"score (lower is better)", "IS", "class top-1"} <= names
    assert len(list((workspace.tiny_run / "snapshots" / "epoch_0002").glob("scores_flowers_*.json"))) == 1
    history = at.dataframe[-1].value
    assert list(history["epoch"]) == [2] and {"score (lower is better)", "FID (flowers features)", "R-precision"} <= set(history)
    assert "Lower is better for score (lower is better), " in texts(at.caption)
    assert not {"sat. white", "sat. black"} & {m.label for m in at.metric} or len(at.metric) >= 6  # no half row
    at.button(key="score_snapshot").click().run()
    assert "Loaded from the cache" in texts(at.success)
    # no folder typed: said so; a folder outside the checkpoints root is refused
    at.button(key="score_folder_go").click().run()
    assert "type a folder first" in texts(at.error)
    at.text_input(key="score_folder").set_value("../../").run()
    at.button(key="score_folder_go").click().run()
    assert "outside the folders this app may read" in texts(at.error)


@pytest.mark.slow
def test_scores_page_scores_a_folder_skips_links_out_and_adds_it_to_the_table(app_env, workspace, tmp_path):
    """A folder of inference images (here inside the checkpoints root; under the repository works the
    same way): a link that resolves outside the folder is skipped and never read."""
    import numpy as np
    from PIL import Image

    from gan_core.data.dataset import PreparedDataset

    ids = list(PreparedDataset(workspace.data).test_captions["ID"].astype(int))[:4]
    folder = workspace.checkpoints / "tiny" / "inference_check"
    folder.mkdir(exist_ok=True)
    for k, test_id in enumerate(ids[:3]):
        Image.fromarray(np.full((64, 64, 3), 40 * k + 30, np.uint8)).save(folder / f"inference_{test_id}.jpg")
    outside = tmp_path / "secret.jpg"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(outside)
    link = folder / f"inference_{ids[3]}.jpg"
    if not link.is_symlink():
        link.symlink_to(outside)
    at = open_page("scores")
    at.text_input(key="score_folder").set_value(str(folder)).run()
    at.button(key="score_folder_go").click().run()
    assert not at.exception and not at.error, texts(at.error)
    assert f"Skipped inference_{ids[3]}.jpg" in texts(at.warning)
    assert "score (lower is better)" in {m.label for m in at.metric}
    assert "Download the folder's scores (JSON)" in {b.label for b in at.download_button}
    history = at.dataframe[-1].value
    assert any(str(e).startswith("folder ") and "inference_check" in str(e) for e in history["evaluator"]), list(history["evaluator"])


@pytest.mark.slow
def test_scores_page_realism_runs_behind_its_button_and_is_read_back(app_env, workspace):
    """Computed only behind its button (the tiny evaluator, then the Inception network on ~100 images),
    never on page load; shown as metrics and in the history table, read back from the cache."""
    snapshot = workspace.tiny_run / "snapshots" / "epoch_0002"
    before = sorted(snapshot.glob("realism_*.json"))
    at = open_page("scores")
    assert sorted(snapshot.glob("realism_*.json")) == before  # page load computed nothing
    at.button(key="realism_snapshot").click().run()
    assert not at.error, texts(at.error)
    names = {m.label for m in at.metric}
    assert {"Inception-FID", "KID", "precision", "recall", "sat. white"} <= names
    assert len(list(snapshot.glob("realism_*.json"))) == len(before) + 1
    history = at.dataframe[-1].value
    assert {"Inception-FID", "precision", "recall", "sat. black"} <= set(history)
    assert history.loc[history["epoch"] == 2, "Inception-FID"].notna().all()
    fresh = open_page("scores")  # a new session reads the numbers back without the network
    assert "Inception-FID" in set(fresh.dataframe[-1].value)


@pytest.mark.slow
def test_mode_collapse_page_measures_each_snapshot_once(app_env, workspace):
    at = open_page("mode_collapse")
    at.text_input(key="mc_seeds").set_value("0-3").run()
    at.button(key="mc_measure").click().run()
    assert not at.error, texts(at.error)
    assert not [b for b in at.button if b.key == "mc_measure"]  # redrawn at once without the button
    table = at.dataframe[0].value
    snapshots = table[table["state"] != "reference"]
    assert list(snapshots["epoch"]) == [1, 2]
    assert (snapshots["pixel diversity within captions"] > 0).all() and (snapshots["± pixel within"] >= 0).all()
    # beside the numbers, the references: real images of the captions' classes, and one image repeated
    assert list(table["snapshot"].iloc[-2:]) == ["real images, same classes", "collapse: one image repeated"]
    real, collapse = table.iloc[-2], table.iloc[-1]
    assert real["pixel diversity within captions"] > 0 and collapse["pixel diversity within captions"] < 1e-6
    if workspace.evaluator:
        assert snapshots["distinct predicted classes"].between(1, 102).all()
        assert collapse["distinct predicted classes"] == 1
    assert len(list((workspace.tiny_run / "snapshots").glob("*/diversity_*.json"))) >= 2
    at.run()
    assert not [b for b in at.button if b.key == "mc_measure"]  # all measured: nothing left to do
    grid, nearest = at.image[0], at.image[1]
    assert "rows are snapshots" in grid.captions[0] and "nearest training image" in nearest.captions[0]
    assert "Real baseline: a real test image lies at" in texts(at.caption)
    at.radio(key="mc_nn_space").set_value("pixels").run()
    assert "RMS pixel difference" in at.image[1].captions[0] and "Real baseline" in texts(at.caption)
    at.text_area(key="mc_captions").set_value("a red flower\n???").run()  # named like on the other pages
    assert "Caption 2: the caption '???' is empty" in texts(at.error) and not at.exception


@pytest.mark.slow
def test_mode_collapse_alarm_is_quiet_on_other_seeds_and_fires_on_a_collapse(app_env):
    """The page's own check: the sidebar's snapshot with other seeds (no alarm), and one of its
    images repeated (the alarm fires)."""
    at = open_page("mode_collapse")
    at.text_input(key="mc_seeds").set_value("0-7").run()
    at.button(key="mc_check").click().run()
    assert not at.exception and not at.error, texts(at.error)
    verdicts = texts(at.success)
    assert "Other seeds of the same snapshot: no alarm" in verdicts
    assert "One image repeated: the alarm fires on" in verdicts and "pixel diversity within captions" in verdicts
    samples = at.dataframe[-1].value
    assert list(samples["sample"]) == ["seeds 0-7", "seeds 1000-1007", "one image repeated"]
    assert samples["pixel diversity within captions"].iloc[0] != samples["pixel diversity within captions"].iloc[1]


@pytest.mark.slow
def test_mode_collapse_finds_failing_seeds_behind_its_button_and_keeps_them(app_env):
    """Per-seed precision of the sidebar's snapshot over the probe test captions (real Inception
    network on the tiny world): only behind the button, kept across reruns, asked again for new seeds."""
    at = open_page("mode_collapse")
    at.text_input(key="mc_seeds").set_value("0-3").run()
    assert not seed_tables(at)  # page load measured nothing
    at.button(key="mc_failing").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = seed_tables(at)[0]
    assert list(table["seed"]) == [0, 1, 2, 3]
    assert table["precision"].between(0, 1).all() and (table["images inside"] >= 0).all()
    verdicts = texts(at.success) + texts(at.error)
    assert "No seed fails under every caption" in verdicts or "Failing under every caption: seed" in verdicts
    assert "real test images of the same captions" in verdicts  # the verdict's measured baseline
    assert any("probe captions" in c for element in at.image for c in element.captions)
    at.run()  # a rerun shows the same result without asking again
    assert not [b for b in at.button if b.key == "mc_failing"]
    assert list(seed_tables(at)[0]["seed"]) == [0, 1, 2, 3]
    at.text_input(key="mc_seeds").set_value("0-4").run()  # other seeds: the button again, no stale table
    assert [b for b in at.button if b.key == "mc_failing"]
    assert not seed_tables(at)


def seed_tables(at) -> list:
    """The failing-seeds tables on the page (an AppTest dataframe carries no key)."""
    return [t.value for t in at.dataframe if "images inside" in t.value.columns]


@pytest.mark.slow
def test_every_page_copes_with_a_missing_data_set_and_a_broken_run(app_env, monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_DATA", str(tmp_path / "no_data"))
    for page in ("embeddings", "mode_collapse"):
        at = open_page(page)
        assert PREPARE_HINT in texts(at.error)
    at = open_page("generate")
    at.radio(key="gen_source").set_value("Pick a test caption").run()
    assert PREPARE_HINT in texts(at.info) and at.image  # falls back to a typed caption
    at.sidebar.selectbox(key="w_run").set_value("broken").run()
    assert not at.exception and "cannot be used" in texts(at.sidebar.error) and not at.image
    at.sidebar.selectbox(key="w_run").set_value("empty").run()
    assert "has no snapshot yet" in texts(at.sidebar.info)


@pytest.mark.parametrize("page", [None, "generate", "report_grid", "embeddings", "scores", "mode_collapse"])
def test_every_page_explains_an_empty_or_missing_checkpoints_root(page, monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GAN_DATA", str(tmp_path / "no_data"))
    at = open_page(page)
    assert "No runs under" in texts(at.info) + texts(at.sidebar.info)
    shown = texts(at.info) + texts(at.sidebar.info)
    assert "GAN_CHECKPOINTS" in shown and "--checkpoints DIR" in shown  # which flag or variable to set
    assert "shipped evaluator" in texts(at.sidebar.caption)  # tmp_path has no evaluator/: said so
    monkeypatch.setenv("GAN_CHECKPOINTS", str(Path(tmp_path) / "missing"))
    at = open_page(page)
    assert "checkpoints folder not found" in texts(at.error) + texts(at.sidebar.error)
    assert "--checkpoints DIR" in texts(at.error) + texts(at.sidebar.error)


def test_roots_come_from_arguments_then_environment_then_defaults(tmp_path):
    from dashboard.settings import REPO, roots

    assert roots([], {}).checkpoints == REPO / "checkpoints" and roots([], {}).data == REPO / "data" / "oxford102"
    env = {"GAN_CHECKPOINTS": str(tmp_path / "env"), "GAN_DATA": str(tmp_path / "data")}
    assert roots([], env).checkpoints == (tmp_path / "env").resolve() and roots([], env).data == tmp_path / "data"
    chosen = roots(["-q", "--checkpoints", str(tmp_path / "arg")], env)  # unknown arguments are ignored
    assert chosen.checkpoints == (tmp_path / "arg").resolve() and chosen.flowers_evaluator.parent.name == "evaluator"


def test_a_checkpoints_root_without_an_evaluator_falls_back_to_the_shipped_one_and_says_so(tmp_path):
    from dashboard.settings import REPO, roots

    mine = roots(["--checkpoints", str(tmp_path)], {})
    assert mine.flowers_evaluator == REPO / "checkpoints" / "evaluator" / "flowers"
    assert mine.alignment == REPO / "checkpoints" / "evaluator" / "alignment"
    assert str(REPO / "checkpoints" / "evaluator") in mine.evaluator_note and str(tmp_path) in mine.evaluator_note
    (tmp_path / "evaluator").mkdir()
    own = roots(["--checkpoints", str(tmp_path)], {})
    assert own.flowers_evaluator == tmp_path.resolve() / "evaluator" / "flowers" and own.evaluator_note is None
