"""The console as a person meets it, for the tests and the benchmark: `server` starts
`streamlit run app.py` the way the README does, `browser` launches Debian's Chromium."""
