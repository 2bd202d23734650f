"""axe-core, injected into a page under test: no serious or critical accessibility violation.

`axe.min.js` beside this file comes from the npm registry (frontend/package.json) and is copied
here by the asset build. It is evaluated through the DevTools protocol, which the page's
Content-Security-Policy (self only, no inline script) does not govern, so the page is checked
under its real policy.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_SOURCE = Path(__file__).with_name("axe.min.js")
FAILING_IMPACTS = frozenset({"serious", "critical"})
# WCAG 2.x A and AA, and axe's best practices.
RUN_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
}


@cache
def _axe_source() -> str:
    return AXE_SOURCE.read_text()


def violations(page: Page) -> list[dict[str, Any]]:
    """Every violation axe finds on the page as it is now."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {_axe_source()}\n}}")
    found: list[dict[str, Any]] = page.evaluate(
        "options => window.axe.run(document, options).then(result => result.violations)",
        RUN_OPTIONS,
    )
    return found


# axe-core places an element with `position: sticky` where it would be unstuck (issue #3720,
# open): on a scrolled page a full-sized button partly under the stuck site header is measured
# by the sliver left in view and reported as a touch target too small. A target is let off
# only when it is under a stuck sticky element and is itself at least 24 by 24 pixels.
UNDER_STICKY = """
selectors => selectors.every(selector => {
    const target = document.querySelector(selector);
    if (target === null) return false;
    const box = target.getBoundingClientRect();
    if (box.width < 24 || box.height < 24) return false;
    return [...document.querySelectorAll('body *')].some(element => {
        if (getComputedStyle(element).position !== 'sticky' || element.contains(target)) {
            return false;
        }
        const stuck = element.getBoundingClientRect();
        return stuck.bottom > box.top && stuck.top < box.bottom
            && stuck.right > box.left && stuck.left < box.right;
    });
})
"""


def _under_sticky(page: Page, violation: dict[str, Any]) -> bool:
    """Whether every element of a target-size violation is axe-core's sticky false positive."""
    if violation["id"] != "target-size":
        return False
    selectors = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"]]
    return bool(page.evaluate(UNDER_STICKY, selectors))


def describe(violation: dict[str, Any]) -> str:
    """One line per violation, naming the elements, for the failure message."""
    targets = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"]]
    return f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets[:5]}"


def assert_accessible(page: Page, where: str) -> None:
    """No serious or critical violation on the page."""
    serious = [
        v
        for v in violations(page)
        if v.get("impact") in FAILING_IMPACTS and not _under_sticky(page, v)
    ]
    assert not serious, f"accessibility violations on {where}:\n" + "\n".join(
        describe(v) for v in serious
    )
