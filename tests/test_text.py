import numpy as np

from gan_core.data.text import PAD_ID, RARE_ID, Vocabulary, normalize, tokenize


def vocab():
    return Vocabulary.build(["the red flower", "a red petal", "the yellow flower", "red"], min_count=2, max_len=5)


def test_normalize_splits_punctuation_and_folds_case():
    assert normalize("Inside/Center petal.") == "inside center petal"
    assert tokenize("leaves are green in color,petals are PINK") == [
        "leaves", "are", "green", "in", "color", "petals", "are", "pink"]


def test_vocabulary_has_pad_and_rare_and_min_count():
    v = vocab()
    assert v.words[:2] == ["<PAD>", "<RARE>"]
    assert "red" in v.index and "flower" in v.index and "the" in v.index
    assert "yellow" not in v.index  # seen once < min_count


def test_encode_pads_and_maps_unknown_to_rare():
    e = vocab().encode("the purple flower")
    assert e.length == 3 and e.unknown == 1
    assert e.ids[1] == RARE_ID and list(e.ids[3:]) == [PAD_ID, PAD_ID]


def test_encode_is_total_on_odd_input():
    v = vocab()
    for text in ["", "   \t\n", "!!! ... ???", "\x00\x07\x1b"]:
        e = v.encode(text)
        assert e.length == 0 and not e.ids.any()
    e = v.encode("zzz qqq")  # all unknown: defined, flagged
    assert e.length == 2 and e.unknown == 2
    long = v.encode("red " * 5000)
    assert long.length == 5 and long.truncated == 4995 and (long.ids == v.index["red"]).all()
    accented = v.encode("Rédé FLÖWER")  # accents fold to ASCII
    assert accented.ids[1] == v.index["flower"]
    emoji = v.encode("red 🌸 flower\u200b")
    assert emoji.length == 2


def test_roundtrip_json(tmp_path):
    v = vocab()
    v.save(tmp_path / "vocab.json")
    w = Vocabulary.load(tmp_path / "vocab.json")
    assert w.words == v.words and w.max_len == v.max_len
    ids, lengths = w.encode_batch(["red flower", ""])
    assert ids.shape == (2, 5) and list(lengths) == [2, 0]
    assert w.decode(ids[0]) == "red flower"
    assert np.array_equal(ids[0], v.encode("red flower").ids)
