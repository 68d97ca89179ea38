"""Fingerprint rules: which messages are the same problem."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.fingerprint import fingerprint, is_fingerprint, normalise_message


def test_numbers_quoted_values_uuids_and_hex_ids_become_placeholders() -> None:
    msg = "order 550e8400-e29b-41d4-a716-446655440000 of 'AAPL' failed after 30s, id deadbeef12, code -5"
    assert normalise_message(msg) == "order <uuid> of '<q>' failed after <n>s, id <hex>, code <n>"


def test_backend_messages_that_differ_only_in_values_share_a_fingerprint() -> None:
    a = fingerprint(
        "universe_loading_failed", None, "Failed to load universe 'sp500' from universe loader: 404"
    )
    b = fingerprint(
        "universe_loading_failed",
        None,
        "Failed to load universe 'nasdaq' from universe loader: 500",
    )
    assert a == b


def test_words_and_version_names_are_kept() -> None:
    assert (
        normalise_message("Real-time price data unavailable for SPY")
        == "Real-time price data unavailable for SPY"
    )
    assert normalise_message("strategy v2 failed") == "strategy v2 failed"
    assert fingerprint("t", "s", "cache miss") != fingerprint("t", "s", "cache hit")


def test_type_and_service_are_part_of_the_fingerprint() -> None:
    base = fingerprint("market_data_unavailable", "opportunity_cache", "x 1")
    assert base != fingerprint("strategy_scan_failure", "opportunity_cache", "x 1")
    assert base != fingerprint("market_data_unavailable", "universe_loader", "x 1")
    # A NULL service is a group of its own, not the same as an empty name.
    assert fingerprint("t", None, "m") != fingerprint("t", "", "m")


def test_whitespace_is_collapsed() -> None:
    assert fingerprint("t", "s", "a  b\n c") == fingerprint("t", "s", "a b c")


@given(st.text(max_size=300), st.integers(min_value=0, max_value=10**9))
def test_normalising_is_idempotent_and_numbers_never_change_the_fingerprint(
    text: str, n: int
) -> None:
    once = normalise_message(text)
    assert normalise_message(once) == once
    assert fingerprint("t", "s", f"failed {n} times") == fingerprint("t", "s", "failed 7 times")
    assert is_fingerprint(fingerprint("t", "s", text))
