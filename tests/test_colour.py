"""The colour namer and the real images it is calibrated on."""

import numpy as np

from gan_core.eval.colour import PALETTE, dominant_colour, single_colour_rows


def test_single_colour_rows_keeps_rows_whose_captions_agree_on_one_colour():
    rows = [0, 0, 1, 1, 2, 3, 4]
    texts = ["this flower has Purple petals", "purple and spiky", "red petals", "a yellow center with red petals",
             "no colour word here", "white petals", "the reddish petals are white"]
    groups = single_colour_rows(rows, texts)
    assert set(groups) == set(PALETTE)
    # row 1 names two colours in one caption, row 2 none; "reddish" is not the word red
    assert groups["purple"] == [0] and groups["white"] == [3, 4] and groups["red"] == [] and groups["yellow"] == []


def test_single_colour_rows_drops_rows_whose_captions_disagree():
    assert single_colour_rows([7, 7], ["pink petals", "purple petals"]) == {name: [] for name in PALETTE}


def test_dominant_colour_names_flat_palette_images():
    for name, rgb in PALETTE.items():
        assert dominant_colour(np.full((64, 64, 3), rgb, np.uint8)) == name
