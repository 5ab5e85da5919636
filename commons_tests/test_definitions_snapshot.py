"""A snapshot of the code location's definitions: every asset with its group, upstream assets,
partitions, owners, kinds, checks and automation, every job and sensor. A restructuring must
leave it unchanged; a change meant to alter the graph updates the snapshot with
`COMMONS_GOLDEN=write python -m pytest commons_tests/test_definitions_snapshot.py` (say why in
the commit)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from commons_assets.definitions import defs

SNAPSHOT = Path(__file__).resolve().parent / "golden" / "definitions.json"


def definitions_snapshot() -> dict[str, Any]:
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    found: dict[str, Any] = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        partitions = node.partitions_def
        found[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": (
                f"{type(partitions).__name__}:{getattr(partitions, 'name', None) or ''}"
                if partitions
                else None
            ),
            "owners": list(node.owners),
            "kinds": sorted(node.kinds),
            "checks": sorted(check.name for check in node.check_keys),
            "automation": (
                type(node.automation_condition).__name__ if node.automation_condition else None
            ),
            "pools": sorted(node.pools or []),
            "description": node.description,
        }
    found["__jobs__"] = sorted(job.name for job in repository.get_all_jobs())
    found["__sensors__"] = sorted(sensor.name for sensor in repository.sensor_defs)
    return found


def test_the_definitions_match_their_snapshot() -> None:
    found = definitions_snapshot()
    if os.environ.get("COMMONS_GOLDEN") == "write":
        SNAPSHOT.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    changed = sorted(name for name in {*expected, *found} if expected.get(name) != found.get(name))
    assert not changed, f"definitions differ from the snapshot: {changed}"


def test_loading_the_code_location_leaves_the_heavy_libraries_for_their_steps() -> None:
    """Every process that loads the code location (a Ray run, a step, the UI's code server)
    pays its imports: mlcroissant (the release's metadata) and datasketch (the MinHash
    permutations, which pulls in scipy) are imported where they are used."""
    import subprocess
    import sys

    program = (
        "import sys, commons_assets.definitions\n"
        "print(sorted(m for m in ('mlcroissant', 'datasketch', 'scipy') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr[-2000:]
