"""The report grid's state object (gan_core.explore.grid_state) and its session glue
(dashboard.grid_state): locks, undo, the re-roll stream, JSON / CSV / URL round trips, bad input."""

import json

import pytest

from dashboard.grid_state import KEY, PROBLEM_KEY, QUERY_KEY, grid_state, send_to_grid, sync_query
from gan_core import UserError
from gan_core.explore.grid_state import Cell, GridState
from gan_core.explore.report_grid import GridRow, parse_grid_text, resolve_rows, state_from_csv, tiles_csv


def seeds(state):
    return state.seeds().tolist()


def test_locks_hold_under_every_change():
    state = GridState.default()
    state.lock_column(0, True)
    state.lock_cell(2, 3, True)
    state.reroll_unlocked()
    state.reroll_column(3)
    assert [row[0] for row in seeds(state)] == [0] * 5 and seeds(state)[2][3] == 3
    assert all(seeds(state)[r][3] != 3 for r in (0, 1, 3, 4))
    assert state.set_seed(2, 3, 99) is False and state.set_seed(0, 0, 99) is False and state.reroll_cell(2, 3) is False
    state.set_sampling(psi=0.7, best_of=4)
    assert (state.cells[2][3].psi, state.cells[2][3].best_of) == (1.0, 1)  # frozen by its lock
    assert (state.cells[0][1].psi, state.cells[0][1].best_of) == (0.7, 4)
    state.reset()
    assert seeds(state)[2][3] == 3 and seeds(state)[0][1] == 1 and seeds(state)[0][4] == 4
    assert state.set_row(2, "a red flower") is False and state.row_locked(2)  # the locked cell keeps its caption
    assert state.set_row(1, "a red flower") is False  # column 0 is locked: every row holds a locked cell
    state.lock_column(0, False)
    assert state.set_row(1, "a red flower") and state.rows[1] == "a red flower"


def test_undo_steps_back_one_change_at_a_time():
    state = GridState.default()
    original = state.to_json()
    state.set_seed(1, 1, 12)
    after_seed = state.to_json()
    state.lock_column(1, True)
    state.reroll_unlocked()
    assert state.undo() and state.to_json() != after_seed  # the re-roll is undone, the lock kept
    assert state.undo() and state.to_json() == after_seed
    assert state.undo() and state.to_json() == original and not state.undo()


def test_the_reroll_stream_never_repeats_after_a_round_trip():
    state = GridState.default()
    state.reroll_unlocked()
    turned_down = set(map(int, state.seeds().ravel()))
    restored = GridState.from_query(state.to_query())
    restored.reroll_unlocked()
    assert not set(map(int, restored.seeds().ravel())) & turned_down


def test_json_csv_and_query_round_trips():
    state = GridState.default()
    state.set_seed(0, 2, 12)
    state.lock_cell(0, 2, True)
    state.lock_column(4, True)
    state.set_sampling(psi=0.8)
    state.set_latent(3, 1, [0.5, -1.25, 2.0], seed=7)
    state.set_real_column(True)
    for text in (state.to_json(), state.to_json(history=True)):
        back = GridState.from_json(text)
        assert back == state and back.rolls == state.rolls
    assert GridState.from_query(state.to_query()) == state
    assert len(state.to_query()) < 600  # fits a URL comfortably
    rows = [GridRow(r, None, f"caption {r}") for r in range(5)]
    from_csv = state_from_csv(tiles_csv(state, rows))
    assert from_csv.cells[3][1].latent == (0.5, -1.25, 2.0) and from_csv.cells[0][2].locked
    assert [[(c.seed, c.psi, c.best_of, c.latent) for c in row] for row in from_csv.cells] == \
        [[(c.seed, c.psi, c.best_of, c.latent) for c in row] for row in state.cells]
    assert from_csv.rows == [f"caption {r}" for r in range(5)]


@pytest.mark.parametrize("text, message", [
    ("{ not json", "not valid JSON"),
    ('{"format": "something else"}', "not a report grid state"),
    (json.dumps({"format": "gan_core.report_grid/1", "rows": ["1"], "cells": [[{"seed": -3}]],
                 "column_locks": [False]}), "row 1, column 1: the seed must be from 0"),
    (json.dumps({"format": "gan_core.report_grid/1", "rows": ["1", "2"], "cells": [[{"seed": 1}]],
                 "column_locks": [False]}), "the cells must be 2 rows of 1 cells"),
    (json.dumps({"format": "gan_core.report_grid/1", "rows": ["1"], "cells": [[{"seed": 1, "psi": 3}]],
                 "column_locks": [False]}), "psi must be in (0, 1]"),
    ("row,column,seed\n1,1,x\n", "not a report grid CSV"),
    ("row,column,test_id,seed\n1,1,5,2\n1,1,5,3\n", "one line per cell"),
    ("a,b\n1,2\n", "not a report grid CSV"),
])
def test_a_malformed_file_is_one_line(text, message):
    with pytest.raises(UserError) as caught:
        parse_grid_text(text, "grid.json")
    assert message in str(caught.value) and "\n" not in str(caught.value) and str(caught.value).startswith("grid.json")
    with pytest.raises(UserError, match="damaged"):
        GridState.from_query("@@not base64@@")


def test_rows_resolve_one_by_one():
    state = GridState(["12", "a free caption", "", "99999"], [[Cell(0)] for _ in range(4)], [False])

    def caption_of(test_id):
        if test_id != 12:
            raise UserError(f"test ID {test_id} is not among the 1 test captions")
        return "caption twelve"

    rows = resolve_rows(state, caption_of)
    assert rows[0] == GridRow(0, 12, "caption twelve") and rows[1] == GridRow(1, None, "a free caption")
    assert "empty" in str(rows[2]) and "99999 is not among" in str(rows[3])


def test_session_state_survives_and_the_url_restores_it():
    session, url = {}, {}
    state = grid_state(session, url)
    state.set_seed(0, 0, 42)
    sync_query(state, url)
    assert grid_state(session, {}) is state  # a page switch: the same object
    refreshed = grid_state({}, url)  # a refresh: a new session with the page's URL
    assert refreshed == state
    damaged = {}
    assert grid_state(damaged, {QUERY_KEY: "garbage"}) == GridState.default()
    assert "could not be restored" in damaged[PROBLEM_KEY]


def test_send_to_grid_respects_locks():
    session = {}
    message = send_to_grid(session, "a blue flower", 12, row=1, column=3)
    state = session[KEY]
    assert state.rows[1] == "a blue flower" and state.cells[1][3].seed == 12 and "row 2, column 4" in message
    send_to_grid(session, "a blue flower", 7, column=0, whole_column=True)  # finds the row holding it
    assert [state.cells[r][0].seed for r in range(5)] == [7] * 5
    state.lock_cell(4, 2, True)
    assert "locked" in send_to_grid(session, "another caption", 5)  # the last row holds a locked cell
    assert state.rows[4] == "6519"
    with pytest.raises(UserError, match="outside"):
        send_to_grid(session, "x", 1, row=9)
