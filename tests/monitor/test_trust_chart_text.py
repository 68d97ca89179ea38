"""Database text in Health and Errors figures reads as itself: markup escaped, quotes left as typed."""

from __future__ import annotations

from ui.charts.monitor import esc


def test_quotes_stay_quotes_in_legends_and_hovers() -> None:
    # plotly.js decodes &lt; &gt; &amp; only: an escaped quote would show as the literal "&quot;"
    assert esc(" HIGH \"x\" 'y'") == " HIGH \"x\" 'y'"


def test_markup_is_escaped() -> None:
    assert esc('<a href="http://evil">x</a>') == '&lt;a href="http://evil"&gt;x&lt;/a&gt;'
    assert esc(None) == "(none)"
