"""Streamlit explorer over gan_core: `streamlit run dashboard/app.py` (see app.py)."""
