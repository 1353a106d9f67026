from gan_core.eval.results_table import COLUMNS, markdown_table
from scripts import results_table


def test_table_has_one_row_per_result_and_every_column():
    table = markdown_table([("real", {"score": 0.02, "fid_flowers": -1e-13, "inception_score_10": 17.1,
                                      "inception_score_10_std": 1.93}), ("noise", {"score": 0.8564})])
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].count("|") == len(COLUMNS) + 2
    assert "| real | 0.0200 |" in lines[2] and "17.10 ± 1.93" in lines[2] and "| 0.0 |" in lines[2]
    assert lines[3].startswith("| noise | 0.8564 | –")


def test_cli_reads_keys_and_reports_bad_paths(tmp_path, capsys):
    path = tmp_path / "b.json"
    path.write_text('{"real": {"score": 0.5}}')
    assert results_table.main([f"real={path}:real"]) == 0
    assert "| real | 0.5000 |" in capsys.readouterr().out
    assert results_table.main([f"x={path}:nokey"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.splitlines()) == 1, err
    assert results_table.main([f"x={tmp_path / 'missing.json'}"]) == 1
    assert capsys.readouterr().err.startswith("error:")
