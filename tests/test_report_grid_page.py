"""The Report grid page through streamlit's AppTest on the tiny workspace: the grid's state survives a
page switch and a refresh (the URL), save -> load round-trips, locks hold under everything, a typed
seed lands in its cell, a bad row leaves the others drawn."""

import pandas as pd
import pytest
from dashboard_fixtures import ROOT, app_env, workspace  # noqa: F401  (pytest fixtures)
from streamlit.testing.v1 import AppTest

from dashboard.grid_state import KEY, QUERY_KEY
from gan_core.explore.grid_state import GridState

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 240
pytestmark = pytest.mark.slow


def open_grid(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page("views/report_grid.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def cells(at) -> pd.DataFrame:
    frame = next(d.value for d in at.dataframe if "seed" in getattr(d.value, "columns", []))
    return frame.set_index(["row", "column"])


def state(at) -> GridState:
    return at.session_state[KEY]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


@pytest.fixture()
def ids(app_env):  # noqa: F811
    from gan_core.data.dataset import PreparedDataset

    return [int(i) for i in PreparedDataset(app_env.data).test_captions["ID"]][:5]


def fill_rows(at, ids) -> None:
    for r in range(4):
        at.text_input(key=f"report_row_{r}").set_value(str(ids[r])).run()
    at.text_input(key="report_row_4").set_value("a flower with yellow petals").run()


def test_state_survives_a_page_switch_and_a_refresh(ids):
    at = open_grid()
    assert "not among the" in texts(at.error)  # the competition IDs are not in the tiny set: said per row
    fill_rows(at, ids)
    assert not at.error and len(cells(at)) == 25
    at.selectbox(key="cell_row").set_value(2).run()
    at.selectbox(key="cell_col").set_value(3).run()
    at.number_input(key="cell_seed").set_value(12).run()  # a typed seed lands in its cell
    assert cells(at).loc[(3, 4), "seed"] == 12 and (cells(at).xs(4, level="column")["seed"] == 3).sum() == 4
    at.toggle(key="cell_lock").set_value(True).run()
    at.checkbox(key="lock_0").check().run()
    before = cells(at).copy()

    at.switch_page("views/generate.py").run()
    at.switch_page("views/report_grid.py").run()
    assert not at.exception
    after = cells(at)
    pd.testing.assert_frame_equal(after, before)
    assert at.text_input(key="report_row_4").value == "a flower with yellow petals"
    assert at.checkbox(key="lock_0").value and state(at).cells[2][3].locked
    at.button(key="reroll_all").click().run()  # the locks came back with the page: they hold
    rolled = cells(at)
    assert (rolled.xs(1, level="column")["seed"] == 0).all() and rolled.loc[(3, 4), "seed"] == 12
    assert (rolled.xs(2, level="column")["seed"] != 1).all()

    link = at.query_params[QUERY_KEY]  # a refresh: a new session with the page's URL
    link = link[0] if isinstance(link, list) else link
    fresh = open_grid({QUERY_KEY: link})
    pd.testing.assert_frame_equal(cells(fresh), rolled)
    assert state(fresh).rolls == state(at).rolls  # the re-roll stream goes on: no seed is offered twice
    fresh.button(key="reroll_all").click().run()
    new = set(cells(fresh)["seed"]) - set(rolled["seed"])
    at.button(key="reroll_all").click().run()
    assert new == set(cells(at)["seed"]) - set(rolled["seed"])  # same stream position in both


def test_locks_hold_under_reroll_reset_psi_and_best_of(ids):
    at = open_grid()
    fill_rows(at, ids)
    at.checkbox(key="lock_1").check().run()
    at.selectbox(key="cell_row").set_value(0).run()
    at.selectbox(key="cell_col").set_value(4).run()
    at.toggle(key="cell_lock").set_value(True).run()
    locked = cells(at).loc[[(r, 2) for r in range(1, 6)] + [(1, 5)]]
    images = state(at).to_json()
    for step in (lambda: at.button(key="reroll_all").click().run(),
                 lambda: at.button(key="reroll_col_0").click().run(),
                 lambda: at.button(key="reset_seeds").click().run(),
                 lambda: at.slider(key="report_psi").set_value(0.7).run(),
                 lambda: at.selectbox(key="report_best_of").set_value(2).run()):
        step()
        assert not at.exception
        pd.testing.assert_frame_equal(cells(at).loc[locked.index], locked, check_dtype=False)
    assert images != state(at).to_json()
    now = cells(at)
    assert (now.loc[(2, 1), "truncation"], now.loc[(2, 1), "best_of"]) == (0.7, 2)  # unlocked cells took them
    assert at.button(key="reroll_col_1").disabled and at.number_input(key="cell_seed").disabled
    at.button(key="report_undo").click().run()  # undo: best of back to 1 on the unlocked cells
    assert cells(at).loc[(2, 1), "best_of"] == 1 and cells(at).loc[(2, 1), "truncation"] == 0.7


def test_save_then_load_round_trips(ids):
    at = open_grid()
    fill_rows(at, ids)
    at.button(key="reroll_all").click().run()
    at.checkbox(key="lock_2").check().run()
    saved = state(at).to_json()  # what "Save grid (JSON)" downloads
    header_only = ",".join(map(str, cells(at).reset_index().columns))  # a CSV without cells: a bad file
    at.checkbox(key="lock_2").uncheck().run()
    at.text_input(key="report_row_0").set_value("a white flower").run()
    at.button(key="reset_seeds").click().run()
    at.file_uploader(key="report_upload").set_value(("grid.json", saved.encode(), "application/json")).run()
    loaded = GridState.from_json(saved)
    assert not at.exception and state(at).rows == loaded.rows and state(at).cells == loaded.cells
    assert state(at).column_locks == loaded.column_locks and state(at).rolls == loaded.rolls
    # the CSV (Download CSV) loads back too: same rows and seeds
    exported = cells(at).reset_index().to_csv(index=False)
    at.button(key="reset_seeds").click().run()
    at.text_area(key="report_paste").set_value(exported).run()
    at.button(key="report_paste_load").click().run()
    assert [c.seed for row in state(at).cells for c in row] == [c.seed for row in GridState.from_json(saved).cells
                                                               for c in row]
    before = state(at).to_json()
    at.text_area(key="report_paste").set_value(header_only).run()  # a malformed file: one line, nothing changes
    at.button(key="report_paste_load").click().run()
    assert "the grid CSV has no cells" in texts(at.info) and not at.exception and state(at).to_json() == before


def test_a_bad_row_leaves_the_others_drawn(ids):
    at = open_grid()
    fill_rows(at, ids)
    at.text_input(key="report_row_1").set_value("99999").run()
    assert "Row 2: test ID 99999 is not among" in texts(at.error) and not at.exception
    shown = cells(at)
    assert sorted(set(shown.index.get_level_values("row"))) == [1, 3, 4, 5] and len(shown) == 20
    assert at.image and "rows with errors left out" in at.image[0].captions[0]
    at.text_input(key="report_row_3").set_value("?!").run()  # a caption without words: its own row too
    assert "Row 4: the caption '?!' is empty" in texts(at.error) and len(cells(at)) == 15


def test_generate_takes_a_link_and_sends_to_the_grid(ids):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["caption"] = "a flower with red petals"
    at.query_params["seed"] = "12"
    at.run()
    at.switch_page("views/generate.py").run()
    assert not at.exception and at.text_input(key="gen_caption").value == "a flower with red petals"
    assert at.image[0].captions == ["seed 12"]
    at.selectbox(key="gen_send_row").set_value(2).run()
    at.selectbox(key="gen_send_target").set_value("the cell in column 2").run()
    at.button(key="gen_send").click().run()
    assert "seed 12 went into row 3, column 2" in texts(at.success)
    at.switch_page("views/report_grid.py").run()
    assert at.text_input(key="report_row_2").value == "a flower with red petals"
    assert state(at).cells[2][1].seed == 12 and state(at).cells[2][0].seed == 0
