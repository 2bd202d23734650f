"""The benchmark's statement counts: a checkout's work, apart from transaction control, pool
pings and the driver's own lookups of types."""

from __future__ import annotations

import pytest
from asyncpg import introspection

from benchmarks.statements import kind_of


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("SELECT pages.id FROM pages WHERE pages.slug = $1::VARCHAR", "work"),
        ("WITH new_order AS (INSERT INTO orders (id) VALUES ($1)) SELECT 1", "work"),
        ("BEGIN", "control"),
        ("COMMIT", "control"),
        ("SELECT 1", "ping"),
        (introspection.INTRO_LOOKUP_TYPES, "driver"),
        (introspection.INTRO_LOOKUP_TYPES_13, "driver"),
        ("SELECT current_setting('jit') AS cur, set_config('jit', 'off', false) AS new", "driver"),
        ("SELECT set_config('jit', $1, false)", "driver"),
    ],
)
def test_each_statement_is_counted_as_what_it_is(query: str, kind: str) -> None:
    assert kind_of(query) == kind
