"""Workload objects as kube-apiserver stores them (every default set), for the protobuf tests:
tests/api/test_protobuf_workloads.py round-trips them through a test encoder, and
tests/kubectl/test_kubectl_protobuf_workloads.py has the real kubectl send them.  POD_SPEC sets
nearly every PodSpec field kubectl 1.31 knows (pointer fields at their zero value too, so that
POINTER and omitempty are exercised); NEWER_POD_SPEC the fields added since."""
from __future__ import annotations


def container(name: str, **extra) -> dict:
    return {"name": name, "image": "busybox", "resources": {}, "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File", "imagePullPolicy": "Always", **extra}


APP = container(
    "app", image="registry.example.com/app:1.2", command=["/app"], args=["--port=8080", "--v=2"], workingDir="/srv",
    ports=[{"name": "http", "containerPort": 8080, "protocol": "TCP"},
           {"name": "dns", "hostPort": 53, "containerPort": 53, "protocol": "UDP", "hostIP": "0.0.0.0"}],
    envFrom=[{"prefix": "CFG_", "configMapRef": {"name": "app-config", "optional": True}},
             {"secretRef": {"name": "app-secret"}}],
    env=[{"name": "PLAIN", "value": "x"}, {"name": "EMPTY"},
         {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
         {"name": "CPU", "valueFrom": {"resourceFieldRef": {"containerName": "app", "resource": "requests.cpu",
                                                            "divisor": "1m"}}},
         {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "0"}}},
         {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "level",
                                                             "optional": False}}},
         {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "app-secret", "key": "token"}}}],
    resources={"limits": {"cpu": "1", "memory": "256Mi"}, "requests": {"cpu": "250m", "memory": "64Mi"}},
    resizePolicy=[{"resourceName": "cpu", "restartPolicy": "NotRequired"}],
    volumeMounts=[{"name": "cfg", "readOnly": True, "mountPath": "/etc/app", "subPath": "app.yaml"},
                  {"name": "cache", "mountPath": "/cache", "mountPropagation": "None", "subPathExpr": "$(POD_NAME)"},
                  {"name": "data", "readOnly": True, "mountPath": "/data", "recursiveReadOnly": "Enabled"}],
    volumeDevices=[{"name": "raw", "devicePath": "/dev/xvda"}],
    livenessProbe={"httpGet": {"path": "/healthz", "port": "http", "host": "127.0.0.1", "scheme": "HTTP",
                               "httpHeaders": [{"name": "X-Probe", "value": "1"}]},
                   "initialDelaySeconds": 5, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                   "failureThreshold": 3, "terminationGracePeriodSeconds": 10},
    readinessProbe={"tcpSocket": {"port": 8080}, "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1,
                    "failureThreshold": 3},
    startupProbe={"grpc": {"port": 9090, "service": "health"}, "timeoutSeconds": 1, "periodSeconds": 10,
                  "successThreshold": 1, "failureThreshold": 30},
    lifecycle={"postStart": {"exec": {"command": ["sh", "-c", "echo started"]}},
               "preStop": {"sleep": {"seconds": 5}}},
    terminationMessagePolicy="FallbackToLogsOnError", imagePullPolicy="IfNotPresent",
    securityContext={"capabilities": {"add": ["NET_ADMIN"], "drop": ["ALL"]}, "privileged": False, "runAsUser": 0,
                     "runAsNonRoot": False, "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
                     "procMount": "Default",
                     "seccompProfile": {"type": "Localhost", "localhostProfile": "profiles/app.json"},
                     "appArmorProfile": {"type": "RuntimeDefault"}},
    stdin=True, tty=True)

POD_SPEC = {
    "volumes": [
        {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}},
        {"name": "host", "hostPath": {"path": "/var/log", "type": "Directory"}},
        {"name": "cfg", "configMap": {"name": "app-config", "items": [{"key": "app.yaml", "path": "app.yaml",
                                                                        "mode": 420}],
                                      "defaultMode": 420, "optional": False}},
        {"name": "sec", "secret": {"secretName": "app-secret", "defaultMode": 256}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "data", "readOnly": True}},
        {"name": "proj", "projected": {"sources": [
            {"serviceAccountToken": {"audience": "api", "expirationSeconds": 3600, "path": "token"}},
            {"downwardAPI": {"items": [{"path": "labels", "fieldRef": {"apiVersion": "v1",
                                                                       "fieldPath": "metadata.labels"}}]}},
            {"configMap": {"name": "app-config", "optional": True}}, {"secret": {"name": "app-secret"}}],
            "defaultMode": 420}},
        {"name": "podinfo", "downwardAPI": {"items": [{"path": "cpu", "resourceFieldRef": {
            "containerName": "app", "resource": "limits.cpu", "divisor": "1m"}}], "defaultMode": 420}},
        {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {
            "metadata": {"labels": {"type": "scratch"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                     "storageClassName": "standard", "volumeMode": "Filesystem"}}}},
        {"name": "inline", "csi": {"driver": "inline.storage.kubernetes.io", "readOnly": True,
                                   "volumeAttributes": {"foo": "bar"}, "nodePublishSecretRef": {"name": "csi"}}},
        {"name": "nfs", "nfs": {"server": "nfs.example.com", "path": "/exports", "readOnly": True}},
        {"name": "git", "gitRepo": {"repository": "https://example.com/repo.git", "revision": "main"}},
    ],
    "initContainers": [container("sidecar", restartPolicy="Always", command=["sh", "-c", "tail -f /dev/null"])],
    "containers": [APP],
    "ephemeralContainers": [{**container("debugger"), "targetContainerName": "app"}],
    "restartPolicy": "OnFailure", "terminationGracePeriodSeconds": 0, "activeDeadlineSeconds": 600,
    "dnsPolicy": "None", "nodeSelector": {"disktype": "ssd"}, "serviceAccountName": "runner",
    "serviceAccount": "runner", "automountServiceAccountToken": False, "shareProcessNamespace": False,
    "securityContext": {"seLinuxOptions": {"level": "s0:c123,c456"}, "runAsUser": 1000, "runAsGroup": 3000,
                        "runAsNonRoot": True, "supplementalGroups": [4000, 5000], "fsGroup": 2000,
                        "sysctls": [{"name": "net.core.somaxconn", "value": "1024"}],
                        "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}},
    "imagePullSecrets": [{"name": "regcred"}], "hostname": "runner", "subdomain": "jobs",
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": [
                {"key": "zone", "operator": "In", "values": ["a"]}]}}]},
        "podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}]},
        "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": {
            "labelSelector": {"matchExpressions": [{"key": "app", "operator": "In", "values": ["nightly"]}]},
            "namespaces": ["default"], "topologyKey": "topology.kubernetes.io/zone", "namespaceSelector": {}}}]}},
    "schedulerName": "default-scheduler",
    "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                     "tolerationSeconds": 300},
                    {"key": "dedicated", "operator": "Equal", "value": "batch", "effect": "NoSchedule"}],
    "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["db.local"]}],
    "priorityClassName": "high", "priority": 1000,
    "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["svc.cluster.local"],
                  "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]},
    "readinessGates": [{"conditionType": "example.com/ready"}], "runtimeClassName": "runc",
    "enableServiceLinks": False, "preemptionPolicy": "PreemptLowerPriority", "overhead": {"cpu": "250m"},
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
                                   "labelSelector": {"matchLabels": {"app": "nightly"}}, "minDomains": 2,
                                   "nodeAffinityPolicy": "Honor", "nodeTaintsPolicy": "Ignore",
                                   "matchLabelKeys": ["pod-template-hash"]}],
    "setHostnameAsFQDN": False, "os": {"name": "linux"}, "hostUsers": False,
    "schedulingGates": [{"name": "example.com/gate"}],
}


def cronjob(name: str, pod_spec: dict) -> dict:
    """A CronJob as kube-apiserver stores it, every default set (SetDefaults_CronJob, _JobSpec,
    _PodSpec, ...), with a job template that sets nearly every field JobSpec has."""
    return {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": "default", "uid": "5f0b6c2e-8a4b-4a57-9a0e-0c1f4f0d1c2a",
                     "resourceVersion": "1234", "generation": 1, "creationTimestamp": "2026-12-06T22:00:00Z",
                     "labels": {"team": "data"}},
        "spec": {
            "schedule": "0 3 * * *", "timeZone": "Europe/Paris", "startingDeadlineSeconds": 200,
            "concurrencyPolicy": "Forbid", "suspend": False, "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"labels": {"app": "nightly"}, "annotations": {"note": "copied"}},
                "spec": {
                    "parallelism": 2, "completions": 4, "activeDeadlineSeconds": 3600, "backoffLimit": 3,
                    "ttlSecondsAfterFinished": 100, "completionMode": "Indexed", "suspend": False,
                    "backoffLimitPerIndex": 1, "maxFailedIndexes": 2, "podReplacementPolicy": "Failed",
                    "podFailurePolicy": {"rules": [
                        {"action": "FailJob", "onExitCodes": {"containerName": "app", "operator": "In",
                                                              "values": [42, 43]}},
                        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]},
                    "successPolicy": {"rules": [{"succeededIndexes": "0-2", "succeededCount": 1}]},
                    "template": {"metadata": {"labels": {"app": "nightly"}}, "spec": pod_spec}}}},
        "status": {"lastScheduleTime": "2026-12-06T03:00:00Z"},
    }


# Fields newer than 1.31 (1.32: PodSpec.resources, ResourceClaim.request; 1.33: stopSignal;
# 1.34: hostnameOverride, fileKeyRef, restartPolicyRules): the newest kubectls send them.
NEWER_POD_SPEC = {
    "containers": [container(
        "app", restartPolicy="Never",
        restartPolicyRules=[{"action": "Restart", "exitCodes": {"operator": "In", "values": [42, 43]}}],
        env=[{"name": "LEVEL", "valueFrom": {"fileKeyRef": {"volumeName": "cfg", "path": "env", "key": "LEVEL",
                                                              "optional": False}}}],
        resources={"claims": [{"name": "gpu", "request": "r1"}]},
        lifecycle={"stopSignal": "SIGUSR1"})],
    "restartPolicy": "Never", "hostnameOverride": "runner-0",
    "resources": {"limits": {"cpu": "2"}},
    "resourceClaims": [{"name": "gpu", "resourceClaimTemplateName": "gpu-template"}],
}


# -- whole objects, as `kubectl get -o json` shows them (nulls left out) ---------------------------
def meta(name: str, uid: str, **extra) -> dict:
    return {"name": name, "namespace": "default", "uid": uid, "resourceVersion": "4711", "generation": 2,
            "creationTimestamp": "2026-12-06T22:00:00Z", **extra}


T0, T1 = "2026-12-06T22:00:00Z", "2026-12-06T22:01:05Z"
NGINX = container("nginx", image="nginx:1.27", imagePullPolicy="IfNotPresent",
                  ports=[{"containerPort": 80, "protocol": "TCP"}])
TEMPLATE_SPEC = {"containers": [NGINX], "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                 "dnsPolicy": "ClusterFirst", "securityContext": {}, "schedulerName": "default-scheduler"}

DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": meta("web", "2f1c3e4d-0000-4000-8000-000000000001", labels={"app": "web"},
                     annotations={"deployment.kubernetes.io/revision": "2"},
                     managedFields=[{"manager": "kubectl-create", "operation": "Update", "apiVersion": "apps/v1",
                                     "time": T0, "fieldsType": "FieldsV1",
                                     "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}}}]),
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}}, "spec": TEMPLATE_SPEC},
             "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}},
             "minReadySeconds": 5, "revisionHistoryLimit": 10, "paused": True, "progressDeadlineSeconds": 600},
    "status": {"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3,
               "availableReplicas": 3, "terminatingReplicas": 0, "collisionCount": 0,
               "conditions": [{"type": "Available", "status": "True", "lastUpdateTime": T1, "lastTransitionTime": T1,
                               "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                              {"type": "Progressing", "status": "True", "lastUpdateTime": T1,
                               "lastTransitionTime": T0, "reason": "NewReplicaSetAvailable",
                               "message": 'ReplicaSet "web-5d4f8b9c7" has successfully progressed.'}]},
}

REPLICA_SET = {
    "apiVersion": "apps/v1", "kind": "ReplicaSet",
    "metadata": meta("web-5d4f8b9c7", "2f1c3e4d-0000-4000-8000-000000000002",
                     labels={"app": "web", "pod-template-hash": "5d4f8b9c7"},
                     ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                       "uid": "2f1c3e4d-0000-4000-8000-000000000001", "controller": True,
                                       "blockOwnerDeletion": True}]),
    "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d4f8b9c7"}},
             "template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "5d4f8b9c7"}},
                          "spec": TEMPLATE_SPEC}},
    # replicas is written even when 0 (`json:"replicas"`), the others only when not
    "status": {"replicas": 0, "observedGeneration": 2},
}

DAEMON_SET = {
    "apiVersion": "apps/v1", "kind": "DaemonSet",
    "metadata": meta("agent", "2f1c3e4d-0000-4000-8000-000000000003"),
    "spec": {"selector": {"matchLabels": {"app": "agent"}},
             "template": {"metadata": {"labels": {"app": "agent"}},
                          "spec": {**TEMPLATE_SPEC, "tolerations": [
                              {"key": "node.kubernetes.io/unschedulable", "operator": "Exists",
                               "effect": "NoSchedule"}]}},
             "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
             "revisionHistoryLimit": 10},
    "status": {"currentNumberScheduled": 2, "numberMisscheduled": 0, "desiredNumberScheduled": 2, "numberReady": 0,
               "observedGeneration": 2, "updatedNumberScheduled": 2, "numberUnavailable": 2},
}

STATEFUL_SET = {
    "apiVersion": "apps/v1", "kind": "StatefulSet",
    "metadata": meta("db", "2f1c3e4d-0000-4000-8000-000000000004"),
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "db"}},
             "template": {"metadata": {"labels": {"app": "db"}},
                          "spec": {**TEMPLATE_SPEC, "containers": [{**NGINX, "volumeMounts": [
                              {"name": "www", "mountPath": "/usr/share/nginx/html"}]}]}},
             # A claim template's apiVersion/kind are TypeMeta, which the protobuf message has not.
             "volumeClaimTemplates": [{"metadata": {"name": "www"},
                                       "spec": {"accessModes": ["ReadWriteOnce"],
                                                "resources": {"requests": {"storage": "1Gi"}},
                                                "volumeMode": "Filesystem"},
                                       "status": {"phase": "Pending"}}],
             "serviceName": "db", "podManagementPolicy": "OrderedReady",
             "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
             "revisionHistoryLimit": 10, "minReadySeconds": 0,
             "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
             "ordinals": {"start": 0}},
    "status": {"observedGeneration": 2, "replicas": 3, "readyReplicas": 2, "currentReplicas": 3,
               "updatedReplicas": 3, "currentRevision": "db-7c9d8f6b5", "updateRevision": "db-7c9d8f6b5",
               "collisionCount": 0, "availableReplicas": 2},
}
del STATEFUL_SET["spec"]["minReadySeconds"]  # omitempty: 0 is not written

CONTROLLER_REVISION = {
    "apiVersion": "apps/v1", "kind": "ControllerRevision",
    "metadata": meta("agent-6b8c9d7f5", "2f1c3e4d-0000-4000-8000-000000000005",
                     labels={"app": "agent", "controller-revision-hash": "6b8c9d7f5"}),
    "data": {"spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "agent"}},
                                   "spec": TEMPLATE_SPEC}}},
    "revision": 1,
}

JOB = {
    "apiVersion": "batch/v1", "kind": "Job",
    "metadata": meta("pi", "2f1c3e4d-0000-4000-8000-000000000006",
                     labels={"batch.kubernetes.io/controller-uid": "2f1c3e4d-0000-4000-8000-000000000006",
                             "batch.kubernetes.io/job-name": "pi"}),
    "spec": {"parallelism": 1, "completions": 1, "backoffLimit": 6, "manualSelector": False,
             "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid":
                                          "2f1c3e4d-0000-4000-8000-000000000006"}},
             "template": {"metadata": {"labels": {"batch.kubernetes.io/job-name": "pi", "job-name": "pi"}},
                          "spec": {**TEMPLATE_SPEC, "restartPolicy": "Never", "containers": [container(
                              "pi", image="perl:5.34.0", command=["perl", "-Mbignum=bpi", "-wle",
                                                                  "print bpi(2000)"])]}},
             "completionMode": "NonIndexed", "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"},
    "status": {"conditions": [{"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": T1,
                               "lastTransitionTime": T1, "reason": "CompletionsReached",
                               "message": "Reached expected number of completions"},
                              {"type": "Complete", "status": "True", "lastProbeTime": T1, "lastTransitionTime": T1,
                               "reason": "CompletionsReached", "message": "Reached expected number of completions"}],
               "startTime": T0, "completionTime": T1, "succeeded": 1, "ready": 0, "terminating": 0,
               "uncountedTerminatedPods": {}},
}

CRON_JOB = cronjob("nightly", POD_SPEC)
CRON_JOB["status"]["active"] = [{"kind": "Job", "namespace": "default", "name": "nightly-29417400",
                                 "uid": "2f1c3e4d-0000-4000-8000-000000000007", "apiVersion": "batch/v1",
                                 "resourceVersion": "4700"}]
CRON_JOB["status"]["lastSuccessfulTime"] = T1

HPA_V2 = {
    "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
    "metadata": meta("web", "2f1c3e4d-0000-4000-8000-000000000008"),
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"}, "minReplicas": 1,
             "maxReplicas": 10,
             "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                                                     "averageUtilization": 50}}},
                         {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue",
                                                                                        "averageValue": "100Mi"}}},
                         {"type": "ContainerResource", "containerResource": {
                             "name": "cpu", "container": "app", "target": {"type": "Utilization",
                                                                           "averageUtilization": 60}}},
                         {"type": "Pods", "pods": {"metric": {"name": "requests_per_second"},
                                                   "target": {"type": "AverageValue", "averageValue": "1k"}}},
                         {"type": "Object", "object": {
                             "describedObject": {"kind": "Ingress", "name": "main",
                                                 "apiVersion": "networking.k8s.io/v1"},
                             "target": {"type": "Value", "value": "10k"}, "metric": {"name": "requests"}}},
                         {"type": "External", "external": {
                             "metric": {"name": "queue_depth", "selector": {"matchLabels": {"queue": "jobs"}}},
                             "target": {"type": "Value", "value": "30"}}}],
             "behavior": {"scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                                      "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                                   {"type": "Percent", "value": 100, "periodSeconds": 15}]},
                          "scaleDown": {"stabilizationWindowSeconds": 300, "selectPolicy": "Max",
                                        "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
                                        "tolerance": "50m"}}},
    "status": {"observedGeneration": 2, "lastScaleTime": T1, "currentReplicas": 3, "desiredReplicas": 4,
               "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {
                   "averageValue": "120m", "averageUtilization": 48}}}],
               "conditions": [{"type": "AbleToScale", "status": "True", "lastTransitionTime": T0,
                               "reason": "ReadyForNewScale",
                               "message": "recommended size matches current size"}]},
}

HPA_V1 = {
    "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
    "metadata": meta("web", "2f1c3e4d-0000-4000-8000-000000000008"),
    "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"}, "minReplicas": 1,
             "maxReplicas": 10, "targetCPUUtilizationPercentage": 50},
    "status": {"observedGeneration": 2, "currentReplicas": 3, "desiredReplicas": 3,
               "currentCPUUtilizationPercentage": 0},
}

SCALE = {"apiVersion": "autoscaling/v1", "kind": "Scale",
         "metadata": meta("web", "2f1c3e4d-0000-4000-8000-000000000001"),
         "spec": {"replicas": 5}, "status": {"replicas": 3, "selector": "app=web"}}

REPLICATION_CONTROLLER = {
    "apiVersion": "v1", "kind": "ReplicationController",
    "metadata": meta("nginx", "2f1c3e4d-0000-4000-8000-000000000009", labels={"app": "nginx"}),
    "spec": {"replicas": 3, "selector": {"app": "nginx"},
             "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": TEMPLATE_SPEC}},
    "status": {"replicas": 3, "fullyLabeledReplicas": 3, "readyReplicas": 3, "availableReplicas": 3,
               "observedGeneration": 2},
}

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": meta("nightly-0", "2f1c3e4d-0000-4000-8000-00000000000a", deletionTimestamp=T1,
                     deletionGracePeriodSeconds=0, finalizers=["batch.kubernetes.io/job-tracking"]),
    "spec": {**POD_SPEC, "nodeName": "node-1"},
    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": T1,
                                                   "reason": "ContainersNotReady",
                                                   "message": "containers with unready status: [app]"}],
               "hostIP": "10.0.0.11", "hostIPs": [{"ip": "10.0.0.11"}], "podIP": "10.244.1.7",
               "podIPs": [{"ip": "10.244.1.7"}], "startTime": T0, "qosClass": "Burstable",
               "containerStatuses": [{"name": "app", "state": {"terminated": {
                   "exitCode": 0, "reason": "Completed", "startedAt": T0, "finishedAt": T1,
                   "containerID": "containerd://abc"}}, "lastState": {}, "ready": False, "restartCount": 1,
                   "image": "registry.example.com/app:1.2", "imageID": "", "started": False,
                   "containerID": "containerd://abc"}]},
}
