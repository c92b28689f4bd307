"""DESIGN.md: nothing under sim/ imports Django or Channels."""
import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[2] / "sim"
FORBIDDEN = {"django", "channels", "daphne", "twisted"}


def test_sim_imports_no_framework():
    offenders = []
    for path in SIM.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(SIM)}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_sim_never_reads_the_wall_clock():
    offenders = []
    for path in SIM.rglob("*.py"):
        text = path.read_text()
        for bad in ("time.time(", "time.monotonic(", "datetime.now(", "datetime.utcnow(", "random.random("):
            if bad in text:
                offenders.append(f"{path.relative_to(SIM)}: {bad}")
    assert offenders == []
