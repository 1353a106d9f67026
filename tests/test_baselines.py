"""The real-data reference of the diversity measures (gan_core.eval.baselines.same_class_grid) on
the tiny prepared data set."""

import conftest  # noqa: F401
import numpy as np
from tiny import tiny_dataset

from gan_core.data.dataset import PreparedDataset, load_class_ids
from gan_core.eval.baselines import caption_classes, same_class_grid


def test_same_class_grid_draws_training_images_of_each_captions_class(tmp_path_factory):
    dataset = PreparedDataset(tiny_dataset(tmp_path_factory.mktemp("baselines")))
    classes = load_class_ids(dataset.root)
    own = dataset.captions[dataset.captions["split"] == "train"].drop_duplicates("text").iloc[[0, 5]]
    captions = list(own["text"]) + ["a flower that no caption describes exactly"]
    found = caption_classes(dataset, captions)
    assert list(found[:2]) == list(classes[own["row"]])  # a data-set caption: its own image's class
    assert found[2] in set(classes[dataset.train_rows])  # a free caption: the retrieved caption's class
    grid, grid_classes = same_class_grid(dataset, captions, per_caption=4)
    assert grid.shape == (3, 4, 64, 64, 3) and grid.dtype == np.uint8 and list(grid_classes) == list(found)
    images = np.asarray(dataset.images(64))
    train = np.asarray(dataset.train_rows)
    for c, cls in enumerate(found):
        pool = images[train[classes[train] == cls]]
        for tile in grid[c]:
            assert any(np.array_equal(tile, p) for p in pool)  # a real training image of that class
    again, _ = same_class_grid(dataset, captions, per_caption=4)
    assert np.array_equal(grid, again)  # seeded
