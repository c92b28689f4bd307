"""kube-apiserver semantics: validation, defaulting, optimistic concurrency, patches, graceful
deletion, selectors, watch resumption."""
from tests.builders import MakeLease, MakeNamespace, MakePod
from tests.sim.conftest import create_pod, get_pod, ok


def test_create_defaults_and_metadata(cluster):
    body = ok(create_pod(cluster, "web"), 201)
    md = body["metadata"]
    # A pod's generation is not populated before 1.33 (KEP-5067).
    assert md["uid"] and md["creationTimestamp"].endswith("Z") and md["generation"] == 1  # KEP-5067 (1.35+)
    assert int(md["resourceVersion"]) == cluster.store.get("/registry/pods/default/web").mod_revision
    spec = body["spec"]
    assert spec["restartPolicy"] == "Always" and spec["schedulerName"] == "default-scheduler"
    assert spec["terminationGracePeriodSeconds"] == 30 and spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    # DefaultTolerationSeconds admission: 300 s for not-ready and unreachable.
    tol = {t["key"]: t["tolerationSeconds"] for t in spec["tolerations"]}
    assert tol == {"node.kubernetes.io/not-ready": 300, "node.kubernetes.io/unreachable": 300}
    assert body["status"] == {"phase": "Pending", "qosClass": "Burstable"}


def _pod_keys(cluster) -> list:
    return [(kv.key, kv.mod_revision) for kv in cluster.store.range("/registry/pods/")]


def test_invalid_pod_gets_field_errors_and_nothing_is_stored(cluster):
    # (The cluster's components go on writing their leases and events meanwhile: the check is
    # that no pod key was written, not that etcd's revision stood still.)
    before = _pod_keys(cluster)
    resp = create_pod(cluster, "Bad_Name", cpu="-1")
    assert resp["code"] == 422
    st = resp["body"]
    assert st["kind"] == "Status" and st["reason"] == "Invalid"
    fields = {c["field"] for c in st["details"]["causes"]}
    assert fields == {"metadata.name", "spec.containers[0].resources.requests[cpu]"}
    assert 'Invalid value: "-1": must be greater than or equal to 0' in st["message"]
    assert _pod_keys(cluster) == before


def test_a_quantity_that_does_not_parse_is_a_decoding_error(cluster):
    # Quantity.UnmarshalJSON fails while the body is decoded: a 400, before validation.
    body = {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"memory": "12XB"}}}]}}
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body})
    assert resp["code"] == 400
    assert resp["body"]["message"] == ('Pod in version "v1" cannot be handled as a Pod: quantities must match the '
                                       "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_required_fields(cluster):
    body = {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "resources": {"requests": {"memory": "-1"}}}]}}
    st = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body})["body"]
    assert {c["field"] for c in st["details"]["causes"]} == {"spec.containers[0].image",
                                                            "spec.containers[0].resources.requests[memory]"}
    assert "Required value" in st["message"] and "must be greater than or equal to 0" in st["message"]


def test_duplicate_is_409_already_exists(cluster):
    ok(create_pod(cluster, "web"))
    resp = create_pod(cluster, "web")
    assert resp["code"] == 409 and resp["body"]["reason"] == "AlreadyExists"
    assert resp["body"]["message"] == 'pods "web" already exists'


def test_missing_is_404_and_unknown_namespace_is_404(cluster):
    resp = get_pod(cluster, "nope")
    assert resp["code"] == 404 and resp["body"]["message"] == 'pods "nope" not found'
    body = (MakePod().name("a").namespace("default")
            .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest())
    body["metadata"]["namespace"] = "ghost"
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "ghost", "body": body})
    assert resp["code"] == 404 and resp["body"]["message"] == 'namespaces "ghost" not found'


def test_namespace_in_body_must_match_the_path(cluster):
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "kube-system", "body": MakePod().name("a").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest()})
    assert resp["code"] == 400 and "does not match the namespace" in resp["body"]["message"]


def test_stale_resource_version_is_409_conflict(cluster):
    body = ok(create_pod(cluster, "web"))
    cluster.advance(5)  # the kubelet updates its status meanwhile
    cur = ok(get_pod(cluster, "web"))
    assert cur["metadata"]["resourceVersion"] != body["metadata"]["resourceVersion"]
    stale = dict(body, metadata=dict(body["metadata"], labels={"x": "y"}))
    resp = cluster.request({"verb": "update", "resource": "pods", "namespace": "default", "name": "web", "body": stale})
    assert resp["code"] == 409 and resp["body"]["reason"] == "Conflict"
    assert "the object has been modified" in resp["body"]["message"]
    fresh = dict(cur, metadata=dict(cur["metadata"], labels={"x": "y"}))
    updated = ok(cluster.request({"verb": "update", "resource": "pods", "namespace": "default", "name": "web",
                                  "body": fresh}))
    assert updated["metadata"]["labels"] == {"x": "y"}
    assert int(updated["metadata"]["resourceVersion"]) > int(cur["metadata"]["resourceVersion"])


def test_merge_json_and_strategic_patches(cluster):
    ok(create_pod(cluster, "web"))
    req = {"verb": "patch", "resource": "pods", "namespace": "default", "name": "web"}
    p = ok(cluster.request(dict(req, body={"metadata": {"labels": {"a": "1", "b": "2"}}},
                                patch_type="application/merge-patch+json")))
    assert p["metadata"]["labels"] == {"a": "1", "b": "2"}
    p = ok(cluster.request(dict(req, body={"metadata": {"labels": {"a": None}}},
                                patch_type="application/merge-patch+json")))
    assert p["metadata"]["labels"] == {"b": "2"}
    p = ok(cluster.request(dict(req, body=[{"op": "add", "path": "/metadata/annotations", "value": {"n": "x"}}],
                                patch_type="application/json-patch+json")))
    assert p["metadata"]["annotations"] == {"n": "x"}
    p = ok(cluster.request(dict(req, body={"spec": {"containers": [{"name": "app", "image": "nginx:1.28"}]}},
                                patch_type="application/strategic-merge-patch+json")))
    assert p["spec"]["containers"][0]["image"] == "nginx:1.28"
    assert p["spec"]["containers"][0]["resources"]["requests"]["cpu"] == "100m"  # merged by name
    # Changing an immutable field is Forbidden, and the object is untouched.
    resp = cluster.request(dict(req, body={"spec": {"restartPolicy": "Never"}}, patch_type="application/merge-patch+json"))
    assert resp["code"] == 422 and "pod updates may not change fields" in resp["body"]["message"]
    assert ok(get_pod(cluster, "web"))["spec"]["restartPolicy"] == "Always"


def test_strategic_merge_patch_set_element_order_directive():
    """`$setElementOrder/<list>` orders the merged list by merge key; items it does not name
    keep their relative order after the named ones.  A null field in a merged item deletes it."""
    from sim.api.patch import strategic_merge_patch

    live = {"status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"},
                                      {"type": "DisruptionTarget", "status": "True"}]}}
    patch = {"status": {"$setElementOrder/conditions": [{"type": "Ready"}, {"type": "PodScheduled"}],
                        "conditions": [{"type": "Ready", "status": "True"},
                                       {"type": "PodScheduled", "status": "True", "reason": None}]}}
    out = strategic_merge_patch(live, patch)
    assert out["status"]["conditions"] == [{"type": "Ready", "status": "True"},
                                           {"type": "PodScheduled", "status": "True"},
                                           {"type": "DisruptionTarget", "status": "True"}]
    assert "$setElementOrder/conditions" not in out["status"]
    # Nulls in a list taken whole (no list to merge it with yet) are dropped, not stored.
    first = strategic_merge_patch({"status": {}}, {"status": {"containerStatuses": [
        {"name": "app", "state": {"waiting": None, "running": {"startedAt": "t"}, "terminated": None}}]}})
    assert first["status"]["containerStatuses"] == [{"name": "app", "state": {"running": {"startedAt": "t"}}}]
    assert live["status"]["conditions"][0]["reason"] == "Unschedulable"  # the live object untouched


def test_status_subresource_ignores_spec_and_main_resource_ignores_status(cluster):
    ok(create_pod(cluster, "web"))
    base = {"verb": "patch", "resource": "pods", "namespace": "default", "name": "web",
            "patch_type": "application/merge-patch+json"}
    p = ok(cluster.request(dict(base, body={"status": {"phase": "Failed"}})))
    assert p["status"]["phase"] == "Pending"
    p = ok(cluster.request(dict(base, subresource="status", body={"status": {"message": "hi"},
                                                                  "metadata": {"labels": {"z": "1"}}})))
    assert p["status"]["message"] == "hi" and "z" not in (p["metadata"].get("labels") or {})


def test_label_and_field_selectors(cluster):
    for name, app in (("a", "web"), ("b", "web"), ("c", "db")):
        body = (MakePod().name(name).namespace("default")
                .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest())
        body["metadata"]["labels"] = {"app": app, "tier": "x" if name != "b" else "y"}
        ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}))
    cluster.advance(5)

    def names(q):
        body = ok(cluster.request({"verb": "list", "resource": "pods", "namespace": "default", "query": q}))
        return [p["metadata"]["name"] for p in body["items"]]

    assert names({"labelSelector": "app=web"}) == ["a", "b"]
    assert names({"labelSelector": "app in (web,db),tier!=y"}) == ["a", "c"]
    assert names({"labelSelector": "!tier"}) == []
    assert names({"fieldSelector": "metadata.name=c"}) == ["c"]
    node = ok(get_pod(cluster, "a"))["spec"]["nodeName"]
    assert "a" in names({"fieldSelector": f"spec.nodeName={node}"})
    resp = cluster.request({"verb": "list", "resource": "pods", "query": {"fieldSelector": "spec.bogus=1"}})
    assert resp["code"] == 400 and "field label not supported" in resp["body"]["message"]


def test_graceful_delete_then_kubelet_removes_the_pod(cluster):
    ok(create_pod(cluster, "web"))
    cluster.advance(10)
    assert ok(get_pod(cluster, "web"))["status"]["phase"] == "Running"
    body = ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "web"}))
    assert body["metadata"]["deletionGracePeriodSeconds"] == 30 and body["metadata"]["deletionTimestamp"]
    cluster.advance(3)  # nginx exits on SIGTERM well within the grace period
    assert get_pod(cluster, "web")["code"] == 404


def test_unscheduled_pod_is_deleted_at_once(cluster):
    ok(create_pod(cluster, "huge", cpu="64"))
    cluster.advance(1)
    ok(cluster.request({"verb": "delete", "resource": "pods", "namespace": "default", "name": "huge"}))
    assert get_pod(cluster, "huge")["code"] == 404


def test_binding_twice_is_a_conflict(cluster):
    ok(create_pod(cluster, "web"))
    cluster.advance(2)
    node = ok(get_pod(cluster, "web"))["spec"]["nodeName"]
    resp = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "name": "web",
                            "subresource": "binding", "body": {"target": {"name": "worker-3"}}})
    assert resp["code"] == 409 and f'is already assigned to node "{node}"' in resp["body"]["message"]


def test_watch_resumes_from_a_resource_version_and_too_old_is_410(cluster):
    listed = ok(cluster.request({"verb": "list", "resource": "pods", "namespace": "default"}))
    rv = listed["metadata"]["resourceVersion"]
    ok(create_pod(cluster, "web"))
    cluster.advance(10)
    w = cluster.request({"verb": "watch", "resource": "pods", "namespace": "default",
                         "query": {"resourceVersion": rv, "fieldSelector": "metadata.name=web"}})
    types = [e["type"] for e in w["events"]]
    assert types[0] == "ADDED" and set(types[1:]) == {"MODIFIED"}
    assert w["events"][-1]["object"]["status"]["phase"] == "Running"
    again = cluster.request({"verb": "watch", "resource": "pods", "namespace": "default",
                             "query": {"resourceVersion": w["resourceVersion"]}})
    assert again["events"] == []
    cache = cluster.apiserver.cache.resources["pods"]
    cache.oldest_rv = 10**9  # pretend the history rolled over
    resp = cluster.request({"verb": "watch", "resource": "pods", "query": {"resourceVersion": "5"}})
    assert resp["code"] == 410 and resp["body"]["reason"] == "Expired"


def test_generate_name_and_dry_run(cluster):
    body = (MakePod().name("x").namespace("default")
            .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest())
    body["metadata"] = {"generateName": "job-", "namespace": "default"}
    made = ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body}))
    assert made["metadata"]["name"].startswith("job-") and len(made["metadata"]["name"]) == 9
    made = ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": MakePod().name("dry").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest(),
                               "query": {"dryRun": "All"}}), 201)
    assert made["metadata"]["name"] == "dry"
    assert cluster.store.get("/registry/pods/default/dry") is None and get_pod(cluster, "dry")["code"] == 404


def test_system_namespaces_exist_and_cannot_be_deleted(cluster):
    names = [n["metadata"]["name"] for n in ok(cluster.request({"verb": "list", "resource": "namespaces"}))["items"]]
    # ... and kube-flannel, where the setup applied the CNI plugin's manifest (kube-flannel.yml).
    assert names == ["default", "kube-flannel", "kube-node-lease", "kube-public", "kube-system"]
    resp = cluster.request({"verb": "delete", "resource": "namespaces", "name": "default"})
    assert resp["code"] == 403


def test_namespace_deletion_removes_its_contents(cluster):
    ok(cluster.request({"verb": "create", "resource": "namespaces", "body": MakeNamespace().name("team").obj()}))
    body = (MakePod().name("a").namespace("default")
            .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest())
    body["metadata"]["namespace"] = "team"
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "team", "body": body}))
    cluster.advance(5)
    ok(cluster.request({"verb": "delete", "resource": "namespaces", "name": "team"}))
    cluster.advance(15)
    assert cluster.request({"verb": "get", "resource": "namespaces", "name": "team"})["code"] == 404
    assert ok(cluster.request({"verb": "list", "resource": "pods", "namespace": "team"}))["items"] == []


def test_namespace_deletion_goes_pods_first_and_shows_its_conditions(cluster):
    """OrderedNamespaceDeletion (1.33+): while a pod is terminating, nothing else is deleted;
    the namespace's conditions say what remains (status_condition_utils.go's words)."""
    ok(cluster.request({"verb": "create", "resource": "namespaces", "body": MakeNamespace().name("ordered").obj()}))
    body = (MakePod().name("held").namespace("ordered").finalizers("example.com/hold")
            .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest())
    ok(cluster.request({"verb": "create", "resource": "pods", "namespace": "ordered", "body": body}))
    lease = MakeLease().name("kept").namespace("ordered").set("spec", {}).obj()
    ok(cluster.request({"verb": "create", "group": "coordination.k8s.io", "resource": "leases",
                        "namespace": "ordered", "body": lease}))
    cluster.advance(10)
    ok(cluster.request({"verb": "delete", "resource": "namespaces", "name": "ordered"}))
    cluster.advance(5)
    ns = ok(cluster.request({"verb": "get", "resource": "namespaces", "name": "ordered"}))
    assert ns["status"]["phase"] == "Terminating"
    conds = {c["type"]: c for c in ns["status"]["conditions"]}
    assert conds["NamespaceContentRemaining"]["status"] == "True"
    message = conds["NamespaceContentRemaining"]["message"]  # the pod's events remain too
    assert message.startswith("Some resources are remaining: ")
    assert "leases.coordination.k8s.io has 1 resource instances, pods. has 1 resource instances" in message
    assert conds["NamespaceDeletionDiscoveryFailure"] == {**conds["NamespaceDeletionDiscoveryFailure"], "status": "False",
                                                          "reason": "ResourcesDiscovered"}
    assert conds["NamespaceFinalizersRemaining"]["message"] == \
        "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
    # the pod is held by its finalizer; the lease waits for it
    assert ok(cluster.request({"verb": "get", "group": "coordination.k8s.io", "resource": "leases",
                               "namespace": "ordered", "name": "kept"}))["metadata"].get("deletionTimestamp") is None
    ok(cluster.request({"verb": "patch", "resource": "pods", "namespace": "ordered", "name": "held",
                        "body": {"metadata": {"finalizers": None}}}))
    cluster.advance(10)
    assert cluster.request({"verb": "get", "resource": "namespaces", "name": "ordered"})["code"] == 404


def test_unknown_fields_are_dropped_with_a_warning_or_refused_when_strict(cluster):
    body = (MakePod().name("web").namespace("default")
            .container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest())
    body["spec"]["containers"][0]["imagee"] = "typo"
    body["spec"]["bogus"] = 1
    strict = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body,
                              "query": {"fieldValidation": "Strict"}})
    assert strict["code"] == 400
    msg = strict["body"]["message"]
    assert msg.startswith('Pod in version "v1" cannot be handled as a Pod: strict decoding error: ')
    assert 'unknown field "spec.bogus"' in msg and 'unknown field "spec.containers[0].imagee"' in msg
    assert get_pod(cluster, "web")["code"] == 404
    warned = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body})
    assert warned["code"] == 201
    assert sorted(warned["warnings"]) == ['unknown field "spec.bogus"', 'unknown field "spec.containers[0].imagee"']
    stored = ok(get_pod(cluster, "web"))
    assert "bogus" not in stored["spec"] and "imagee" not in stored["spec"]["containers"][0]
    patched = cluster.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": "web",
                               "body": {"metadata": {"labels": {"a": "b"}}, "spec": {"nope": True}},
                               "patch_type": "application/merge-patch+json", "query": {"fieldValidation": "Strict"}})
    assert patched["code"] == 400 and 'unknown field "spec.nope"' in patched["body"]["message"]
    bad = cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": MakePod().name("x").namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").manifest(),
                           "query": {"fieldValidation": "Loose"}})
    assert bad["code"] == 400


def _anti_affine(name, rev, **term_extra):
    body = MakePod().name(name).namespace("default").container("nginx:1.27", name="app", cpu="100m", memory="64Mi").affinity({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname",
         **term_extra}]}}).manifest()
    body["metadata"]["labels"] = {"app": "web", "pod-template-hash": rev}
    return body


def test_match_label_keys_are_merged_into_pod_affinity_selectors_on_create(cluster):
    """MatchLabelKeysInPodAffinity (on by default since 1.31): the pod strategy ANDs
    `key In [the pod's value]` (matchLabelKeys) and `key NotIn [...]` (mismatchLabelKeys) into the
    term's labelSelector on create, before validation; the scheduler reads only the selector.
    So replicas of one rollout revision spread one per node, and another revision's ignore them."""
    create = lambda body: cluster.request({"verb": "create", "resource": "pods", "namespace": "default", "body": body})
    for i in range(3):
        stored = ok(create(_anti_affine(f"a-{i}", "aaa", matchLabelKeys=["pod-template-hash"],
                                        mismatchLabelKeys=["team"])))
    term = stored["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    # No "team" label on the pod: its mismatchLabelKeys entry adds nothing.
    assert term["labelSelector"] == {"matchLabels": {"app": "web"}, "matchExpressions": [
        {"key": "pod-template-hash", "operator": "In", "values": ["aaa"]}]}
    assert term["matchLabelKeys"] == ["pod-template-hash"]
    ok(create(_anti_affine("a-3", "aaa", matchLabelKeys=["pod-template-hash"])))
    ok(create(_anti_affine("b-0", "bbb", matchLabelKeys=["pod-template-hash"])))
    cluster.advance(10)
    nodes = {n: ok(get_pod(cluster, n))["spec"].get("nodeName") for n in ("a-0", "a-1", "a-2", "a-3", "b-0")}
    assert len({nodes["a-0"], nodes["a-1"], nodes["a-2"]} - {None}) == 3
    assert nodes["a-3"] is None  # three workers, each with a revision-aaa replica
    assert nodes["b-0"] is not None  # revision bbb's selector does not match aaa's pods

    # A key both in matchLabelKeys and in the selector is refused after the merge, as upstream
    # does; nothing is stored.
    bad = _anti_affine("dup", "aaa", matchLabelKeys=["app"])
    resp = create(bad)
    assert resp["code"] == 422, resp
    assert "exists in both matchLabelKeys and labelSelector" in resp["body"]["message"], resp["body"]["message"]
    assert get_pod(cluster, "dup")["code"] == 404


def test_a_first_strategic_status_patch_with_nulls_stores_none_and_the_snapshot_reads_it(cluster):
    """The kubelet names the container states it leaves (null) so that a strategic merge
    deletes them; when the pod has no containerStatuses yet (its first post comes when the
    container already runs), those nulls must not be stored: every reader of
    state.waiting / running / terminated expects an object or nothing."""
    ok(create_pod(cluster, "first-post"))
    patch = {"status": {"containerStatuses": [{"name": "app", "image": "nginx:1.27", "ready": True,
                                               "state": {"waiting": None, "terminated": None,
                                                         "running": {"startedAt": "2026-01-01T00:00:00Z"}}}]}}
    stored = ok(cluster.request({"verb": "patch", "resource": "pods", "namespace": "default", "name": "first-post",
                                 "subresource": "status", "body": patch,
                                 "patch_type": "application/strategic-merge-patch+json"}))
    assert stored["status"]["containerStatuses"][0]["state"] == {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    drawn = [p for n in cluster.snapshot()["nodes"] for p in n["pods"]] + cluster.snapshot()["pending"]
    assert any(p["name"] == "first-post" for p in drawn)


def test_a_running_pods_conditions_keep_a_null_last_probe_time(cluster):
    """The kubelet's strategic status patches merge conditions by type and a merge drops a
    patch's nulls; the API server stores what Go's encoding gives: a zero lastProbeTime is null,
    never missing (as `kubectl get pod -o yaml` shows on a real cluster)."""
    ok(create_pod(cluster, "probe-times"))
    cluster.advance(10)
    pod = ok(get_pod(cluster, "probe-times"))
    assert pod["status"]["phase"] == "Running"
    conds = pod["status"]["conditions"]
    assert {c["type"] for c in conds} >= {"Ready", "ContainersReady", "Initialized", "PodScheduled"}
    assert all("lastProbeTime" in c and c["lastProbeTime"] is None and c["lastTransitionTime"] for c in conds), conds
    assert all("reason" not in c and "message" not in c for c in conds if c["status"] == "True"), conds


def test_a_dry_run_update_patch_or_delete_writes_nothing(cluster):
    ok(create_pod(cluster, "dry"))
    cluster.advance(5)  # bound and running: only this test's requests could change it now
    before = ok(get_pod(cluster, "dry"))
    base = {"resource": "pods", "namespace": "default", "name": "dry", "query": {"dryRun": "All"}}
    patched = ok(cluster.request({**base, "verb": "patch", "patch_type": "application/merge-patch+json",
                                  "body": {"metadata": {"labels": {"tier": "x"}}}}))
    assert patched["metadata"]["labels"]["tier"] == "x"
    deleted = ok(cluster.request({**base, "verb": "delete"}))
    assert deleted["metadata"]["deletionTimestamp"]  # what a graceful delete would write
    after = ok(get_pod(cluster, "dry"))
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert "tier" not in (after["metadata"].get("labels") or {}) and "deletionTimestamp" not in after["metadata"]


def test_a_generated_name_that_is_taken_is_drawn_again(cluster, monkeypatch):
    """RetryGenerateName (GA in 1.32): the apiserver draws another suffix instead of answering
    409 for a name the client never chose; a chosen name still gets the 409."""
    import sim.apiserver.server as server_module
    suffixes = iter(["aaaaa", "aaaaa", "bbbbb"])
    monkeypatch.setattr(server_module, "random_suffix", lambda rng: next(suffixes))
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}}
    first = ok(cluster.request({"verb": "create", "resource": "configmaps", "namespace": "default", "body": body}), 201)
    second = ok(cluster.request({"verb": "create", "resource": "configmaps", "namespace": "default", "body": body}), 201)
    assert (first["metadata"]["name"], second["metadata"]["name"]) == ("x-aaaaa", "x-bbbbb")
    taken = cluster.request({"verb": "create", "resource": "configmaps", "namespace": "default",
                             "body": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x-aaaaa"}}})
    assert taken["code"] == 409


def test_events_expire_after_the_event_ttl_each_when_its_time_comes(cluster):
    """kube-apiserver --event-ttl: an event is removed once it is older than the TTL (upstream
    through an etcd lease; here the apiserver's minute sweep, which skips a kind until its
    oldest object can have expired)."""
    for api in cluster.apiservers:
        api.event_ttl = 150.0

    def event(name):
        ok(cluster.request({"verb": "create", "resource": "events", "namespace": "default", "body": {
            "apiVersion": "v1", "kind": "Event", "metadata": {"name": name},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
            "reason": "Test", "message": name}}), 201)

    def exists(name):
        return cluster.request({"verb": "get", "resource": "events", "namespace": "default",
                                "name": name})["code"] == 200

    event("first")
    cluster.advance(100)
    event("second")
    cluster.advance(115)   # first is 215 s old: gone (a sweep a minute); second 115 s: kept
    assert not exists("first") and exists("second")
    cluster.advance(100)   # second is 215 s old
    assert not exists("second")
