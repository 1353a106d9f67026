"""Entry point: `streamlit run dashboard/app.py [-- --checkpoints DIR --data DIR]`. Declares the pages only."""

from pathlib import Path

import streamlit as st

st.set_page_config(page_title="Flowers GAN workbench", page_icon=":material/local_florist:", layout="wide")
PAGES = Path(__file__).parent / "views"  # not pages/: that name also switches on streamlit's automatic page list
navigation = st.navigation([
    st.Page(PAGES / "checkpoints.py", title="Checkpoints", icon=":material/folder_open:", default=True),
    st.Page(PAGES / "generate.py", title="Generate & interpolate", icon=":material/palette:"),
    st.Page(PAGES / "report_grid.py", title="Report grid", icon=":material/grid_view:"),
    st.Page(PAGES / "embeddings.py", title="Caption embeddings", icon=":material/scatter_plot:"),
    st.Page(PAGES / "scores.py", title="Scores", icon=":material/monitoring:"),
    st.Page(PAGES / "mode_collapse.py", title="Mode collapse", icon=":material/science:"),
    st.Page(PAGES / "test_captions.py", title="Test captions", icon=":material/table_rows:"),
    st.Page(PAGES / "projector.py", title="Projector", icon=":material/center_focus_strong:"),
])
navigation.run()
