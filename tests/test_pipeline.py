import numpy as np
import pytest
from synthetic import make_source

from gan_core.data.dataset import PipelineConfig, PreparedDataset, epoch_plan, make_pipeline
from gan_core.data.prepare import PrepareConfig, prepare


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    prepare(make_source(root / "src", per_class=12), root / "data", PrepareConfig(sizes=(64, 76)), progress=False)
    return PreparedDataset(root / "data")


def test_batches_have_the_right_shapes_and_ranges(tiny):
    batches = list(make_pipeline(tiny, PipelineConfig(batch_size=8), epoch=0))
    assert len(batches) == len(tiny.train_rows) // 8
    b = batches[0]
    assert b["images"].shape == (8, 64, 64, 3) and b["images"].dtype.name == "float32"
    assert -1.0 <= float(np.min(b["images"])) and float(np.max(b["images"])) <= 1.0
    assert b["captions"].shape == (8, 20) and b["wrong_captions"].shape == (8, 20)


def test_plan_pairs_right_and_wrong_captions(tiny):
    plan = epoch_plan(tiny, tiny.train_rows, PipelineConfig(batch_size=8), epoch=3, crop_size=76)
    caption_rows = tiny.captions["row"].to_numpy()
    assert (caption_rows[plan["caption"]] == plan["row"]).all()  # matching caption belongs to the image
    assert (caption_rows[plan["wrong_caption"]] != plan["row"]).all()  # mismatching one never does
    assert set(plan["row"]) <= set(tiny.train_rows)
    assert plan["offset_x"].max() <= 12 and plan["flip"].any() and not plan["flip"].all()


def test_deterministic_for_a_seed_and_different_across_epochs(tiny):
    cfg = PipelineConfig(batch_size=8, seed=7)
    a = [b["images"].numpy() for b in make_pipeline(tiny, cfg, epoch=1)]
    b = [b["images"].numpy() for b in make_pipeline(tiny, cfg, epoch=1)]
    c = [b["images"].numpy() for b in make_pipeline(tiny, cfg, epoch=2)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_without_augmentation_images_are_the_stored_ones(tiny):
    b = next(iter(make_pipeline(tiny, PipelineConfig(batch_size=4, augment=False), epoch=0)))
    plan = epoch_plan(tiny, tiny.train_rows, PipelineConfig(batch_size=4, augment=False), 0, 64)
    stored = tiny.images(64)[plan["row"][:4]].astype(np.float32) / 127.5 - 1.0
    assert np.allclose(b["images"].numpy(), stored, atol=1e-6)


def test_the_pipeline_runs_without_the_autotune_thread(tiny):
    # Dropping a pipeline whose autotune thread was running stalled training up to 37 s per epoch
    # (benchmarks/epoch_boundary.py); the loop builds one pipeline per epoch.
    pipe = make_pipeline(tiny, PipelineConfig(batch_size=8), epoch=0)
    assert pipe.options().autotune.enabled is False
    assert len(list(pipe)) == len(tiny.train_rows) // 8
