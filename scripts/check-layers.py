#!/usr/bin/env python3
"""Fails when a source file includes a layer its folder's README does not allow.

Each src/<layer>/README.md has a line "May call: a, b (why), c." naming the
layers below it; a layer may always include itself. Only the first word of
each comma-separated item counts, so "platform (tenant lookup)" allows platform
and "src/base only" allows base. Words that are not layers (libc, jansson) are
ignored. main.c, at the top, may include anything."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"(?:\.\./)?([a-z_]+)/', re.M)


def allowed_layers(layer, layers):
    readme = os.path.join(SRC, layer, "README.md")
    try:
        text = open(readme, encoding="utf-8").read()
    except OSError:
        return None
    m = re.search(r"^May call:(.*)$", text, re.M)
    if not m:
        return None
    out = {layer}
    for item in m.group(1).split(","):
        words = item.strip().rstrip(".").split()
        if words:
            name = words[0].strip(".;:()").removeprefix("src/")
            if name in layers:
                out.add(name)
    return out


def main():
    layers = sorted(d for d in os.listdir(SRC) if os.path.isdir(os.path.join(SRC, d)))
    problems = []
    for layer in layers:
        allowed = allowed_layers(layer, layers)
        if allowed is None:
            problems.append(f"src/{layer}/README.md has no 'May call:' line")
            continue
        for dirpath, _, files in os.walk(os.path.join(SRC, layer)):
            for f in sorted(files):
                if not f.endswith((".c", ".h", ".def")):
                    continue
                path = os.path.join(dirpath, f)
                text = open(path, encoding="utf-8").read()
                for m in INCLUDE.finditer(text):
                    if m.group(1) in layers and m.group(1) not in allowed:
                        line = text.count("\n", 0, m.start()) + 1
                        problems.append(f"{os.path.relpath(path, ROOT)}:{line}: {layer} may not include "
                                        f"{m.group(1)}/ (README: may call {', '.join(sorted(allowed - {layer}))})")
    for p in problems:
        print(p)
    print(f"layers: {len(layers)} checked, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
