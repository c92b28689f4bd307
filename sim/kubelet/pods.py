"""The kubelet's pods: one worker per pod running its containers through CRI, as upstream's pod
workers and SyncPod (pkg/kubelet/pod_workers.go, kuberuntime/kuberuntime_manager.go) do.

A pod starts with its sandbox (the pause container, the pod's IP); then each container of the
spec is pulled (imagePullPolicy), created and started, and runs the program its image and argv
name.  When a container exits (the runtime's CONTAINER_STOPPED_EVENT), `restartPolicy`
decides: Always restarts it, OnFailure restarts a non-zero exit, Never leaves it.  Restarts
wait out the crash-loop back-off (10 s doubling to 5 min, reset after 10 minutes without a
failure): meanwhile the container waits as `CrashLoopBackOff`.  A failed pull is `ErrImagePull`,
then `ImagePullBackOff` until the image back-off lets the next pull try.  When every container
has terminated for good the pod is Succeeded or Failed and its sandbox is stopped.

Events are upstream's (pkg/kubelet/events): Pulling, Pulled, Failed, BackOff, Created,
Started, Killing, with the same messages.
"""
from __future__ import annotations

import math

from sim.api.gofmt import go_duration
from sim.api.podutil import is_deleting
from sim.kubelet import ephemeral, persistentvolumes, podconfig
from sim.kubelet.backoff import Backoff
from sim.kubelet.dns import pod_dns_config
from sim.kubelet.hostpath import NodeDisk
from sim.kubelet.lifecycle import run_handler
from sim.kubelet.staticpods import is_mirror_pod
from sim.kubelet.podstatus import ContainerRecord, container_status, pod_phase
from sim.runtime import images as imagelib
from sim.runtime import rootfs
from sim.runtime.process import Volume

# How soon the pod worker looks again at a container waiting out a back-off (upstream's pod
# worker requeues after the back-off; the sync loop's one-second tick bounds it).
RESYNC_AFTER_BACKOFF = 0.5
MIN_RESYNC_DELAY = 0.001
# The volume manager's retries of a volume that cannot be set up (2 s doubling to ~2 min).
VOLUME_RETRY_SECONDS = 2.0
VOLUME_RETRY_MAX_SECONDS = 122.0
# How soon a container waiting as CreateContainerConfigError is tried again.
CONFIG_ERROR_RETRY_SECONDS = 10.0
TERMINAL = ("Succeeded", "Failed")
POD_WORKER_BACKOFF = 10.0   # kubelet.go backOffPeriod: a pod worker's retry after a failed sync


def pod_name(pod: dict) -> str:
    """format.Pod: name_namespace(uid)."""
    md = pod["metadata"]
    return f"{md['name']}_{md.get('namespace', '')}({md.get('uid', '')})"


def should_restart(policy: str, exit_code: int | None) -> bool:
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return exit_code != 0
    return True


class PodLifecycle:
    """Mixed into Kubelet: needs self.api, self.cri, self.now, self.timestamp, self.host,
    self.runtime_kind, self.call_later, self.action."""

    # The kubelet's --cluster-dns (KubeletConfiguration clusterDNS; kubeadm writes the kube-dns
    # Service's address, the service range's 10th: the Cluster sets it from serviceSubnet).
    cluster_dns = "10.96.0.10"

    def init_pods(self) -> None:
        self.workers: dict[str, dict] = {}       # pod uid -> worker state
        self.crash_backoff = Backoff()
        self.node_disk = NodeDisk()              # hostPath volumes: the node's own files
        self.image_backoff = Backoff()
        # pod uid -> the worker whose minute refresh of mounted ConfigMaps and Secrets sleeps
        # (_refresh_volumes): every object it reads is watched and nothing changed since.
        self.dormant_refreshes: dict[str, dict] = {}

    # -- the informer's events ------------------------------------------------------------
    def _pods_synced(self) -> None:
        # Sandboxes the runtime runs for pods no longer bound here are stopped (orphans).
        known = {p["metadata"]["uid"] for p in self.pod_informer.list()} | set(self.static_workers())
        for uid in list(self.runtime_sandboxes or {}):
            if uid not in known:
                self.cri("cri.StopPodSandbox", {"pod_uid": uid}, lambda r: None)
                self.cri("cri.RemovePodSandbox", {"pod_uid": uid}, lambda r: None)
        self.sync_mirror_pods()

    def sync_pod(self, pod: dict) -> None:
        if is_mirror_pod(pod):
            return self.mirror_pod_changed(pod)  # the static pod runs from its file (staticpods.py)
        uid = pod["metadata"]["uid"]
        w = self.workers.get(uid)
        if is_deleting(pod):
            if w is None:
                w = self._new_worker(pod)
            w["pod"] = pod
            self.wake_refresh(uid)
            if w["state"] not in ("terminating", "terminated"):
                self.terminate(w)
            return
        if w is not None:
            w["pod"] = pod
            self.wake_refresh(uid)  # the downward API reads the pod object
            ephemeral.start_added(self, w)  # kubectl debug added one
            return
        if pod["status"].get("phase") in TERMINAL:
            return
        w = self._new_worker(pod)
        sandbox = (self.runtime_sandboxes or {}).get(uid)
        if sandbox is not None and pod["status"].get("phase") == "Running":
            # The runtime still runs this pod (Pilothouse itself restarted): adopt it.
            self._adopt(w, sandbox)
            return
        if pod["status"].get("phase") == "Running":
            # The node rebooted: its containers are gone; start the pod again.
            for cs in pod["status"].get("containerStatuses") or []:
                rec = w["containers"].get(cs.get("name"))
                if rec is not None:
                    rec.restart_count = int(cs.get("restartCount", 0)) + 1
            self.api.event(pod, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.", "kubelet",
                           self.host)
        self.start_pod(w)

    def _new_worker(self, pod: dict) -> dict:
        spec = pod.get("spec") or {}
        records = {c["name"]: ContainerRecord(c["name"], c.get("image", "")) for c in spec.get("containers") or []}
        inits = {c["name"]: ContainerRecord(c["name"], c.get("image", "")) for c in spec.get("initContainers") or []}
        w = self.workers[pod["metadata"]["uid"]] = {"uid": pod["metadata"]["uid"], "pod": pod, "state": "new",
                                                    "ip": None, "containers": records, "init": inits, "phase": None}
        return w

    def _adopt(self, w: dict, sandbox: dict) -> None:
        pod = w["pod"]
        w["ip"] = sandbox.get("ip")
        w["ips"] = sandbox.get("ips") or ([w["ip"]] if w["ip"] else None)
        w["state"] = "running"
        w["sandbox_ready"] = True
        w["initialized"] = True  # a running pod's init containers have done their work
        for cs in pod["status"].get("initContainerStatuses") or []:
            rec = w["init"].get(cs.get("name"))
            term = (cs.get("state") or {}).get("terminated")
            if rec is not None and term:
                rec.state, rec.exit_code, rec.reason, rec.ever_ran = "terminated", term.get("exitCode"), term.get("reason", ""), True
                rec.started_at, rec.finished_at, rec.restart_count = term.get("startedAt"), term.get("finishedAt"), int(cs.get("restartCount", 0))
        ids = sandbox.get("containers") or {}
        for cs in pod["status"].get("containerStatuses") or []:
            rec = w["containers"].get(cs.get("name"))
            if rec is None:
                continue
            rec.restart_count = int(cs.get("restartCount", 0))
            rec.image, rec.image_id = cs.get("image", rec.image), cs.get("imageID", "")
            rec.last_terminated = (cs.get("lastState") or {}).get("terminated")
            state = cs.get("state") or {}
            if "running" in state and rec.name in ids:
                rec.state, rec.started_at, rec.ever_ran = "running", state["running"].get("startedAt"), True
                rec.container_id = ids[rec.name]
            elif "terminated" in state:
                t = state["terminated"]
                rec.state, rec.exit_code, rec.reason = "terminated", t.get("exitCode"), t.get("reason", "")
                rec.started_at, rec.finished_at, rec.ever_ran = t.get("startedAt"), t.get("finishedAt"), True
                rec.finished_virtual = self.now
        exited = sandbox.get("exited") or {}
        if not exited:
            self._sync_containers(w)
            return

        def reconstructed() -> None:
            # A container that exited before this kubelet subscribed to the runtime's events (its
            # program ended as it was adopted): what the PLEG's first relist finds exited.  It
            # restarts with the pod's volumes, which the volume manager reconstructs first.
            for name, ended in sorted(exited.items()):
                rec = w["containers"].get(name)
                if rec is not None and rec.state == "running" and rec.container_id == ids.get(name):
                    self._container_ended(rec, ended.get("exit_code", 0), ended.get("reason"))
            self._sync_containers(w)
        self._refresh_volumes(w, then=reconstructed)

    def start_pod(self, w: dict) -> None:
        pod = w["pod"]
        host_network = bool(pod["spec"].get("hostNetwork"))
        error = None if host_network else self.network_error()
        if error:
            # kubelet.go SyncPod: "network is not ready: ..." (event NetworkNotReady); the pod
            # worker tries again after its back-off period.
            w["state"] = "new"
            self.api.event(pod, "NetworkNotReady", error, "kubelet", self.host, type_="Warning")
            self.call_later(POD_WORKER_BACKOFF, lambda: self._retry_start(w))
            return
        w["state"] = "creating"
        # A hostNetwork pod shares the node's network namespace: its IP is the node's.  Any other
        # pod's comes from the CNI plugin the runtime runs for the sandbox (RunPodSandbox).
        w["ip"] = self.internal_ip if host_network else None
        w["ips"] = list(self.internal_ips) if host_network else None
        self.action(f"kubelet on {self.host} starting pod {pod['metadata']['namespace']}/{pod['metadata']['name']}")
        self.post_status(w)
        # generatePodSandboxConfig: GetPodDNS, whose cut nameservers / search paths are events.
        for message in pod_dns_config(pod, [self.cluster_dns] if self.cluster_dns else [])[3]:
            self.api.event(pod, "DNSConfigForming", message, "kubelet", self.host, type_="Warning")
        self.cri("cri.RunPodSandbox", {"pod_uid": w["uid"], "ip": w["ip"], "host_network": host_network},
                 lambda r: self._sandbox_ready(w, r))

    def _retry_start(self, w: dict) -> None:
        if self.workers.get(w["uid"]) is w and w["state"] == "new" and not is_deleting(w["pod"]):
            self.start_pod(w)

    def _sandbox_ready(self, w: dict, reply: dict | None = None) -> None:
        if w["state"] != "creating":
            return
        if reply and reply.get("error"):
            # FailedCreatePodSandBox, then the pod worker's next sync tries again.
            self.api.event(w["pod"], "FailedCreatePodSandBox",
                           f"Failed to create pod sandbox: rpc error: code = Unknown desc = {reply['error']}",
                           "kubelet", self.host, type_="Warning")
            w["state"] = "new"
            self.call_later(POD_WORKER_BACKOFF, lambda: self._retry_start(w))
            return
        if reply and reply.get("ip"):
            w["ip"] = reply["ip"]
            w["ips"] = reply.get("ips") or [reply["ip"]]
        w["sandbox_ready"] = True
        self._mount_volumes(w, VOLUME_RETRY_SECONDS)

    # -- volumes (the volume manager) -------------------------------------------------------
    def _mount_volumes(self, w: dict, retry: float) -> None:
        """Set up the pod's volumes, then start its containers; a volume that cannot be set
        up (its ConfigMap or Secret missing) is a FailedMount event and a retry, doubling
        from 2 s to about 2 minutes, while the pod stays ContainerCreating."""
        pod = w["pod"]
        refs = self._volume_refs(w)

        def fetched(objs: dict) -> None:
            if w["state"] != "creating" or self.workers.get(w["uid"]) is not w:
                return
            built_from = self._volume_inputs(w, objs)
            volumes, error = self._build_volumes(w, objs)
            if error:
                self.api.event(pod, "FailedMount", error, "kubelet", self.host, type_="Warning")
                self.call_later(retry, lambda: self._mount_volumes(w, min(retry * 2, VOLUME_RETRY_MAX_SECONDS)))
                return
            persistentvolumes.setup(self, w, lambda pvs, err, waiting: claims_mounted(volumes, built_from, pvs, err,
                                                                                      waiting))

        def claims_mounted(volumes: dict, built_from: tuple | None, pvs: dict, error: str | None,
                           waiting: bool) -> None:
            """persistentVolumeClaim volumes (sim/kubelet/persistentvolumes.py): an attachment
            still on its way is waited for quietly, up to the volume manager's timeout."""
            if w["state"] != "creating" or self.workers.get(w["uid"]) is not w:
                return
            if error:
                since = w.setdefault("attach_wait_since", self.now)
                if not waiting or self.now - since >= persistentvolumes.WAIT_FOR_ATTACH_TIMEOUT:
                    w["attach_wait_since"] = self.now
                    self.api.event(pod, "FailedMount", error, "kubelet", self.host, type_="Warning")
                delay = persistentvolumes.WAIT_RETRY_SECONDS if waiting else retry
                self.call_later(delay, lambda: self._mount_volumes(w, retry if waiting else
                                                                   min(retry * 2, VOLUME_RETRY_MAX_SECONDS)))
                return
            volumes.update(pvs)
            w["volumes"] = volumes
            w["volumes_built_from"] = built_from
            w["state"] = "running"
            if any(r[0] in podconfig.KINDS for r in refs):
                self.call_later(podconfig.SYNC_SECONDS, lambda: self._refresh_volumes(w))
            self._sync_containers(w)
        podconfig.fetch(self, pod["metadata"]["namespace"], refs, fetched)

    def _build_volumes(self, w: dict, objs: dict) -> tuple[dict, str | None]:
        pod = w["pod"]
        volumes = dict(w.get("volumes") or {})
        for v in pod["spec"].get("volumes") or []:
            name = v.get("name")
            if not isinstance(name, str):
                continue
            if isinstance(v.get("hostPath"), dict):
                if name not in volumes:
                    volume, error = self.node_disk.mount(str(v["hostPath"].get("path") or "/"), v["hostPath"].get("type"))
                    if error:
                        return volumes, f'MountVolume.SetUp failed for volume "{name}" : {error}'
                    volumes[name] = volume
                continue
            files, error = podconfig.volume_files(pod, v, objs, self.internal_ips, w.get("ips") or w.get("ip"))
            if error:
                return volumes, error
            if files is None:  # emptyDir, and kinds not simulated yet: an empty directory
                volumes.setdefault(name, Volume())
            elif name in volumes:
                volumes[name].files.clear()
                volumes[name].files.update(files)
            else:
                volumes[name] = Volume(files)
        return volumes, None

    def _refresh_volumes(self, w: dict, then=None) -> None:
        """The kubelet's periodic sync: mounted ConfigMaps and Secrets are read again and the
        files updated in place (every container mounting them sees the change).

        As upstream's volume manager rewrites a ConfigMap or Secret volume only when what it
        holds changed (pkg/volume/util/atomic_writer.go Write compares the payload with what is
        on disk first), the files are built again only when something they are made from did:
        an object read (a new resourceVersion, or one gone or back), the pod object (its labels,
        annotations, ... for the downward API) or the pod's IP.  Built from the same inputs they
        would be the same files, so the refresh still brings a change within SYNC_SECONDS.

        And as a refresh whose inputs did not change does nothing, one whose objects are all
        read from the kubelet's watches (objectcache.py) sleeps instead of being scheduled every
        minute: the watch of one of its objects seeing a change, or the pod object changing,
        wakes it at its own next minute (wake_refresh), when it would have run anyway.
        `then`: called once the volumes are built (an adopted pod's, reconstructed)."""
        if w["state"] not in ("running", "finished") or self.workers.get(w["uid"]) is not w:
            return
        pod = w["pod"]

        def fetched(objs: dict) -> None:
            if self.workers.get(w["uid"]) is w:
                built_from = self._volume_inputs(w, objs)
                if built_from is None or built_from != w.get("volumes_built_from"):
                    volumes, _ = self._build_volumes(w, objs)
                    w["volumes"] = volumes
                    w["volumes_built_from"] = built_from
                if then is not None:
                    then()
                if self.dormant_refresh_enabled and built_from is not None and \
                        self.object_cache.knows(pod["metadata"]["namespace"], refs):
                    w["refresh_due"] = self.now + podconfig.SYNC_SECONDS
                    self.dormant_refreshes[w["uid"]] = w
                else:
                    self.call_later(podconfig.SYNC_SECONDS, lambda: self._refresh_volumes(w))
        refs = self._volume_refs(w)
        podconfig.fetch(self, pod["metadata"]["namespace"], refs, fetched, refresh_for=w["uid"])

    # Sleeping refreshes (_refresh_volumes); tests turn it off to compare.
    dormant_refresh_enabled = True

    def wake_refresh(self, uid: str) -> None:
        """Something a sleeping refresh reads changed: run it at its next minute."""
        w = self.dormant_refreshes.pop(uid, None)
        if w is None:
            return
        due = w["refresh_due"]
        if due < self.now:
            due += math.ceil((self.now - due) / podconfig.SYNC_SECONDS) * podconfig.SYNC_SECONDS
        self.call_later(due - self.now, lambda: self._refresh_volumes(w))

    @staticmethod
    def _volume_refs(w: dict) -> list:
        """(resource, name, optional) of every ConfigMap and Secret the pod's volumes name, read
        once per pod object (the informer replaces the object on a change, never edits it)."""
        pod = w["pod"]
        cached = w.get("volume_refs")
        if cached is None or cached[0] is not pod:
            refs = list(podconfig._sources({"spec": {"volumes": pod["spec"].get("volumes") or []}}))
            cached = w["volume_refs"] = (pod, refs)
        return cached[1]

    def _volume_inputs(self, w: dict, objs: dict) -> tuple | None:
        """What _build_volumes makes the pod's files from: what the downward API reads of the
        pod object that can change (labels, annotations, the containers' resources: the rest
        it reads is immutable), its IP, the node's IP and each object read by resourceVersion
        (None: not found); None when an object has no resourceVersion to tell its versions
        apart.  By value, not the pod object: the kubelet's own status updates bring a new pod
        object every time, and files made again from the same values would be the same."""
        versions = []
        for key in sorted(objs):
            obj = objs[key]
            rv = None
            if obj is not None:
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if not rv:
                    return None
            versions.append((key, rv))
        pod = w["pod"]
        md = pod.get("metadata") or {}
        resources = [c.get("resources") for c in (pod.get("spec") or {}).get("containers") or []
                     if isinstance(c, dict)]
        return md.get("labels"), md.get("annotations"), resources, w.get("ip"), self.internal_ip, tuple(versions)

    # -- SyncPod: what each container needs now ------------------------------------------
    def _sync_containers(self, w: dict) -> None:
        """computePodActions for the containers: start what never ran, restart what exited
        when the policy says so and the back-off allows; report; finish a pod that is done."""
        if w["state"] != "running":
            return
        pod = w["pod"]
        policy = pod["spec"].get("restartPolicy", "Always")
        # Once initialized, a pod stays so: a sidecar that exits later is restarted beside the
        # app's containers, which go on.
        done = self._sync_init_containers(w, pod, policy)
        w["initialized"] = bool(w.get("initialized")) or done
        if not w["initialized"]:
            self._maybe_finish(w)
            self.post_status(w)
            return
        for spec in pod["spec"].get("containers") or []:
            rec = w["containers"].get(spec["name"])
            if rec is None or rec.busy or rec.state == "running":
                continue
            if rec.state == "terminated" and not should_restart(policy, rec.exit_code):
                continue
            if rec.state == "terminated" or (rec.state == "waiting" and rec.reason == "CrashLoopBackOff"):
                key = f"{w['uid']}_{rec.name}"
                if self.crash_backoff.in_backoff_since(key, rec.finished_virtual or self.now, self.now):
                    self._crash_loop(w, spec, rec, key)
                    continue
                self.crash_backoff.next(key, rec.finished_virtual or self.now)
                self._move_to_last(rec)
                rec.restart_count += 1
            self._start_container(w, spec, rec)
        self._maybe_finish(w)
        self.post_status(w)

    def _sync_init_containers(self, w: dict, pod: dict, policy: str) -> bool:
        """Init containers, in order: each must exit 0 before the next starts (a failed one is
        restarted with the crash-loop back-off, or fails the pod under restartPolicy Never);
        a sidecar (restartPolicy Always) must have started, and keeps running.  True once the
        pod is initialized."""
        for spec in pod["spec"].get("initContainers") or []:
            rec = w["init"].get(spec["name"])
            if rec is None:
                continue
            sidecar = spec.get("restartPolicy") == "Always"
            if rec.busy:
                return False
            if rec.state == "running":
                if sidecar and rec.extra.get("started", True):
                    continue
                return False
            if rec.state == "terminated" and rec.exit_code == 0 and not sidecar:
                continue
            if rec.state == "terminated" or (rec.state == "waiting" and rec.reason == "CrashLoopBackOff"):
                if not sidecar and policy == "Never":
                    w["init_failed"] = True
                    return False
                key = f"{w['uid']}_{rec.name}"
                if self.crash_backoff.in_backoff_since(key, rec.finished_virtual or self.now, self.now):
                    self._crash_loop(w, spec, rec, key)
                    return False
                self.crash_backoff.next(key, rec.finished_virtual or self.now)
                self._move_to_last(rec)
                rec.restart_count += 1
            self._start_container(w, spec, rec, init=True)
            return False
        return True

    def _move_to_last(self, rec: ContainerRecord) -> None:
        """The exited container becomes lastState (the runtime keeps it for `logs --previous`)."""
        if rec.state == "terminated":
            term = rec.terminated()
            if rec.container_id:
                term["containerID"] = f"{self.runtime_kind}://{rec.container_id}"
            older = (rec.last_terminated or {}).get("containerID")
            if older:
                # The container GC keeps one dead container per container name (MaxPerPodContainer).
                self.cri("cri.RemoveContainer", {"container_id": older.partition("://")[2]}, lambda r: None)
            rec.last_terminated = term
        rec.state, rec.reason, rec.message, rec.exit_code = "waiting", "ContainerCreating", "", None

    def _crash_loop(self, w: dict, spec: dict, rec: ContainerRecord, key: str) -> None:
        pod = w["pod"]
        period = self.crash_backoff.get(key)
        if rec.state == "terminated":
            self._move_to_last(rec)
        message = f"back-off {go_duration(period)} restarting failed container={rec.name} pod={pod_name(pod)}"
        if rec.reason != "CrashLoopBackOff" or rec.message != message:
            self.api.event(self._ref(pod, f"spec.containers{{{rec.name}}}"), "BackOff",
                           f"Back-off restarting failed container {rec.name} in pod {pod_name(pod)}", "kubelet",
                           self.host, type_="Warning")
        rec.state, rec.reason, rec.message = "waiting", "CrashLoopBackOff", message
        due = (rec.finished_virtual or self.now) + period - self.now
        self._resync_later(w, max(due, 0.0))

    def _resync_later(self, w: dict, delay: float) -> None:
        # A millisecond past the back-off's end: `now - finished < period` must be False then,
        # whatever the rounding of the virtual clock.
        delay = max(delay, 0.0) + MIN_RESYNC_DELAY
        if w.get("resync_at") is not None and w["resync_at"] <= self.now + delay:
            return
        w["resync_at"] = self.now + delay

        def fire() -> None:
            w["resync_at"] = None
            self._sync_containers(w)
        self.call_later(delay, fire)

    # -- one container: image, create, start ------------------------------------------------
    def _start_container(self, w: dict, spec: dict, rec: ContainerRecord, init: bool = False,
                         field: str | None = None) -> None:
        pod = w["pod"]
        image = spec.get("image", "")
        ref = self._ref(pod, f"spec.{field or ('initContainers' if init else 'containers')}{{{spec['name']}}}")
        try:
            parsed = imagelib.parse_reference(image)
        except imagelib.InvalidReference as e:
            message = imagelib.kubelet_invalid_image_message(image, e)
            if rec.reason != "InvalidImageName":
                self.api.event(ref, "InspectFailed", message, "kubelet", self.host, type_="Warning")
                self.api.event(ref, "Failed", "Error: InvalidImageName", "kubelet", self.host, type_="Warning")
            rec.state, rec.reason, rec.message = "waiting", "InvalidImageName", message
            return
        policy = spec.get("imagePullPolicy") or ("Always" if parsed.tag == "latest" and not parsed.digest else "IfNotPresent")
        pull_key = f"{w['uid']}_{image}"
        rec.busy = True

        def alive() -> bool:
            return w["state"] == "running" and self.workers.get(w["uid"]) is w

        def image_status(r: dict) -> None:
            if not alive():
                rec.busy = False
                return
            present = r.get("present")
            if policy == "Never" and not present:
                rec.busy = False
                message = f'Container image "{image}" is not present with pull policy of Never'
                if rec.reason != "ErrImageNeverPull":
                    self.api.event(ref, "ErrImageNeverPull", message, "kubelet", self.host, type_="Warning")
                    self.api.event(ref, "Failed", "Error: ErrImageNeverPull", "kubelet", self.host, type_="Warning")
                rec.state, rec.reason, rec.message = "waiting", "ErrImageNeverPull", message
                return self.post_status(w)
            if present and policy != "Always":
                self.api.event(ref, "Pulled", f'Container image "{image}" already present on machine',
                               "kubelet", self.host)
                return create(parsed)
            if self.image_backoff.in_backoff_since(pull_key, w.get("pull_failed_at", {}).get(image, -1e18), self.now):
                rec.busy = False
                message = f'Back-off pulling image "{image}": ErrImagePull: {rec.extra.get("pull_error", "")}'
                if rec.reason != "ImagePullBackOff":
                    self.api.event(ref, "BackOff", f'Back-off pulling image "{image}"', "kubelet", self.host)
                    self.api.event(ref, "Failed", "Error: ImagePullBackOff", "kubelet", self.host, type_="Warning")
                rec.state, rec.reason, rec.message = "waiting", "ImagePullBackOff", message
                failed_at = w["pull_failed_at"][image]
                self._resync_later(w, max(0.0, failed_at + self.image_backoff.get(pull_key) - self.now))
                return self.post_status(w)
            self.api.event(ref, "Pulling", f'Pulling image "{image}"', "kubelet", self.host)
            w.setdefault("pull_started", {})[image] = self.now
            # PullImageRequest carries the pod's sandbox config: the runtime knows whose pull it is.
            self.cri("cri.PullImage", {"image": image, "pod_uid": w["uid"]}, pulled)

        def pulled(r: dict) -> None:
            if not alive():
                rec.busy = False
                return
            if r.get("error"):
                rec.busy = False
                self.image_backoff.next(pull_key, self.now)
                w.setdefault("pull_failed_at", {})[image] = self.now
                rec.extra["pull_error"] = r["error"]
                self.api.event(ref, "Failed", f'Failed to pull image "{image}": {r["error"]}', "kubelet", self.host,
                               type_="Warning")
                self.api.event(ref, "Failed", "Error: ErrImagePull", "kubelet", self.host, type_="Warning")
                rec.state, rec.reason, rec.message = "waiting", "ErrImagePull", r["error"]
                self.post_status(w)
                # The pod worker syncs again at once: now in the image back-off.
                self._resync_later(w, RESYNC_AFTER_BACKOFF)
                return
            self.image_backoff.reset(pull_key)
            d = r.get("duration", 0.0)
            waited = round(self.now - w.get("pull_started", {}).get(image, self.now), 3)
            self.api.event(ref, "Pulled", f'Successfully pulled image "{image}" in {go_duration(d)} '
                           f'({go_duration(max(d, waited))} including waiting). Image size: {r.get("size", 0)} bytes.',
                           "kubelet", self.host)
            create(parsed)

        def create(parsed_ref) -> None:
            podconfig.fetch(self, pod["metadata"]["namespace"], list(podconfig.container_sources(spec)), configured)

        def configured(objs: dict) -> None:
            if not alive():
                rec.busy = False
                return
            env, error = podconfig.container_env(pod, spec, objs, self.internal_ips, w.get("ips") or w.get("ip"),
                                                 {"cpu": str(self.cpu), "memory": self.memory})
            if error:
                # CreateContainerConfigError: the pod worker tries again at its next sync.
                rec.busy = False
                if rec.reason != "CreateContainerConfigError" or rec.message != error:
                    self.api.event(ref, "Failed", f"Error: {error}", "kubelet", self.host, type_="Warning")
                rec.state, rec.reason, rec.message = "waiting", "CreateContainerConfigError", error
                self._resync_later(w, CONFIG_ERROR_RETRY_SECONDS)
                return self.post_status(w)
            mounts, read_only = self._mounts_of(w, spec)
            self.cri("cri.CreateContainer", {"pod_uid": w["uid"], "name": spec["name"], "image": image,
                                             "command": spec.get("command"), "args": spec.get("args"),
                                             "env": env, "attempt": rec.restart_count,
                                             # LinuxContainerResources: the cgroup's cpu quota and memory.max
                                             "resources": spec.get("resources") or {},
                                             "mounts": mounts, "read_only": read_only,
                                             "files": rootfs.kubelet_files(pod, pod["spec"].get("hostname") or
                                                                           pod["metadata"]["name"], w.get("ip"),
                                                                           cluster_dns=self.cluster_dns),
                                             "hostname": pod["spec"].get("hostname") or pod["metadata"]["name"],
                                             # ContainerConfig's stdin, stdin_once and tty (kuberuntime_container.go)
                                             "stdin": bool(spec.get("stdin")), "stdin_once": bool(spec.get("stdinOnce")),
                                             "tty": bool(spec.get("tty"))},
                     created)

        def created(r: dict) -> None:
            if not alive() or r.get("error"):
                rec.busy = False
                if r.get("error") and alive():
                    self.api.event(ref, "Failed", f"Error: {r['error']}", "kubelet", self.host, type_="Warning")
                    rec.state, rec.reason, rec.message = "waiting", "CreateContainerError", r["error"]
                    self.post_status(w)
                return
            rec.container_id = r["container_id"]
            rec.image_id = r.get("image_id") or rec.image_id
            rec.image = r.get("image") or rec.image
            self.api.event(ref, "Created", f"Created container: {spec['name']}", "kubelet", self.host)
            self.cri("cri.StartContainer", {"container_id": rec.container_id}, started)

        def started(r: dict) -> None:
            rec.busy = False
            if not alive():
                return
            rec.ever_ran = True
            if r.get("error"):
                # runc could not start the process: terminated with StartError, exit 128.
                self.api.event(ref, "Failed", f"Error: {r['error']}", "kubelet", self.host, type_="Warning")
                now = self.timestamp()
                rec.state, rec.exit_code, rec.reason, rec.message = "terminated", 128, "StartError", r["error"]
                rec.started_at = rec.finished_at = now
                rec.finished_virtual = self.now
                self._sync_containers(w)
                return
            hook = ((spec.get("lifecycle") or {}).get("postStart"))
            if isinstance(hook, dict):
                # The container runs; it is reported Running once postStart returned.
                rec.busy = True
                return run_handler(self, w, spec, rec, hook, lambda ok, message: post_started(ok, message))
            running()

        def post_started(ok: bool, message: str) -> None:
            rec.busy = False
            if not alive():
                return
            if not ok:
                self.api.event(ref, "FailedPostStartHook", f"PostStartHook failed: {message}", "kubelet", self.host,
                               type_="Warning")
                rec.state = "running"  # so that the kill below is the container's exit
                rec.started_at = self.timestamp()
                return self.kill_container(w, rec, pod["spec"].get("terminationGracePeriodSeconds", 30))
            running()

        def running() -> None:
            rec.state, rec.reason, rec.message = "running", "", ""
            rec.started_at = self.timestamp()
            self.start_probes(w, spec, rec)
            self.api.event(ref, "Started", f"Started container {spec['name']}", "kubelet", self.host)
            if init:
                self._sync_containers(w)  # a sidecar that started lets the next init container go
            self.post_status(w)

        self.cri("cri.ImageStatus", {"image": image}, image_status)

    def _mounts_of(self, w: dict, spec: dict) -> tuple[dict, list[str]]:
        """mountPath -> the pod's Volume, and the read-only ones (readOnly, a claim mounted
        readOnly, and configMap, secret, downwardAPI and projected volumes, which are always
        read-only)."""
        volumes = w.get("volumes") or {}
        kinds = {v.get("name"): v for v in w["pod"]["spec"].get("volumes") or [] if isinstance(v, dict)}
        mounts, read_only = {}, []
        for m in spec.get("volumeMounts") or []:
            if not isinstance(m, dict) or m.get("name") not in volumes or not isinstance(m.get("mountPath"), str):
                continue
            mounts[m["mountPath"]] = volumes[m["name"]]
            source = kinds.get(m["name"]) or {}
            if m.get("readOnly") or any(k in source for k in ("configMap", "secret", "downwardAPI", "projected")) \
                    or (source.get("persistentVolumeClaim") or {}).get("readOnly"):
                read_only.append(m["mountPath"])
        return mounts, read_only

    def kill_container(self, w: dict, rec: ContainerRecord, grace: int) -> None:
        """Stop one container (a failed liveness or startup probe): SIGTERM, SIGKILL at the
        grace period; then the restart policy decides, as after any exit."""
        def stopped(r: dict) -> None:
            if rec.state != "running":
                return
            code = int(r.get("exit_code", 0) or 0)
            rec.state, rec.exit_code = "terminated", code
            rec.reason = "Completed" if code == 0 else "Error"
            rec.message = ""
            rec.finished_at, rec.finished_virtual = self.timestamp(), self.now
            if w["state"] == "running":
                self._sync_containers(w)
        self.cri("cri.StopContainer", {"container_id": rec.container_id, "timeout": grace}, stopped)

    # -- the runtime's events (PLEG) ------------------------------------------------------
    def container_event(self, msg: dict) -> None:
        w = self.workers.get(msg.get("pod_uid"))
        if w is None:
            return
        rec = w["containers"].get(msg.get("name")) or w["init"].get(msg.get("name")) or \
            (w.get("ephemeral") or {}).get(msg.get("name"))
        if rec is None or rec.container_id != msg.get("container_id") or rec.state != "running":
            return
        self._container_ended(rec, msg.get("exit_code", 0), msg.get("reason"))
        if w["state"] == "running":
            self._sync_containers(w)
        else:
            self.post_status(w)

    def _container_ended(self, rec, exit_code, reason: str | None) -> None:
        code = int(exit_code or 0)
        rec.state, rec.exit_code = "terminated", code
        rec.reason = reason or ("Completed" if code == 0 else "Error")
        rec.message = ""
        rec.finished_at, rec.finished_virtual = self.timestamp(), self.now

    def _maybe_finish(self, w: dict) -> None:
        """Every container terminated for good: the pod is Succeeded or Failed, and its
        sandbox is stopped (killPodWithSyncResult); the record stays for its status and logs."""
        pod = w["pod"]
        policy = pod["spec"].get("restartPolicy", "Always")
        phase = "Failed" if w.get("init_failed") else \
            pod_phase(list(w["containers"].values()), policy, w.get("initialized", True))
        if phase in TERMINAL and w["state"] == "running":
            w["phase"] = phase
            w["state"] = "finished"
            self.action(f"kubelet on {self.host}: pod {pod['metadata']['namespace']}/{pod['metadata']['name']} {phase}")
            self.cri("cri.StopPodSandbox", {"pod_uid": w["uid"]}, lambda r: None)

    # -- termination --------------------------------------------------------------------
    def terminate(self, w: dict) -> None:
        pod = w["pod"]
        prev = w["state"]
        w["state"] = "terminating"
        grace = pod["metadata"].get("deletionGracePeriodSeconds", 30)
        running = [rec for rec in [*w["containers"].values(), *w["init"].values(), *(w.get("ephemeral") or {}).values()]
                   if rec.state == "running" and rec.container_id]
        self.action(f"kubelet on {self.host} stopping pod {pod['metadata']['namespace']}/{pod['metadata']['name']}")
        remaining = [len(running)]

        def all_stopped() -> None:
            self.cri("cri.StopPodSandbox", {"pod_uid": w["uid"]}, lambda r: self._terminated(w, prev))

        if not running:
            return all_stopped()
        specs = {c["name"]: c for c in [*(pod["spec"].get("initContainers") or []), *(pod["spec"].get("containers") or [])]}
        for rec in running:
            self.api.event(self._ref(pod, f"spec.containers{{{rec.name}}}"), "Killing",
                           f"Stopping container {rec.name}", "kubelet", self.host)

            def stopped(r: dict, rec=rec) -> None:
                code = int(r.get("exit_code", 0))
                rec.state, rec.exit_code = "terminated", code
                rec.reason = "Completed" if code == 0 else "Error"
                rec.finished_at, rec.finished_virtual = self.timestamp(), self.now
                remaining[0] -= 1
                if remaining[0] == 0:
                    all_stopped()

            self._stop_with_pre_stop(w, specs.get(rec.name) or {}, rec, grace, stopped)

    def _stop_with_pre_stop(self, w: dict, spec: dict, rec: ContainerRecord, grace: float, stopped) -> None:
        """killContainer: the preStop hook first (within the grace period), then SIGTERM with
        what is left of the grace period, then SIGKILL."""
        hook = (spec.get("lifecycle") or {}).get("preStop")
        if not isinstance(hook, dict):
            return self.cri("cri.StopContainer", {"container_id": rec.container_id, "timeout": grace}, stopped)
        began = self.now

        def hooked(ok: bool, message: str) -> None:
            if not ok:
                self.api.event(self._ref(w["pod"], f"spec.containers{{{rec.name}}}"), "FailedPreStopHook",
                               f"PreStopHook failed: {message}", "kubelet", self.host, type_="Warning")
            left = max(grace - (self.now - began), 2.0)  # upstream grants at least 2 s after the hook
            self.cri("cri.StopContainer", {"container_id": rec.container_id, "timeout": left}, stopped)
        run_handler(self, w, spec, rec, hook, hooked, timeout=max(float(grace), 0.0))

    def _terminated(self, w: dict, prev_state: str) -> None:
        w["state"] = "terminated"
        pod = w["pod"]
        if prev_state in ("running", "creating"):
            self.post_status(w)
        if w.get("static"):
            return self.static_pod_terminated(w)
        md = pod["metadata"]

        def deleted(resp: dict) -> None:
            if resp["code"] < 400 or resp["code"] == 404:
                self._forget(w)

        self.api.delete("pods", md["namespace"], md["name"], deleted, grace=0, precondition_uid=md["uid"])

    def _forget(self, w: dict) -> None:
        if self.workers.get(w["uid"]) is w:
            del self.workers[w["uid"]]
        self.object_cache.unregister(w["uid"])
        self.dormant_refreshes.pop(w["uid"], None)
        self.cri("cri.RemovePodSandbox", {"pod_uid": w["uid"]}, lambda r: None)
        for rec in w["containers"].values():
            self.crash_backoff.reset(f"{w['uid']}_{rec.name}")

    def pod_removed(self, pod: dict) -> None:
        """The pod object is gone from the API (deleted for good): stop whatever still runs."""
        if is_mirror_pod(pod):
            return self.mirror_pod_removed(pod)
        w = self.workers.pop(pod["metadata"]["uid"], None)
        self.object_cache.unregister(pod["metadata"]["uid"])
        self.dormant_refreshes.pop(pod["metadata"]["uid"], None)
        if w is not None:
            w["state"] = "terminated"
            self.cri("cri.StopPodSandbox", {"pod_uid": w["uid"]}, lambda r: None)
            self.cri("cri.RemovePodSandbox", {"pod_uid": w["uid"]}, lambda r: None)

    # -- status manager ---------------------------------------------------------------
    def post_status(self, w: dict) -> None:
        if w["uid"] in self.dormant_probes:
            self.wake_probes(w["uid"])  # a container or the pod changed: ask its probes again
        pod = w["pod"]
        now = self.timestamp()
        state = w["state"]
        prev_conditions = {c["type"]: c for c in pod["status"].get("conditions") or []}
        generation = pod["metadata"].get("generation")  # KEP-5067: the generation acted on
        policy = pod["spec"].get("restartPolicy", "Always")
        records = [w["containers"][c["name"]] for c in pod["spec"].get("containers") or [] if c["name"] in w["containers"]]

        def cond(ctype: str, status: str, reason: str | None = None, message: str | None = None) -> dict:
            old = prev_conditions.get(ctype)
            # reason and message are always named, None deleting what an earlier writer left
            # (the strategic merge patch below merges a condition's fields).
            out = {"type": ctype, "status": status, "lastProbeTime": None,
                   "lastTransitionTime": old["lastTransitionTime"] if old and old.get("status") == status else now,
                   "reason": reason, "message": message}
            if generation:
                out["observedGeneration"] = generation
            return out

        init_specs = pod["spec"].get("initContainers") or []
        init_records = [w["init"][c["name"]] for c in init_specs if c["name"] in w["init"]]
        sidecars = {c["name"] for c in init_specs if c.get("restartPolicy") == "Always"}
        initialized = w.get("initialized", not init_specs) if state in ("running", "finished") else not init_specs
        if not initialized:
            for r in records:  # app containers wait for the init containers
                if r.state == "waiting" and r.reason == "ContainerCreating" and not r.busy:
                    r.reason = "PodInitializing"
        phase = w.get("phase") or pod["status"].get("phase", "Pending")
        if phase not in TERMINAL:
            if w.get("init_failed"):
                phase = "Failed"
            elif state in ("running", "finished"):
                phase = pod_phase(records, policy, initialized)
            elif state == "terminated" and phase == "Running":
                # Since 1.27 the kubelet moves a deleted pod to a terminal phase before removal.
                phase = "Succeeded" if all(r.state == "terminated" and r.exit_code == 0 for r in records) else "Failed"
        ready_names = [r.name for r in [*records, *init_records] if r.state == "running" and r.extra.get("ready", True)] \
            if state == "running" else []
        statuses = [container_status(r, self.runtime_kind, r.name in ready_names) for r in records]
        init_statuses = [container_status(r, self.runtime_kind, r.name in ready_names if r.name in sidecars else
                                          r.state == "terminated" and r.exit_code == 0) for r in init_records]
        unready = [r.name for r in [*[r for r in init_records if r.name in sidecars], *records]
                   if r.name not in ready_names]
        ready = bool(records) and not unready
        if phase in TERMINAL:
            ready_reason, ready_message = "PodCompleted", None
        else:
            ready_reason = None if ready else "ContainersNotReady"
            ready_message = None if ready else f"containers with unready status: [{' '.join(unready)}]"
        sandbox = state == "running" or (state == "creating" and w.get("sandbox_ready"))
        conditions = [cond("PodReadyToStartContainers", "True" if sandbox else "False"),
                      cond("Initialized", "True", "PodCompleted" if phase in TERMINAL else None) if initialized else
                      cond("Initialized", "False", "ContainersNotInitialized", "containers with incomplete status: [" +
                           " ".join(r.name for r in init_records if not (r.state == "terminated" and r.exit_code == 0)
                                    and r.name not in sidecars) + "]"),
                      cond("Ready", "True" if ready else "False", ready_reason, ready_message),
                      cond("ContainersReady", "True" if ready else "False", ready_reason, ready_message),
                      cond("PodScheduled", "True")]
        # Conditions the kubelet does not own (DisruptionTarget from a preemption or an
        # eviction, readiness gates) are copied over, as generateAPIPodStatus does
        # (pkg/kubelet/kubelet_pods.go, kubetypes.PodConditionByKubelet).
        conditions += [c for t, c in prev_conditions.items() if t not in KUBELET_POD_CONDITIONS]
        evicted = w.get("evicted")
        if evicted and "DisruptionTarget" not in prev_conditions:
            # eviction_manager.go evictPod: the kubelet's DisruptionTarget (TerminationByKubelet).
            conditions.append(cond("DisruptionTarget", "True", "TerminationByKubelet", evicted["message"]))
        status = {"phase": phase, "conditions": conditions, "hostIP": self.internal_ip,
                  "hostIPs": [{"ip": ip} for ip in self.internal_ips], "containerStatuses": statuses,
                  **({"initContainerStatuses": init_statuses} if init_statuses else {}),
                  **({"ephemeralContainerStatuses": ephemeral.statuses(self, w)} if w.get("ephemeral") else {}),
                  "startTime": pod["status"].get("startTime") or now}
        if generation:
            status["observedGeneration"] = generation
        if evicted:
            status.update(evicted)  # reason Evicted and its message
        if w.get("ip") and state != "terminated":
            # podIPs: every address of the sandbox, the primary family first; podIP the first.
            status["podIP"] = w["ip"]
            status["podIPs"] = [{"ip": ip} for ip in w.get("ips") or [w["ip"]]]
        md = pod["metadata"]
        # The status manager sends a status only when it changed (status_manager.go needsUpdate).
        if w.get("last_status") == status:
            return
        w["last_status"] = status
        status = dict(status)
        # A strategic merge patch, as statusutil.PatchPodStatus sends: conditions merge by type,
        # so one set meanwhile by someone else (not yet in this kubelet's copy) is kept.
        status["$setElementOrder/conditions"] = [{"type": c["type"]} for c in conditions]
        self.api.patch("pods", md["namespace"], md["name"], {"status": status}, subresource="status",
                       patch_type="application/strategic-merge-patch+json")


# The pod conditions the kubelet owns and writes whole (kubetypes.PodConditionsByKubelet, with
# PodReadyToStartContainers as 1.29+ enables it); it keeps every other one it finds.
KUBELET_POD_CONDITIONS = frozenset({"PodScheduled", "Ready", "Initialized", "ContainersReady",
                                    "PodReadyToStartContainers"})
