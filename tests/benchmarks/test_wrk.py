"""wrk scripts carry the benchmark's data as Lua tables, and wrk's report is read back."""

from __future__ import annotations

import pytest

from benchmarks.wrk import RESULT_MARK, LuaValue, lua_literal, parse_result


def test_data_becomes_lua_constructors() -> None:
    value: dict[str, LuaValue] = {"cookie": 'a="b"\\c', "items": [1, 2], "ok": True}

    expected = '{["cookie"] = "a=\\"b\\"\\\\c", ["items"] = {1, 2}, ["ok"] = true}'
    assert lua_literal(value) == expected
    with pytest.raises(ValueError, match="non-ASCII"):
        lua_literal("café")


def test_the_report_line_gives_rate_latencies_and_statuses() -> None:
    output = (
        "Running 2s test @ http://127.0.0.1:1\n"
        + RESULT_MARK
        + '{"requests": 300, "duration_us": 2000000, "p50_us": 1500, "p90_us": 2500, '
        '"p99_us": 9000, "max_us": 12000, "mean_us": 1700.5, "errors": {"connect": 0, '
        '"read": 0, "write": 0, "status": 2, "timeout": 0}, "statuses": {"200": 298, "403": 2}}\n'
    )

    result = parse_result(output)

    assert result.rps == 150
    assert (result.p50_ms, result.p99_ms) == (1.5, 9.0)
    assert result.statuses == {200: 298, 403: 2}
    assert result.failed == 2
