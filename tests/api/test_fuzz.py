"""The fuzz of every write endpoint of the Kubernetes API (tests/api/fuzzing.py) against the real
server: no 5xx, every error a Status, nothing changed by a refused write.  PILOTHOUSE_FUZZ_EXAMPLES
sets the number of cases (default 150, a few seconds' worth); bench/robustness.py runs it longer."""
from __future__ import annotations

from tests.api.fuzzing import examples_from_env, run_fuzz


def test_no_input_gets_a_5xx_a_non_status_error_or_changes_the_cluster(pilothouse_server, module_cluster):
    base = pilothouse_server.cluster_url(module_cluster("fuzz", speed=10))
    examples = examples_from_env()
    result = run_fuzz(base, examples)
    assert result.cases >= examples
    assert (result.server_errors, result.non_status, result.changed) == (0, 0, 0), "\n".join(result.failures)
    assert result.accepted < result.cases  # the generated bodies are mostly refused, some taken
