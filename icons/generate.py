#!/usr/bin/env python3
"""Draws aiswitch's icons as RGBA PNGs with the standard library only.

Run `python3 icons/generate.py` to regenerate; the PNGs are committed so builds
never need Python. The app icon is a rounded square with two switch tracks; tray
icons are a ring whose colour tells the state: idle (grey), busy (blue), alert (red).
"""
import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png(path, size, pixel):
    rows = bytearray()
    for y in range(size):
        rows.append(0)
        for x in range(size):
            rows.extend(pixel(x + 0.5, y + 0.5))
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b"")
    with open(os.path.join(HERE, path), "wb") as f:
        f.write(data)


def coverage(distance):
    """Anti-aliased coverage of a pixel whose centre is `distance` inside an edge."""
    return max(0.0, min(1.0, distance + 0.5))


def app_icon(size):
    r = size * 0.2
    def pixel(x, y):
        # Rounded square.
        dx = max(abs(x - size / 2) - (size / 2 - r), 0)
        dy = max(abs(y - size / 2) - (size / 2 - r), 0)
        inside = coverage(r - math.hypot(dx, dy))
        color = (31, 41, 55)
        # Two switch tracks with knobs on opposite sides.
        for row, knob_x, knob_color in ((0.36, 0.66, (52, 211, 153)), (0.64, 0.34, (96, 165, 250))):
            cy = size * row
            half = size * 0.09
            track = coverage(half - max(abs(y - cy) - 0, 0)) if size * 0.22 <= x <= size * 0.78 else 0
            if track > 0:
                color = (75, 85, 99)
            knob = coverage(size * 0.12 - math.hypot(x - size * knob_x, y - cy))
            if knob > 0:
                color = knob_color
        return (*color, int(255 * inside))
    return pixel


def ring(size, rgb):
    c = size / 2
    def pixel(x, y):
        d = math.hypot(x - c, y - c)
        outer = coverage(size * 0.45 - d)
        inner = coverage(d - size * 0.22)
        dot = coverage(size * 0.12 - d)
        alpha = max(outer * inner, dot)
        return (*rgb, int(255 * alpha))
    return pixel


if __name__ == "__main__":
    png("icon.png", 256, app_icon(256))
    png("tray-idle.png", 32, ring(32, (156, 163, 175)))
    png("tray-busy.png", 32, ring(32, (59, 130, 246)))
    png("tray-alert.png", 32, ring(32, (239, 68, 68)))
