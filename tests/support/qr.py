"""QR codes read back as a door's scanner would: the served SVG drawn to pixels, then decoded by
zxing-cpp, a decoder that shares nothing with segno, which drew the code.

The SVG is rasterised here from its path: segno draws the dark modules as horizontal strokes
one module thick (`M x y`, `m dx dy`, `h dx`, with y at a row's middle), on a light square.
"""

from __future__ import annotations

import re
import struct
import zlib

import zxingcpp

PATH = re.compile(r'<path[^>]*stroke="#000"[^>]*d="([^"]+)"')
SIZE = re.compile(r'<svg[^>]*width="(\d+)"[^>]*height="(\d+)"')
SCALE = re.compile(r'transform="scale\((\d+)\)"')
COMMAND = re.compile(r"([MmhvHV])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?")
DARK, LIGHT = 0, 255


def rasterise(svg: str, *, pixels_per_unit: int = 2) -> tuple[bytes, int, int]:
    """The SVG's pixels, one byte of grey each (row by row), and the width and height."""
    size, scale, path = SIZE.search(svg), SCALE.search(svg), PATH.search(svg)
    assert size is not None and scale is not None and path is not None, svg[:200]
    unit = int(scale.group(1)) * pixels_per_unit
    width, height = (int(size.group(n)) * pixels_per_unit for n in (1, 2))
    grid = bytearray([LIGHT]) * (width * height)
    x = y = 0.0
    for command, first, second in COMMAND.findall(path.group(1)):
        a = float(first)
        if command == "M":
            x, y = a, float(second)
        elif command == "m":
            x, y = x + a, y + float(second)
        elif command == "h":
            row = int(y)  # the stroke's middle is half a module below the row's top
            for column in range(int(min(x, x + a)), int(max(x, x + a))):
                for dy in range(unit):
                    start = (row * unit + dy) * width + column * unit
                    grid[start : start + unit] = bytes([DARK]) * unit
            x += a
        else:
            raise AssertionError(f"segno drew a {command!r}: teach the test to draw it")
    return bytes(grid), width, height


def decode(pixels: bytes, width: int, height: int) -> list[str]:
    """The texts of the QR codes zxing-cpp finds in grey pixels."""
    image = memoryview(pixels).cast("B", (height, width))
    found = zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    return [barcode.text for barcode in found]


def read_svg_qr(svg: str) -> list[str]:
    """What a scanner reads from the QR code in `svg`."""
    return decode(*rasterise(svg))


def png_pixels(png: bytes) -> tuple[bytes, int, int]:
    """The grey pixels of a greyscale PNG as segno writes one (1 or 8 bits a pixel, not
    interlaced), one byte each, and the width and height."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, data, header = 8, b"", b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, body = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            data += body
        at += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert colour == 0 and depth in (1, 8) and interlace == 0, (colour, depth, interlace)
    raw = zlib.decompress(data)
    stride = (width * depth + 7) // 8
    pixels = bytearray()
    previous = bytes(stride)
    for row in range(height):
        start = row * (stride + 1)
        line = _unfiltered(raw[start], raw[start + 1 : start + 1 + stride], previous)
        previous = line
        if depth == 8:
            pixels += line
        else:
            pixels += bytes(
                LIGHT if line[x // 8] >> (7 - x % 8) & 1 else DARK for x in range(width)
            )
    return bytes(pixels), width, height


def read_png_qr(png: bytes) -> list[str]:
    """What a scanner reads from the QR code in a PNG image (drawn at its own pixels: a
    module is several of them)."""
    return decode(*png_pixels(png))


def _unfiltered(kind: int, line: bytes, previous: bytes) -> bytes:
    """A row as it was before PNG's filter `kind` (None, Sub or Up; a byte per unit)."""
    if kind == 0:
        return line
    out = bytearray(line)
    for x in range(len(out)):
        if kind == 1:
            out[x] = (out[x] + (out[x - 1] if x else 0)) % 256
        elif kind == 2:
            out[x] = (out[x] + previous[x]) % 256
        else:
            raise AssertionError(f"PNG filter {kind}: teach the test to undo it")
    return bytes(out)
