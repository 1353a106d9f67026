"""The Projector page and the latent controls of Generate & interpolate through streamlit's AppTest,
on the tiny dashboard workspace (slow tier: building it trains a tiny run and evaluator)."""

import subprocess
import time

import numpy as np
import pytest
from dashboard_fixtures import ROOT, app_env, workspace  # noqa: F401  (pytest fixtures)
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "dashboard" / "app.py")
TIMEOUT = 240

pytestmark = pytest.mark.slow


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def git_status() -> str:
    """What git shows under the folders a page could write into (others edit the rest of the tree)."""
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all", "--", "checkpoints", "data"],
                          cwd=ROOT, capture_output=True, text=True, check=False).stdout


def test_projector_runs_behind_its_button_and_coverage_reads_the_cache(app_env):
    from gan_core.eval.evaluators import get_evaluator
    from gan_core.explore import coverage
    from gan_core.explore.projector import ProjectorConfig
    from gan_core.sample.sampler import Sampler
    from gan_core.sample.snapshot import list_snapshots

    at = open_page("projector")
    assert at.title[0].value == "Projector"
    assert "projector" not in at.session_state  # a page load projects nothing
    assert "Press Project" in texts(at.caption)
    assert "No coverage report" in texts(at.info)
    at.slider(key="proj_steps").set_value(10).run()
    at.button(key="proj_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    result = at.session_state["projector"]
    assert len(result["losses"]) == 10 and result["image"].shape == (64, 64, 3)
    labels = {b.label for b in at.download_button}
    assert {"Save latent", "Download GIF"} <= labels
    shown = [e.captions for e in at.image]
    assert ["target"] in shown and ["projection"] in shown and ["target | projection while optimising"] in shown
    # a coverage report cached next to the snapshot (as the CLI leaves it) shows on the next run
    snapshot = list_snapshots(app_env.tiny_run)[-1]
    sampler = Sampler.load(snapshot)
    evaluator = get_evaluator("flowers", checkpoint=app_env.checkpoints / "evaluator" / "flowers")
    config = ProjectorConfig(steps=2)
    from gan_core.data.dataset import PreparedDataset

    result = coverage.measure(sampler, PreparedDataset(app_env.data), evaluator, 1, config)
    coverage.write_cached(snapshot, coverage.cache_key("tiny", evaluator.identity, 1, 0, config), result)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Reachable" in [m.label for m in at.metric]
    assert "worst-covered" in texts(at.subheader)


def test_generate_page_directions_sliders_and_latent_save(app_env):
    before = git_status()
    at = open_page("generate")
    assert "Find directions" in [b.label for b in at.button]
    assert not [s for s in at.slider if s.key and s.key.startswith("dir_pc")]  # nothing fitted on a page load
    at.button(key="dir_fit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    sliders = [s.key for s in at.slider if s.key and s.key.startswith("dir_pc")]
    assert sliders == [f"dir_pc{k}" for k in range(5)]
    shown = len(at.image)
    at.slider(key="dir_pc0").set_value(2.0).run()
    assert not at.exception and len(at.image) == shown + 1
    edited = next(e for e in at.image if e.captions and e.captions[0] == "seed 0, edited")
    assert len(edited.value) == 8 and edited.value[0] != at.image[0].value[0]
    assert "Save latent" in [b.label for b in at.download_button]
    # a layer range is not one z: saving is refused with a note
    at.select_slider(key="dir_layers").set_value((2, 3)).run()
    assert "not one z" in texts(at.caption)
    # name the edit: it gets its own slider
    at.select_slider(key="dir_layers").set_value((0, 4)).run()
    at.text_input(key="dir_name").set_value("first").run()
    at.button(key="dir_save").click().run()
    assert "first" in at.session_state["gen_named_directions"]
    at.run()
    assert "dir_named_first" in [s.key for s in at.slider]
    assert git_status() == before  # caches go next to the tiny snapshots, outside the repository
    assert np.isfinite(at.session_state["gen_named_directions"]["first"]["vector"]).all()


def test_projector_page_in_a_real_browser_at_1280x800(tmp_path, real_data):
    """On the shipped checkpoint: project a test image in Chromium and screenshot the result and the
    coverage tab (PROJECTOR_SCREENSHOTS=DIR keeps the PNGs for a person to look at)."""
    import os
    import sys

    from test_dashboard_browser import CHROMIUM, Chromium, free_port, wait_healthy

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed")
    keep = os.environ.get("PROJECTOR_SCREENSHOTS")
    shots = __import__("pathlib").Path(keep) if keep else tmp_path
    before = git_status()
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if k != "GAN_CHECKPOINTS"}, "GAN_DATA": str(real_data)}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(port)],
                              cwd=ROOT, env={**env, "TF_CPP_MIN_LOG_LEVEL": "2"}, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    browser = None
    try:
        wait_healthy(url, server)
        browser = Chromium(1280, 800)
        html = browser.load(url + "/projector", ["Projector", "Press Project"], timeout=180)
        assert "Traceback" not in html
        browser.click_until("Project", r"/Projecting|Step \d+ of|Save latent/.test(document.body.innerText)")
        browser.wait_until("document.body.innerText.includes('Save latent')", timeout=240)
        time.sleep(2)
        browser.evaluate("[...document.querySelectorAll('h2, h3')].find(h => h.innerText.includes('Result'))"
                         ".scrollIntoView({block: 'start'})")
        time.sleep(1)
        browser.screenshot(str(shots / "projector_result.png"))
        text = browser.evaluate("document.body.innerText")
        assert "Save latent" in text and "Traceback" not in text
        browser.click_until("Coverage", "document.body.innerText.includes('Reachable') || "
                            "document.body.innerText.includes('No coverage report')", selector="[role=tab]")
        browser.evaluate("document.querySelector('[role=tablist]').scrollIntoView({block: 'start'})")
        time.sleep(2)
        browser.screenshot(str(shots / "projector_coverage.png"))
        assert "Traceback" not in browser.evaluate("document.body.innerText")
    finally:
        if browser is not None:
            browser.close()
        server.terminate()  # our own server, by its PID
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    assert git_status() == before  # the page wrote nothing git shows


def test_a_latent_file_loads_back_on_generate(app_env):
    """What the Generate page's uploader calls: the saved latent drawn again, bit for bit."""
    from dashboard import projector_data
    from gan_core import UserError
    from gan_core.sample.sampler import Sampler
    from gan_core.sample.snapshot import list_snapshots

    snapshot = str(list_snapshots(app_env.tiny_run)[-1])
    sampler = Sampler.load(snapshot)
    caption = "this flower has white petals"
    expected = sampler.generate([caption], [4], truncation=0.8)[0]
    text = projector_data.latent_json(sampler.noise([4])[0], caption, 0.8, snapshot, "generate seed 4")
    image, note, shown_caption, psi = projector_data.render_latent(snapshot, text)
    assert np.array_equal(image, expected) and note is None and (shown_caption, psi) == (caption, 0.8)
    wrong = text.replace('"z": [', '"z": [0.5, ', 1)  # one value too many: another architecture
    with pytest.raises(UserError, match="another architecture"):
        projector_data.render_latent(snapshot, wrong)
