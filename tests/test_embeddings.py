"""Caption embeddings helpers (gan_core.explore.embeddings): colour words, neighbours, UMAP cache."""

import conftest  # noqa: F401
import numpy as np
import pytest
from tiny import tiny_dataset

from gan_core import UserError
from gan_core.data.dataset import PreparedDataset
from gan_core.explore.embeddings import (
    NO_COLOUR,
    cached_projection,
    caption_table,
    colour_word,
    cosine_similarity,
    nearest_neighbours,
    place_new,
    umap_2d,
)


def test_colour_word_takes_the_first_colour_family():
    assert colour_word("This flower has VIOLET petals and a yellow centre") == "purple"
    assert colour_word("petals: crimson/white") == "red"
    assert colour_word("a flower with long stamens") == NO_COLOUR
    assert colour_word("reddish petals") == NO_COLOUR  # whole words only


def test_nearest_neighbours_and_cosine_match_a_loop():
    rng = np.random.default_rng(0)
    emb, query = rng.normal(size=(20, 5)), rng.normal(size=5)
    sims = [float(e @ query / np.linalg.norm(e) / np.linalg.norm(query)) for e in emb]
    idx, got = nearest_neighbours(emb, query, k=4)
    assert list(idx) == list(np.argsort(sims)[::-1][:4])
    np.testing.assert_allclose(got, sorted(sims, reverse=True)[:4], rtol=1e-9)
    assert cosine_similarity(emb[0], emb[0]) == pytest.approx(1.0)
    idx, _ = nearest_neighbours(emb, emb[3], k=3, exclude=3)
    assert 3 not in idx and len(idx) == 3


def test_place_new_puts_a_copy_next_to_its_twin():
    rng = np.random.default_rng(1)
    emb, layout = rng.normal(size=(30, 8)), rng.normal(size=(30, 2)).astype(np.float32)
    placed = place_new(emb, layout, emb[[7]], k=1)
    np.testing.assert_allclose(placed[0], layout[7], rtol=1e-6)


def test_umap_needs_a_few_points():
    with pytest.raises(UserError, match="at least 4"):
        umap_2d(np.zeros((3, 4), np.float32))


def test_cached_projection_runs_once_and_keeps_the_layout_on_disk(tmp_path):
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(3, 16))
    captions = [f"caption {i}" for i in range(45)]
    vectors = {c: centres[i % 3] + 0.05 * rng.normal(size=16) for i, c in enumerate(captions)}
    calls, messages = [], []

    def encode(batch):
        calls.append(len(batch))
        return np.stack([vectors[c] for c in batch])

    emb, layout = cached_projection(tmp_path, captions, encode, "encoder-a",
                                    progress=lambda f, m: messages.append((f, m)))
    assert emb.shape == (45, 16) and layout.shape == (45, 2) and np.isfinite(layout).all()
    assert messages[-1][0] == 1.0 and any("UMAP" in m for _, m in messages)
    assert len(list(tmp_path.glob("umap_*.json"))) == 1
    messages.clear()
    again = cached_projection(tmp_path, captions, encode, "encoder-a", progress=lambda f, m: messages.append((f, m)))
    assert not any("UMAP" in m for _, m in messages)  # the layout came from the cache
    np.testing.assert_array_equal(again[1], layout)
    np.testing.assert_array_equal(again[0], emb)  # embeddings are recomputed, equal
    # another text encoder: another map
    cached_projection(tmp_path, captions, encode, "encoder-b")
    assert len(list(tmp_path.glob("umap_*.json"))) == 2
    # the three clusters stay apart in 2-D: each point's nearest neighbour is from its own cluster
    d = np.linalg.norm(layout[:, None] - layout[None], axis=-1) + np.eye(45) * 1e9
    assert np.mean(d.argmin(1) % 3 == np.arange(45) % 3) > 0.9


def test_caption_table_of_the_tiny_dataset(tmp_path):
    dataset = PreparedDataset(tiny_dataset(tmp_path))
    table = caption_table(dataset, train_sample=50, seed=0)
    assert set(table["source"]) == {"test", "train"}
    assert (table["source"] == "test").sum() == len(dataset.test_captions)
    assert (table["source"] == "train").sum() == 50
    assert set(table["colour"]) <= {"red", "yellow", "blue", "white"}
    assert (table["class"] >= 1).all()  # every caption joined to its (visualisation-only) class
    reds = table[table["colour"] == "red"]
    assert reds["class"].nunique() == 1  # the synthetic set's classes are its colours
    assert caption_table(dataset, train_sample=50, seed=0).equals(table)
