"""Record (again) a saved moment a lesson starts from: `lessons/runs/<name>.json`, a
PilothouseRun export (docs/timeline.md), from its recipe `lessons/runs/<name>.recipe.yaml`.

    .venv/bin/python lessons/runs/record.py troubleshooting

Run it when the engine changes (a lesson imports its run loosely, "exact": false, so an old
file still starts the lesson, but the moment drifts from what the recipe says; the lesson's
test then tells).  A recipe is

    cluster: {seed: 13, nodes: [...], ...}     # POST /sim/v1/clusters' body, without a name
    script: |                                  # sim/scenario.py's lines: the verbs lessons use,
      apply manifests/web-v1.yaml              # `advance`, and `expect` checks (read from the
      advance 30s                              # watch cache: they change nothing) that the
      expect deployment web .status.readyReplicas=3   # moment is what the lesson narrates
      kill-node worker-2

The cluster is built in this process from the recipe, and what reaches its engine is written
down as the worker's journal would hold it (cluster/worker/timeline.py): each Kubernetes API
request that travels to kube-apiserver as an "api" entry, each node killed or restored as
"node.kill" / "node.restore", at the point of the run where it came in.  The export leaves out
the start time and credentials: an import then gives the lesson's cluster its own (fresh
secrets, ages counted from now), since a file in the repository is public.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402
import yaml  # noqa: E402

django.setup()   # cluster.worker's package loads the worker, whose models need the app registry

from cluster.worker.timeline import Timeline, point  # noqa: E402
from sim.cluster import Cluster  # noqa: E402
from sim.clusterconfig import config_from_spec  # noqa: E402
from sim.lessons.format import LESSONS_DIR, RUNS_DIR  # noqa: E402
from sim.scenario import Scenario  # noqa: E402

# Left out of the shipped export (see the module docstring).
PRIVATE_CONFIG = ("credentials", "start_unix_time")


class RecordingCluster(Cluster):
    """An engine that journals what reaches it, in the worker's words (cluster/worker/commands.py:
    the "api" command's entries, the node.kill / node.restore commands' arguments)."""

    timeline: Timeline

    def begin_request(self, req: dict):
        at, text = point(self), json.dumps({"request": req}, separators=(",", ":"))  # before the engine sees it
        pending = super().begin_request(req)
        if pending.rid is not None:   # it travelled: it shapes the run (a cached read does not)
            self.timeline.note(at, "api", None, text=text)
        return pending

    def kill_node(self, name: str):
        self.timeline.note(point(self), "node.kill", {"node": name})
        return super().kill_node(name)

    def restore_node(self, name: str):
        self.timeline.note(point(self), "node.restore", {"node": name})
        return super().restore_node(name)


def record(name: str, directory: Path = LESSONS_DIR) -> dict:
    """The export of recipe `name`, run to its end (a ScenarioError if an `expect` fails)."""
    recipe = yaml.safe_load((directory / RUNS_DIR / f"{name}.recipe.yaml").read_text())
    config = config_from_spec(recipe.get("cluster") or {})
    engine = RecordingCluster(f"lesson-run-{name}", config)
    origin = {k: v for k, v in config.to_json().items() if k not in PRIVATE_CONFIG}
    engine.timeline = Timeline(origin)
    scenario = Scenario(engine, base_dir=directory, cached_reads=True)
    scenario.run(recipe["script"])
    export = engine.timeline.export(name, engine)
    export["metadata"] = {"cluster": name, "recipe": f"{RUNS_DIR}/{name}.recipe.yaml"}   # no date: the file
    return export                                                                       # changes only with the run


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: lessons/runs/record.py <name>   (reads lessons/runs/<name>.recipe.yaml)", file=sys.stderr)
        return 2
    name = argv[0]
    export = record(name)
    out = LESSONS_DIR / RUNS_DIR / f"{name}.json"
    out.write_text(json.dumps(export, indent=1, sort_keys=True) + "\n")
    print(f"{out.relative_to(ROOT)}: t={export['end']['time']:.1f}s, {len(export['journal'])} journal entries, "
          f"{out.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
