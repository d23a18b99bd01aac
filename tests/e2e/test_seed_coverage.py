"""Seed coverage: docs/seed-coverage.md maps every seed column (as listed by
../shared/tools/seed-catalog) to a column that exists in `opsbase schema --json`,
or to `none: <reason>`."""
import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CATALOG = os.path.join(ROOT, "..", "shared", "tools", "seed-catalog")


def coverage_rows():
    rows = []
    with open(os.path.join(ROOT, "docs", "seed-coverage.md"), encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("| ") and not line.startswith("| seed_file"):
                cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
                if len(cells) == 4 and cells[0].endswith(".txt"):
                    rows.append(tuple(cells))
    return rows


@pytest.mark.skipif(not os.path.exists(CATALOG),
                    reason="the seed catalog is outside the repository (../shared/tools) and absent here")
def test_every_seed_column_has_an_existing_home(opsbase_bin):
    catalog = [tuple(l.split("\t")) for l in subprocess.check_output([CATALOG], text=True).splitlines()]
    assert len(catalog) == 1165
    rows = coverage_rows()
    assert [r[:3] for r in rows] == catalog, "docs/seed-coverage.md must list the catalog's rows in its order"
    schema = json.loads(subprocess.check_output([str(opsbase_bin), "schema", "--json"], text=True))
    columns = {t["name"]: {c["name"] for c in t["columns"]} for t in schema["tables"]}
    problems = []
    for f, t, c, home in rows:
        if home.startswith("none: ") and len(home) > len("none: ") + 10:
            continue
        table, _, column = home.partition(".")
        if column not in columns.get(table, ()):
            problems.append(f"{f} {t}.{c} -> {home}")
    assert not problems, f"{len(problems)} seed columns without an existing home:\n" + "\n".join(problems[:50])


def test_coverage_document_is_generated_from_the_mapping():
    """The document is what the script makes of docs/coverage/*, so it cannot drift."""
    if not os.path.exists(CATALOG):
        pytest.skip("the seed catalog is outside the repository (../shared/tools) and absent here")
    committed = open(os.path.join(ROOT, "docs", "seed-coverage.md"), encoding="utf-8").read()
    fresh = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", "seed-coverage.py"), "--stdout"],
                           check=True, capture_output=True, text=True).stdout
    assert committed == fresh, "run scripts/seed-coverage.py and commit docs/seed-coverage.md"
