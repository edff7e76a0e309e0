#!/usr/bin/python3
"""Loads a page in Debian's Chromium, headless, and prints what happened as one JSON object:

  console   every console message (a script error, a refused style or script, a CSP violation)
  requests  every network request the page made (from Chromium's own net log: requests whose
            network isolation key is the file:// page, so the browser's own update and account
            checks, which no flag fully silences, are told apart)
  colors    distinct colours in a 1280x2000 screenshot (a blank page has one)
  dom       the document as the browser parsed it (--dump-dom)

usage: browser_check.py PAGE.html SCREENSHOT.png
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--enable-logging=stderr", "--v=0"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("chromium is not installed (apt-get install -y chromium)")


def run(page, extra, profile):
    url = "file://" + os.path.abspath(page)
    result = subprocess.run([chromium()] + FLAGS + ["--user-data-dir=" + profile] + extra + [url],
                            capture_output=True, timeout=180)
    return result.stdout.decode("utf-8", "replace"), result.stderr.decode("utf-8", "replace")


def console(stderr):
    return [line.split("] ", 1)[-1] for line in stderr.splitlines() if ":CONSOLE" in line]


def requests(netlog_path):
    with open(netlog_path) as f:
        log = json.load(f)
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    made = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        if types.get(event["type"]) != "URL_REQUEST_START_JOB":
            continue
        if "file://" in str(params.get("network_isolation_key", "")) and not params.get("url", "").startswith("file:"):
            made.append(params.get("url"))
    return made


def png_colors(path):
    """Distinct RGBA colours of an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height, kind = 8, b"", 0, 0, 0
    while pos < len(data):
        length, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            width, height, depth, kind, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and kind in (2, 6) and interlace == 0, "unexpected PNG format"
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    bpp = 4 if kind == 6 else 3
    stride = width * bpp
    previous = bytearray(stride)
    colors = set()
    for y in range(height):
        start = y * (stride + 1)
        filter_type = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = previous[i]
            c = previous[i - bpp] if i >= bpp else 0
            if filter_type == 1:
                line[i] = (line[i] + a) & 0xFF
            elif filter_type == 2:
                line[i] = (line[i] + b) & 0xFF
            elif filter_type == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif filter_type == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        if y % 4 == 0:  # every fourth row is plenty to tell a page from a blank one
            for x in range(0, stride, bpp * 2):
                colors.add(bytes(line[x:x + bpp]))
        previous = line
    return len(colors)


def main():
    page, screenshot = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as work:
        netlog = os.path.join(work, "net.json")
        dom, stderr = run(page, ["--dump-dom", "--log-net-log=" + netlog], os.path.join(work, "profile-a"))
        messages = console(stderr)
        made = requests(netlog)
        _, stderr2 = run(page, ["--window-size=1280,2000", "--screenshot=" + os.path.abspath(screenshot)],
                         os.path.join(work, "profile-b"))
        messages += console(stderr2)
    colors = png_colors(screenshot) if os.path.exists(screenshot) else 0
    print(json.dumps({"console": messages, "requests": made, "colors": colors, "dom": dom}))


if __name__ == "__main__":
    main()
