"""What every start of the binary pays: the CLI commands and servers the tests
and operators run start it hundreds of times. Images and OCR open their
libraries on first use (src/files/media_dl.c), so they are not among the
binary's linked libraries; test_files_images.py and test_files_ocr.py show that
the jobs still work."""
import os
import subprocess

MEDIA = ("libvips", "libtesseract", "libpoppler", "libcairo", "libglib-2.0", "libgobject-2.0", "liblept")


def needed(binary):
    r = subprocess.run(["objdump", "-p", str(binary)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return [line.split()[1] for line in r.stdout.splitlines() if line.strip().startswith("NEEDED")]


def test_the_media_libraries_are_not_linked(opsbase_bin):
    libs = needed(opsbase_bin)
    assert any(lib.startswith("libsqlite3") for lib in libs), libs  # the listing is real
    linked = [lib for lib in libs if lib.startswith(MEDIA)]
    assert linked == [], f"loaded by every start, though only image and OCR jobs use them: {linked}"


def test_a_command_starts_without_them(opsbase_bin):
    """LD_DEBUG=files names every shared object the loader opens."""
    r = subprocess.run([str(opsbase_bin), "version"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "LD_DEBUG": "files"}, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    opened = [line for line in r.stderr.splitlines() if "file=" in line and "[0];  needed by" in line]
    assert opened, r.stderr[:2000]
    assert not [line for line in opened if any(f"file={m}" in line for m in MEDIA)], opened
