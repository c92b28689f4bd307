"""Every kind in one place (kube-apiserver's generic registry and per-kind strategies).

    resource.py   Resource: a kind's names, scope, etcd prefix, strategy, printer, fields
    strategy.py   Strategy: the hooks the generic store calls (create/update/delete)
    printers.py   shared printer helpers (columns, ages on the virtual clock)
    registry.py   Registry: the kinds one API server serves, built-in and defined at run time
    <group>/<resource>.py   one module per built-in kind, exporting RESOURCE
"""
from sim.registry.registry import BUILTIN, Registry, builtin_kinds  # noqa: F401
from sim.registry.resource import Resource  # noqa: F401
