"""The Test captions page through streamlit's AppTest on the shipped checkpoints and the real data:
a page load reads cached tables only (no pass, no file written), filters narrow the rows, sorting
works, the heavy pass runs behind its button, and a caption's detail sends it to the report grid."""

from __future__ import annotations

import subprocess

import pytest
from conftest import ROOT, session_lock
from streamlit.testing.v1 import AppTest

from gan_core.eval import per_caption as module
from gan_core.eval.per_caption import Source

APP = str(ROOT / "dashboard" / "app.py")
SNAPSHOTS = ROOT / "checkpoints" / "default" / "snapshots"
TIMEOUT = 240
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page_env(real_data, monkeypatch_module, tmp_path_factory):
    """The shipped checkpoints and the real data, with the default A (epoch 270) and B (the snapshot
    before it, epoch 240) tables cached as the page's button would leave them (under the session's
    lock: test_per_caption's worker builds the same epoch 270 table)."""
    with session_lock(tmp_path_factory, "per_caption"):
        for epoch in ("0270", "0240"):
            module.per_caption(Source.parse(SNAPSHOTS / f"epoch_{epoch}"), real_data)
    monkeypatch_module.setenv("GAN_CHECKPOINTS", str(ROOT / "checkpoints"))
    monkeypatch_module.setenv("GAN_DATA", str(real_data))
    return real_data


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("views/test_captions.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def matched(at) -> int:
    line = next(c.value for c in at.caption if "captions match" in str(c.value))
    return int(line.split(" of ")[0])


def shown(at):
    return at.dataframe[0].value


def disk_state() -> tuple:
    """Every file under the shipped checkpoints and what git says about the working tree there."""
    files = tuple(sorted((str(p), p.stat().st_mtime_ns) for p in (ROOT / "checkpoints").rglob("*") if p.is_file()))
    status = subprocess.run(["git", "status", "--porcelain", "--", "checkpoints"], cwd=ROOT, capture_output=True,
                            text=True, check=True).stdout
    return files, status


def test_a_page_load_computes_nothing_and_writes_nothing(page_env):
    before, passes = disk_state(), module.passes_run
    at = open_page()
    assert at.title[0].value == "Test captions" and matched(at) == 819
    table = shown(at)
    assert len(table) == 100 and {"real", "A", "B", "term_a", "term_b", "gap", "caption"} <= set(table.columns)
    assert all(str(uri).startswith("data:image/png;base64,") for uri in table["A"])
    assert list(table["term_a"]) == sorted(table["term_a"], reverse=True)  # worst first by default
    assert {m.label for m in at.metric} >= {"score A", "score B", "A wins", "B wins"}
    # a source without a cached table: the page offers the pass and does not run it
    at.number_input(key="tc_seed_B").set_value(987654).run()
    assert not at.exception and not at.dataframe
    assert "No per-caption table yet for B" in at.info[0].value
    assert any(b.label == "Compute the per-caption tables" for b in at.button)
    assert module.passes_run == passes and disk_state() == before


def test_filters_narrow_the_rows_and_sorting_works(page_env):
    at = open_page()
    at.multiselect(key="tc_colours").set_value(["red"]).run()
    red = matched(at)
    assert 0 < red < 819 and all("red" in c.split() for c in shown(at)["colours"])
    at.checkbox(key="tc_disagree").check().run()
    disagree = matched(at)
    assert 0 < disagree < red and (shown(at)["top1_a"] != shown(at)["real_top1"]).all()
    at.multiselect(key="tc_colours").set_value([]).run()
    at.checkbox(key="tc_disagree").uncheck().run()
    at.checkbox(key="tc_loses").check().run()
    loses = matched(at)
    assert 0 < loses < 819 and (shown(at)["outcome"] == "B wins").all() and (shown(at)["gap"] > 0).all()
    at.checkbox(key="tc_loses").uncheck().run()
    at.text_input(key="tc_text").set_value("purple").run()
    assert 0 < matched(at) < 819 and all("purple" in c.lower() for c in shown(at)["caption"])
    at.text_input(key="tc_text").set_value("").run()
    at.multiselect(key="tc_classes").set_value([77]).run()
    assert 0 < matched(at) < 100 and (shown(at)["real_class"] == 77).all()
    at.multiselect(key="tc_classes").set_value([]).run()
    at.slider(key="tc_range").set_value((0.0, 0.2)).run()
    assert 0 < matched(at) < 819 and (shown(at)["term_a"] <= 0.2).all()
    at.slider(key="tc_range").set_value((0.0, 0.6)).run()
    assert matched(at) == 819
    at.selectbox(key="tc_sort").set_value("id").run()
    at.toggle(key="tc_descending").set_value(False).run()
    ids = list(shown(at)["id"])
    assert ids == sorted(ids) and ids[0] == min(ids)
    at.selectbox(key="tc_sort").set_value("gap").run()
    gaps = list(shown(at)["gap"])
    assert gaps == sorted(gaps) and gaps[0] < 0
    assert not at.exception


def test_the_detail_shows_seeds_and_sends_to_the_report_grid(page_env):
    at = open_page()
    worst = int(shown(at)["id"].iloc[0])
    at.selectbox(key="tc_detail").set_value(worst).run()
    assert not at.exception
    captions = [c for image in at.image for c in image.captions]
    assert any(c.startswith("real (class") for c in captions) and any("nearest training image" in c for c in captions)
    assert [c for c in captions if c.startswith("A, seed")] == [f"A, seed {s}" for s in range(8)]
    at.button(key="tc_send").click().run()
    from dashboard.grid_state import KEY

    assert str(worst) in at.session_state[KEY].rows
    assert any("Report grid" in s.value for s in at.success)


def test_the_button_computes_a_missing_table(page_env):
    from gan_core.data.dataset import PreparedDataset
    from gan_core.eval.evaluators.flowers import DEFAULT_PATH
    from gan_core.eval.per_caption import cache_file
    from gan_core.storage import file_identity

    source = Source.parse(SNAPSHOTS / "epoch_0240", seed=3)
    path, _ = cache_file(source, PreparedDataset(page_env), file_identity(DEFAULT_PATH / "weights.npz"))
    path.unlink(missing_ok=True)  # left by an earlier run: the button must have work to do
    at = open_page()
    at.number_input(key="tc_seed_B").set_value(3).run()
    passes = module.passes_run
    try:
        at.button(key="tc_compute").click().run()
        assert not at.exception and module.passes_run == passes + 1 and path.is_file()
        assert matched(at) == 819 and shown(at)["term_b"].notna().all()
    finally:
        path.unlink(missing_ok=True)


def test_a_folder_as_b_with_missing_ids(page_env, tmp_path, monkeypatch):
    """B a folder of inference images (some IDs missing): computed behind the button, kept in the
    session only (nothing written into the folder), the missing captions said and shown."""
    import shutil

    from PIL import Image

    root = tmp_path / "checkpoints"  # the app reads folders inside its checkpoints root: a copy of epoch 270
    shutil.copytree(ROOT / "checkpoints" / "default", root / "default",
                    ignore=lambda folder, names: [n for n in names if n.startswith("epoch_") and n != "epoch_0270"])
    monkeypatch.setenv("GAN_CHECKPOINTS", str(root))
    shipped = module.per_caption(Source.parse(root / "default" / "snapshots" / "epoch_0270"), page_env)
    folder = root / "mine"
    folder.mkdir()
    for k in range(0, 819, 3):  # 273 images, the rest missing; names in both forms
        test_id = int(shipped.table["id"].iloc[k])
        Image.fromarray(shipped.images[k]).save(folder / f"inference_{test_id:04d}.jpg" if k % 2 else
                                                folder / f"inference_{test_id}.jpg", quality=95)
    at = open_page()
    at.radio(key="tc_kind_B").set_value("Folder").run()
    at.text_input(key="tc_folder_B").set_value(str(folder)).run()
    assert not at.dataframe and any(b.label == "Compute the per-caption tables" for b in at.button)
    at.button(key="tc_compute").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "546 caption(s) have no image in A (0) or B (546)" in at.warning[0].value
    table = shown(at)
    assert matched(at) == 819 and table["term_b"].isna().sum() > 0 and table["B"].isna().sum() > 0
    assert (table["outcome"] == "left out").sum() == table["term_b"].isna().sum()
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith("inference_")) == []
