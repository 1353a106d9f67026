"""The Report grid page in a real browser at 1280x800 (headless Chromium over DevTools): a grid given by
the URL (?grid=...) is restored, the exported PNG's preview sits above the fold, and the primary
button's label is not cut. Saves a screenshot (REPORT_GRID_SCREENSHOT, else a temporary file)."""

from __future__ import annotations

import os
import urllib.parse

import pytest
from dashboard_fixtures import workspace  # noqa: F401  (pytest fixture)
from test_dashboard_browser import CHROMIUM, Chromium, server  # noqa: F401  (pytest fixture)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed")]


@pytest.fixture(scope="module")
def small_browser():
    chromium = Chromium(width=1280, height=800)
    yield chromium
    chromium.close()


def test_report_grid_at_1280x800(server, small_browser, workspace, tmp_path):  # noqa: F811
    from gan_core.data.dataset import PreparedDataset
    from gan_core.explore.grid_state import GridState

    ids = [int(i) for i in PreparedDataset(workspace.data).test_captions["ID"]][:4]
    state = GridState.default(ids=ids + [0])
    state.set_row(4, "a flower with yellow petals")
    state.set_seed(1, 2, 12)
    state.lock_column(0, True)
    url = f"{server}/report_grid?grid={urllib.parse.quote(state.to_query())}"
    html = small_browser.load(url, ["Report grid", "The PNG that Download PNG saves", "Re-roll unlocked"])
    assert "Traceback" not in html and "not among the" not in html
    small_browser.wait_until("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 1")
    geometry = small_browser.evaluate("""(() => {
        const img = document.querySelector('[data-testid="stImage"] img');
        const box = img.getBoundingClientRect();
        const button = [...document.querySelectorAll('button')].find(b => b.innerText.includes('Re-roll unlocked'));
        const label = button.querySelector('p') || button;
        return {top: box.top, bottom: box.bottom, width: box.width, natural: img.naturalWidth,
                cut: label.scrollWidth > label.clientWidth + 1, label: button.innerText};
    })()""")
    path = os.environ.get("REPORT_GRID_SCREENSHOT") or str(tmp_path / "report_grid.png")
    small_browser.screenshot(path)
    assert geometry["bottom"] <= 800 and geometry["width"] > 300, geometry  # the whole preview above the fold
    assert not geometry["cut"] and geometry["label"].strip() == "Re-roll unlocked", geometry
    # Column 3 holds seed 12 in one row: its Columns-tab entry says "mixed".
    small_browser.click_until("Columns", "document.body.innerText.includes('mixed')", selector='[role="tab"]')
