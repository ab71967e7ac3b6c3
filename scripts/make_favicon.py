"""Write static/favicon.ico: two linked white rings (双联) on the brand red, 32×32, stdlib only.

Run once after changing the drawing: `python scripts/make_favicon.py`. The icon holds one PNG image,
which every current browser reads from an .ico file.
"""

import math
import struct
import zlib
from pathlib import Path

SIZE = 32
BRAND = (0xB0, 0x20, 0x1E)
WHITE = (0xFF, 0xFF, 0xFF)


def coverage(x: float, y: float) -> float:
    """How much of pixel (x, y) is white: two rings of radius 8 whose centres are 9 px apart."""
    samples = 4  # 4×4 supersampling for smooth edges
    hits = 0
    for i in range(samples):
        for j in range(samples):
            px, py = x + (i + 0.5) / samples, y + (j + 0.5) / samples
            for cx in (11.5, 20.5):
                if 6.0 <= math.hypot(px - cx, py - 16) <= 8.6:
                    hits += 1
                    break
    return hits / samples**2


def inside_rounded_square(x: int, y: int, radius: int = 6) -> bool:
    cx = min(max(x + 0.5, radius), SIZE - radius)
    cy = min(max(y + 0.5, radius), SIZE - radius)
    return math.hypot(x + 0.5 - cx, y + 0.5 - cy) <= radius


def pixels() -> bytes:
    rows = []
    for y in range(SIZE):
        row = bytearray([0])  # PNG filter type: none
        for x in range(SIZE):
            if not inside_rounded_square(x, y):
                row += bytes(4)
                continue
            share = coverage(x, y)
            row += bytes(round(b + (w - b) * share) for b, w in zip(BRAND, WHITE)) + b"\xff"
        rows.append(bytes(row))
    return b"".join(rows)


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(pixels(), 9))
        + chunk(b"IEND", b"")
    )


def ico(image: bytes) -> bytes:
    directory = struct.pack("<HHH", 0, 1, 1)  # reserved, type icon, one image
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(image), 6 + 16)
    return directory + entry + image


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"
    target.write_bytes(ico(png()))
    print(f"wrote {target} ({target.stat().st_size} bytes)")
