"""benchmarks/RESULTS.md holds one section per benchmark; each run rewrites only its own."""

from __future__ import annotations

from pathlib import Path

RESULTS_FILE = Path(__file__).with_name("RESULTS.md")


def markers(name: str) -> tuple[str, str]:
    """The invisible comments that fence one benchmark's section."""
    return f"<!-- {name}: start -->", f"<!-- {name}: end -->"


def replace_section(name: str, body: str, *, path: Path = RESULTS_FILE) -> None:
    """Put `body` between the section's markers, keeping every other section as it is.

    A file without the markers keeps its text and gets the section at its end.
    """
    start, end = markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if start in text and end in text:
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        text = before + block + after
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block + "\n"
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
