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
from tests.builders.events import MakeEvent
from tests.builders.generic import Builder, MakeObject
from tests.builders.leases import MakeLease
from tests.builders.namespaces import MakeNamespace
from tests.builders.nodes import MakeNode
from tests.builders.pods import MakePod, make_container
from tests.builders.priorityclasses import MakePriorityClass
from tests.builders.replicasets import MakeReplicaSet

__all__ = ["Builder", "MakeEvent", "MakeLease", "MakeNamespace", "MakeNode", "MakeObject", "MakePod", "MakePriorityClass",
           "MakeReplicaSet", "make_container"]
