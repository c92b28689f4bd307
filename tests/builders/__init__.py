"""One builder per kind for the tests, in the style of upstream's kube-scheduler testing
package (k8s.io/kubernetes/pkg/scheduler/testing/wrappers.go: `st.MakePod().Name("p")
.Namespace("ns").Req(...).Node("n").Obj()`), producing plain dicts in Kubernetes' shape:

    from tests.builders import MakePod, MakeNode
    MakePod().name("p").namespace("ns").container("nginx", name="c", cpu="1").node("n").obj()
    MakeNode().name("n").allocatable({"cpu": "4", "memory": "8Gi", "pods": "110"}).obj()

    pods.py            MakePod (and make_container)     nodes.py        MakeNode
    replicasets.py     MakeReplicaSet                   namespaces.py   MakeNamespace
    priorityclasses.py MakePriorityClass                leases.py       MakeLease
    events.py          MakeEvent                        generic.py      Builder, MakeObject (any kind)

obj() is the object as built (no apiVersion/kind, like upstream's Obj()); manifest() puts
apiVersion and kind first. Only the fields a chain sets are present.
"""
from tests.builders.events import MakeEvent  # noqa: F401
from tests.builders.generic import Builder, MakeObject  # noqa: F401
from tests.builders.leases import MakeLease  # noqa: F401
from tests.builders.namespaces import MakeNamespace  # noqa: F401
from tests.builders.nodes import MakeNode  # noqa: F401
from tests.builders.pods import MakePod, make_container  # noqa: F401
from tests.builders.priorityclasses import MakePriorityClass  # noqa: F401
from tests.builders.replicasets import MakeReplicaSet  # noqa: F401
