"""Shared Streamlit pieces: the page frame, safe widgets, URL state, chart helpers."""
