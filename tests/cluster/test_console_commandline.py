"""Which console commands are interactive (cluster/console/commandline.py, terminal_mode)."""
import pytest

from cluster.console.commandline import split, terminal_mode


@pytest.mark.parametrize("line, mode", [
    ("kubectl exec -it web -- sh", (True, True)),
    ("kubectl exec -ti web -- sh", (True, True)),
    ("kubectl exec --stdin --tty web -- sh", (True, True)),
    ("kubectl exec -i web -- cat", (True, False)),
    ("kubectl -n kube-system exec -c app -it web -- sh", (True, True)),
    ("kubectl run box -it --image=busybox:1.36 -- sh", (True, True)),
    ("kubectl attach -it web", (True, True)),
    # The container's own flags after `--` are not kubectl's.
    ("kubectl exec web -- ls -it", (False, False)),
    # `-c it`: the letters after -c are its value, not -i -t.
    ("kubectl exec -cit web -- ls", (False, False)),
    ("kubectl get pods -o wide", (False, False)),
    ("kubectl logs -f web", (False, False)),
])
def test_terminal_mode(line, mode):
    assert terminal_mode(split(line)) == mode
