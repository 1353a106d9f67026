"""The report grid's state in a Streamlit session: one GridState (gan_core.explore.grid_state) under
one non-widget key, so it survives page switches (widget keys are dropped when their page is not
drawn), mirrored into the URL (?grid=...) so a refresh or a shared link restores it.

Any page can hand a caption and a seed to the grid with send_to_grid(st.session_state, ...). No
streamlit import here: the functions take the session state and query parameters as mappings.
"""

from __future__ import annotations

from typing import MutableMapping

from gan_core import UserError
from gan_core.explore.grid_state import GridState

KEY = "report_grid_state"  # st.session_state[KEY]: the GridState
PROBLEM_KEY = "report_grid_problem"  # a message for the page (a damaged link, a refused send)
QUERY_KEY = "grid"  # st.query_params[QUERY_KEY]: GridState.to_query()


def grid_state(session_state: MutableMapping, query_params=None) -> GridState:
    """The session's grid: kept in session_state, else restored from the URL, else the default."""
    state = session_state.get(KEY)
    if isinstance(state, GridState):
        return state
    state = None
    text = query_params.get(QUERY_KEY) if query_params is not None else None
    if text:
        try:
            state = GridState.from_query(text)
        except UserError as exc:
            session_state[PROBLEM_KEY] = f"The grid in the link could not be restored: {exc}"
    session_state[KEY] = state or GridState.default()
    return session_state[KEY]


def sync_query(state: GridState, query_params) -> None:
    """Write the grid into the URL when it changed (a refresh or a shared link restores it)."""
    text = state.to_query()
    if query_params.get(QUERY_KEY) != text:
        query_params[QUERY_KEY] = text


def send_to_grid(session_state: MutableMapping, caption_or_id, seed: int | None = None, row: int | None = None,
                 column: int | None = None, whole_column: bool = False) -> str:
    """Put a caption (or a test ID, digits) and a seed into the session's report grid. -> what was done.

    row (0-based): the row that takes the caption; None: a row that already holds it, else the last
    row. column (0-based, default 0): the cell (row, column) takes the seed, or with whole_column the
    column's unlocked cells. Locks hold: a row with a locked cell keeps its caption, a locked cell
    its seed; the message says so. One undo step per change.
    """
    state = grid_state(session_state)
    text = str(caption_or_id).strip()
    rows, cols = state.shape
    if row is None:
        row = state.rows.index(text) if text in state.rows else rows - 1
    column = 0 if column is None else int(column)
    if not (0 <= int(row) < rows and 0 <= column < cols):
        raise UserError(f"the grid has {rows} rows and {cols} columns; row {row + 1}, column {column + 1} is outside")
    row = int(row)
    done = []
    if text and text != state.rows[row]:
        if not state.set_row(row, text):
            return f"Row {row + 1} has a locked cell, so it keeps its caption; nothing was sent."
        done.append(f"row {row + 1} now reads “{text}”")
    if seed is not None:
        if whole_column:
            changed = state.set_column_seed(column, seed)
            done.append(f"seed {int(seed)} went into {changed} unlocked cell(s) of column {column + 1}")
        elif state.set_seed(row, column, seed):
            done.append(f"seed {int(seed)} went into row {row + 1}, column {column + 1}")
        elif state.locked(row, column):
            done.append(f"row {row + 1}, column {column + 1} is locked and keeps seed {state.cells[row][column].seed}")
    return ("Report grid: " + "; ".join(done) + ".") if done else "The report grid already holds that."


__all__ = ["KEY", "PROBLEM_KEY", "QUERY_KEY", "grid_state", "send_to_grid", "sync_query"]
