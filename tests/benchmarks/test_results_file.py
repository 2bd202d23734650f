"""Each benchmark rewrites only its own section of RESULTS.md."""

from __future__ import annotations

from pathlib import Path

from benchmarks.results_file import replace_section


def test_a_section_is_replaced_and_the_others_kept(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    results.write_text("# Order list\n\nfigures\n", encoding="utf-8")

    replace_section("hot_paths", "# Hot paths\n\nfirst run", path=results)
    replace_section("hot_paths", "# Hot paths\n\nsecond run", path=results)

    text = results.read_text(encoding="utf-8")
    assert text.startswith("# Order list\n\nfigures\n")
    assert "second run" in text
    assert "first run" not in text
    assert text.count("<!-- hot_paths: start -->") == 1
