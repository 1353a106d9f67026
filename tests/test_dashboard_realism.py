"""The Scores page's realism numbers: computed only behind their button (never on page load), then
shown as metrics and in the history table from the cache."""

import pytest
from dashboard_fixtures import app_env, workspace  # noqa: F401  (pytest fixtures)
from test_dashboard_pages import open_page, texts

pytestmark = pytest.mark.slow  # the tiny evaluator, then the Inception network on ~100 images


def test_realism_runs_behind_its_button_and_is_read_back(app_env, workspace):  # noqa: F811
    snapshot = workspace.tiny_run / "snapshots" / "epoch_0002"
    before = sorted(snapshot.glob("realism_*.json"))
    at = open_page("scores")
    assert sorted(snapshot.glob("realism_*.json")) == before  # page load computed nothing
    at.button(key="realism_snapshot").click().run()
    assert not at.error, texts(at.error)
    names = {m.label for m in at.metric}
    assert {"Inception-FID", "KID", "precision", "recall", "sat. white"} <= names
    assert len(list(snapshot.glob("realism_*.json"))) == 1
    history = at.dataframe[-1].value
    assert {"Inception-FID", "precision", "recall", "sat. black"} <= set(history)
    assert history.loc[history["epoch"] == 2, "Inception-FID"].notna().all()
    fresh = open_page("scores")  # a new session reads the numbers back without the network
    assert "Inception-FID" in set(fresh.dataframe[-1].value)
