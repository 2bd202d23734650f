"""A ticket's code as a QR code a door can scan (segno): SVG inline on the order page, PNG in
the mail, where an inline SVG is not shown by most mail programs.

The SVG has no style attribute and no script, so the pages' Content-Security-Policy allows it
as it is; it carries its code as its accessible name.
"""

from __future__ import annotations

import io

import segno

# M: 15% of the code can be smudged or folded and still read.
ERROR_CORRECTION = "m"
# Modules, as the QR specification asks: four light ones around the code.
QUIET_ZONE = 4
SVG_SCALE = 4
PNG_SCALE = 6


def _qr(code: str) -> segno.QRCode:
    return segno.make_qr(code, error=ERROR_CORRECTION, boost_error=False)


def ticket_qr_svg(code: str) -> str:
    """The code as an inline SVG element, dark on white, named for screen readers."""
    svg = _qr(code).svg_inline(
        scale=SVG_SCALE,
        border=QUIET_ZONE,
        dark="#000",
        light="#fff",
        title=f"QR code of ticket {code}",
        svgclass="ticket-qr",
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


def ticket_qr_png(code: str) -> bytes:
    """The code as a PNG image, for the mail."""
    out = io.BytesIO()
    _qr(code).save(out, kind="png", scale=PNG_SCALE, border=QUIET_ZONE, dark="#000", light="#fff")
    return out.getvalue()
