"""Generated documents: docs/schema.md and the workflow part of docs/api.md are
what their scripts make of `opsbase schema --json`, so neither can drift from the
registry. After a registry change: scripts/schema-doc.py and scripts/api-doc.py."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.mark.parametrize("script,doc", [("schema-doc.py", "schema.md"), ("api-doc.py", "api.md")])
def test_generated_document_matches_the_registry(opsbase_bin, script, doc):
    committed = open(os.path.join(ROOT, "docs", doc), encoding="utf-8").read()
    fresh = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "scripts", script), str(opsbase_bin), "--stdout"],
                           check=True, capture_output=True, text=True).stdout
    assert committed == fresh, f"run scripts/{script} and commit docs/{doc}"


def test_api_doc_lists_every_declared_event_and_action(opsbase_bin):
    """A check of the generator itself: each event and action of the registry has its row."""
    import json
    schema = json.loads(subprocess.check_output([str(opsbase_bin), "schema", "--json"], text=True))
    api = open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8").read()
    generated = api.split("## Workflows (generated)", 1)[1]
    missing = []
    for t in schema["tables"]:
        if not t.get("api"):
            continue
        for tr in (t.get("state_machine") or {}).get("transitions", []):
            if f"| {tr['event']} | {tr['from'].replace(',', ', ')} | {tr['to']} |" not in generated:
                missing.append(f"{t['name']}.{tr['event']}")
        for a in t.get("actions", []):
            if f"`POST /api/v1/{t['name']}/{{id}}/{a['verb']}`" not in generated:
                missing.append(f"{t['name']}/{a['verb']}")
    assert not missing, missing
