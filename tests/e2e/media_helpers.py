"""Made-up media for the file-processing tests (issue #12): PNG images drawn in
pure Python (zlib + struct, no imaging library), JPEG sizes read from the
markers, a one-page PDF with a line of Helvetica, and waits for the jobs that
process them."""
import struct
import time
import zlib

import helpers as h

API = "/api/v1"


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_rows(width, rows):
    """An 8-bit greyscale PNG of the given rows (bytes of `width` pixels each)."""
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    head = struct.pack(">IIBBBBB", width, len(rows), 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", head) + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def png(width, height, seed=0):
    """A greyscale gradient PNG; seed changes the content (so the SHA-256)."""
    rows = [bytes(((x + y + seed) * 7) & 0xFF for x in range(width)) for y in range(height)]
    return png_rows(width, rows)


def jpeg_size(data):
    """(width, height) from a JPEG's start-of-frame marker."""
    assert data[:2] == b"\xff\xd8", "not a JPEG"
    i = 2
    while i < len(data):
        assert data[i] == 0xFF, "bad JPEG marker"
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    raise AssertionError("no frame in the JPEG")


def pdf_with_text(text, size=36):
    """A one-page PDF (A4 landscape) showing text in Helvetica, with a correct
    cross-reference table."""
    stream = f"BT /F1 {size} Tf 60 400 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def wait_row(c, table, rid, done, what):
    """Poll a record until done(row) holds; the row."""
    deadline = time.monotonic() + h.WAIT_S
    while True:
        row = h.get(c, table, rid)
        if done(row):
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen: {row}")
        time.sleep(0.1)


def jobs_of(c, kind):
    return h.list_all(c, "jobs", {"kind": kind})


# 5x7 capitals, enough for the words the tests write
GLYPHS = {
    "H": ["10001", "10001", "10001", "11111", "10001", "10001", "10001"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "O": ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
    "W": ["10001", "10001", "10001", "10101", "10101", "10101", "01010"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
    "D": ["11110", "10001", "10001", "10001", "10001", "10001", "11110"],
    " ": ["00000"] * 7,
}


def png_text(text, scale=8, margin=4):
    """A greyscale PNG of text in black 5x7 capitals on white, each dot scale px."""
    cols = []
    for ch in text:
        g = GLYPHS[ch]
        for x in range(5):
            cols.append([g[y][x] == "1" for y in range(7)])
        cols.append([False] * 7)  # one dot between letters
    width = (len(cols) + 2 * margin) * scale
    blank = bytes([255] * width)
    rows = [blank] * (margin * scale)
    for y in range(7):
        line = bytearray([255] * (margin * scale))
        for col in cols:
            line += bytes([0 if col[y] else 255] * scale)
        line += bytes([255] * (margin * scale))
        rows += [bytes(line)] * scale
    rows += [blank] * (margin * scale)
    return png_rows(width, rows)
