"""The Kubernetes-compatible REST API of each simulated cluster, under /clusters/<name>/.

requestinfo.py  URL + method -> ApiRequest (the engine's request dict), as kube-apiserver's
                RequestInfoFactory parses paths
discovery.py    /version, /api, /apis, /api/v1, /apis/<group>/<version>
status.py       metav1.Status error bodies
watch.py        watch streams (newline-delimited JSON events) over the engine's polling watch
tables.py       server-side printing (meta.k8s.io/v1 Table) that kubectl asks for
openapi.py      /openapi/v3 (root and per group-version documents) for kubectl explain/apply;
openapi_v2.py   /openapi/v2 in gnostic protobuf (gnostic.py); both from openapi_schemas.py
                (upstream's definitions for the reported release), cached (openapi_cache.py)
views.py        thin Django views tying the above to cluster.services
simcontrol.py   the simulator control API (/clusters/<name>/sim/v1/...)
"""
