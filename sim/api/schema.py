"""The Go types of every kind (and request body) served here, as k8s.io/api declares them
(core/v1/types.go, apps/v1/types.go, coordination/v1, scheduling/v1, autoscaling/v1, and
apimachinery's meta/v1 types.go).  One typed schema per kind serves decoding errors, pruning
and fieldValidation (sim.api.gotypes.decode).

kube-apiserver decodes a request into these structs: a field of the wrong JSON type is a 400
("json: cannot unmarshal ..."), a field the struct does not declare is dropped, and with
`fieldValidation=Strict` the request fails ("strict decoding error: unknown field ..."), with
`Warn` (the default since v1.27) it is dropped with a warning, with `Ignore` silently.
"""
from __future__ import annotations

from sim.api.gotypes import (BOOL, INT32, INT64, INT_OR_STRING, MICRO_TIME, QUANTITY, STRING, TIME, Map, Slice,
                             Struct, enum, fields, opaque, struct)

STRINGS = Slice(STRING)
STRING_MAP = Map(STRING)
RESOURCE_LIST = Map(QUANTITY, "v1.ResourceList")
UID = enum("types.UID")
TYPE_META = fields("apiVersion", "kind")

# -- meta/v1 ---------------------------------------------------------------------------------
OWNER_REFERENCE = struct("v1.OwnerReference", **fields("apiVersion", "kind", "name"), uid=UID, controller=BOOL,
                         blockOwnerDeletion=BOOL)
# FieldsV1 keeps its JSON as raw bytes (any JSON object): checked as an object, not walked.
FIELDS_V1 = Struct("v1.FieldsV1", opaque=True, raw=True)
MANAGED_FIELDS_ENTRY = struct("v1.ManagedFieldsEntry", manager=STRING, operation=enum("v1.ManagedFieldsOperationType"),
                              apiVersion=STRING, time=TIME, fieldsType=STRING, fieldsV1=FIELDS_V1,
                              subresource=STRING)
OBJECT_META = struct("v1.ObjectMeta", **fields("name", "generateName", "namespace", "selfLink", "resourceVersion"),
                     uid=UID, generation=INT64, creationTimestamp=TIME, deletionTimestamp=TIME,
                     deletionGracePeriodSeconds=INT64, labels=STRING_MAP, annotations=STRING_MAP,
                     ownerReferences=Slice(OWNER_REFERENCE), finalizers=STRINGS,
                     managedFields=Slice(MANAGED_FIELDS_ENTRY))
LABEL_SELECTOR = struct("v1.LabelSelector", matchLabels=STRING_MAP, matchExpressions=Slice(struct(
    "v1.LabelSelectorRequirement", key=STRING, operator=enum("v1.LabelSelectorOperator"), values=STRINGS)))

# -- core/v1: containers ---------------------------------------------------------------------
OBJECT_FIELD_SELECTOR = struct("v1.ObjectFieldSelector", **fields("apiVersion", "fieldPath"))
RESOURCE_FIELD_SELECTOR = struct("v1.ResourceFieldSelector", **fields("containerName", "resource"), divisor=QUANTITY)
KEY_SELECTOR = dict(**fields("name", "key"), optional=BOOL)
ENV_VAR = struct("v1.EnvVar", **fields("name", "value"), valueFrom=struct(
    "v1.EnvVarSource", fieldRef=OBJECT_FIELD_SELECTOR, resourceFieldRef=RESOURCE_FIELD_SELECTOR,
    configMapKeyRef=struct("v1.ConfigMapKeySelector", **KEY_SELECTOR),
    secretKeyRef=struct("v1.SecretKeySelector", **KEY_SELECTOR),
    fileKeyRef=opaque("v1.FileKeySelector")))
ENV_FROM_SOURCE = struct("v1.EnvFromSource", prefix=STRING,
                         configMapRef=struct("v1.ConfigMapEnvSource", name=STRING, optional=BOOL),
                         secretRef=struct("v1.SecretEnvSource", name=STRING, optional=BOOL))
CONTAINER_PORT = struct("v1.ContainerPort", name=STRING, hostPort=INT32, containerPort=INT32,
                        protocol=enum("v1.Protocol"), hostIP=STRING)
RESOURCE_REQUIREMENTS = struct("v1.ResourceRequirements", limits=RESOURCE_LIST, requests=RESOURCE_LIST,
                               claims=Slice(struct("v1.ResourceClaim", **fields("name", "request"))))
EXEC_ACTION = struct("v1.ExecAction", command=STRINGS)
HTTP_GET_ACTION = struct("v1.HTTPGetAction", path=STRING, port=INT_OR_STRING, host=STRING,
                         scheme=enum("v1.URIScheme"),
                         httpHeaders=Slice(struct("v1.HTTPHeader", **fields("name", "value"))))
TCP_SOCKET_ACTION = struct("v1.TCPSocketAction", port=INT_OR_STRING, host=STRING)
PROBE = struct("v1.Probe", exec=EXEC_ACTION, httpGet=HTTP_GET_ACTION, tcpSocket=TCP_SOCKET_ACTION,
               grpc=struct("v1.GRPCAction", port=INT32, service=STRING),
               **fields("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
                        "failureThreshold", of=INT32),
               terminationGracePeriodSeconds=INT64)
LIFECYCLE_HANDLER = struct("v1.LifecycleHandler", exec=EXEC_ACTION, httpGet=HTTP_GET_ACTION,
                           tcpSocket=TCP_SOCKET_ACTION, sleep=struct("v1.SleepAction", seconds=INT64))
SE_LINUX_OPTIONS = struct("v1.SELinuxOptions", **fields("user", "role", "type", "level"))
WINDOWS_OPTIONS = struct("v1.WindowsSecurityContextOptions",
                         **fields("gmsaCredentialSpecName", "gmsaCredentialSpec", "runAsUserName"), hostProcess=BOOL)
SECCOMP_PROFILE = struct("v1.SeccompProfile", type=enum("v1.SeccompProfileType"), localhostProfile=STRING)
APP_ARMOR_PROFILE = struct("v1.AppArmorProfile", type=enum("v1.AppArmorProfileType"), localhostProfile=STRING)
SECURITY_CONTEXT = struct(
    "v1.SecurityContext",
    capabilities=struct("v1.Capabilities", add=Slice(enum("v1.Capability")), drop=Slice(enum("v1.Capability"))),
    privileged=BOOL, seLinuxOptions=SE_LINUX_OPTIONS, windowsOptions=WINDOWS_OPTIONS, runAsUser=INT64,
    runAsGroup=INT64, runAsNonRoot=BOOL, readOnlyRootFilesystem=BOOL, allowPrivilegeEscalation=BOOL,
    procMount=enum("v1.ProcMountType"), seccompProfile=SECCOMP_PROFILE, appArmorProfile=APP_ARMOR_PROFILE)
CONTAINER_FIELDS = dict(
    name=STRING, image=STRING, command=STRINGS, args=STRINGS, workingDir=STRING, ports=Slice(CONTAINER_PORT),
    envFrom=Slice(ENV_FROM_SOURCE), env=Slice(ENV_VAR), resources=RESOURCE_REQUIREMENTS,
    resizePolicy=Slice(struct("v1.ContainerResizePolicy", resourceName=enum("v1.ResourceName"),
                              restartPolicy=enum("v1.ResourceResizeRestartPolicy"))),
    restartPolicy=enum("v1.ContainerRestartPolicy"),
    restartPolicyRules=Slice(opaque("v1.ContainerRestartRule")),
    volumeMounts=Slice(struct("v1.VolumeMount", name=STRING, readOnly=BOOL,
                              recursiveReadOnly=enum("v1.RecursiveReadOnlyMode"), mountPath=STRING, subPath=STRING,
                              mountPropagation=enum("v1.MountPropagationMode"), subPathExpr=STRING)),
    volumeDevices=Slice(struct("v1.VolumeDevice", **fields("name", "devicePath"))),
    livenessProbe=PROBE, readinessProbe=PROBE, startupProbe=PROBE,
    lifecycle=struct("v1.Lifecycle", postStart=LIFECYCLE_HANDLER, preStop=LIFECYCLE_HANDLER,
                     stopSignal=enum("v1.Signal")),
    terminationMessagePath=STRING, terminationMessagePolicy=enum("v1.TerminationMessagePolicy"),
    imagePullPolicy=enum("v1.PullPolicy"), securityContext=SECURITY_CONTEXT, stdin=BOOL, stdinOnce=BOOL, tty=BOOL)
CONTAINER = struct("v1.Container", **CONTAINER_FIELDS)
EPHEMERAL_CONTAINER = struct("v1.EphemeralContainer", **CONTAINER_FIELDS, targetContainerName=STRING)

# -- core/v1: volumes (the sources a kubelet here mounts in full, the rest as objects) ------
KEY_TO_PATH = struct("v1.KeyToPath", **fields("key", "path"), mode=INT32)
DOWNWARD_API_FILE = struct("v1.DownwardAPIVolumeFile", path=STRING, fieldRef=OBJECT_FIELD_SELECTOR,
                           resourceFieldRef=RESOURCE_FIELD_SELECTOR, mode=INT32)
VOLUME_PROJECTION = struct(
    "v1.VolumeProjection",
    secret=struct("v1.SecretProjection", name=STRING, items=Slice(KEY_TO_PATH), optional=BOOL),
    downwardAPI=struct("v1.DownwardAPIProjection", items=Slice(DOWNWARD_API_FILE)),
    configMap=struct("v1.ConfigMapProjection", name=STRING, items=Slice(KEY_TO_PATH), optional=BOOL),
    serviceAccountToken=struct("v1.ServiceAccountTokenProjection", audience=STRING, expirationSeconds=INT64,
                               path=STRING),
    clusterTrustBundle=opaque("v1.ClusterTrustBundleProjection"), podCertificate=opaque("v1.PodCertificateProjection"))
_OTHER_VOLUME_SOURCES = {
    "gcePersistentDisk": "GCEPersistentDiskVolumeSource", "awsElasticBlockStore": "AWSElasticBlockStoreVolumeSource",
    "gitRepo": "GitRepoVolumeSource", "iscsi": "ISCSIVolumeSource", "glusterfs": "GlusterfsVolumeSource",
    "rbd": "RBDVolumeSource", "flexVolume": "FlexVolumeSource", "cinder": "CinderVolumeSource",
    "cephfs": "CephFSVolumeSource", "flocker": "FlockerVolumeSource", "fc": "FCVolumeSource",
    "azureFile": "AzureFileVolumeSource", "vsphereVolume": "VsphereVirtualDiskVolumeSource",
    "quobyte": "QuobyteVolumeSource", "azureDisk": "AzureDiskVolumeSource",
    "photonPersistentDisk": "PhotonPersistentDiskVolumeSource", "portworxVolume": "PortworxVolumeSource",
    "scaleIO": "ScaleIOVolumeSource", "storageos": "StorageOSVolumeSource", "ephemeral": "EphemeralVolumeSource"}
VOLUME = struct(
    "v1.Volume", name=STRING,
    hostPath=struct("v1.HostPathVolumeSource", path=STRING, type=enum("v1.HostPathType")),
    emptyDir=struct("v1.EmptyDirVolumeSource", medium=enum("v1.StorageMedium"), sizeLimit=QUANTITY),
    secret=struct("v1.SecretVolumeSource", secretName=STRING, items=Slice(KEY_TO_PATH), defaultMode=INT32,
                  optional=BOOL),
    configMap=struct("v1.ConfigMapVolumeSource", name=STRING, items=Slice(KEY_TO_PATH), defaultMode=INT32,
                     optional=BOOL),
    persistentVolumeClaim=struct("v1.PersistentVolumeClaimVolumeSource", claimName=STRING, readOnly=BOOL),
    downwardAPI=struct("v1.DownwardAPIVolumeSource", items=Slice(DOWNWARD_API_FILE), defaultMode=INT32),
    projected=struct("v1.ProjectedVolumeSource", sources=Slice(VOLUME_PROJECTION), defaultMode=INT32),
    nfs=struct("v1.NFSVolumeSource", server=STRING, path=STRING, readOnly=BOOL),
    csi=struct("v1.CSIVolumeSource", driver=STRING, readOnly=BOOL, fsType=STRING, volumeAttributes=STRING_MAP,
               nodePublishSecretRef=struct("v1.LocalObjectReference", name=STRING)),
    image=struct("v1.ImageVolumeSource", reference=STRING, pullPolicy=enum("v1.PullPolicy")),
    **{name: opaque(f"v1.{go}") for name, go in _OTHER_VOLUME_SOURCES.items()})

# -- core/v1: scheduling ---------------------------------------------------------------------
NODE_SELECTOR_REQUIREMENT = struct("v1.NodeSelectorRequirement", key=STRING, operator=enum("v1.NodeSelectorOperator"),
                                   values=STRINGS)
NODE_SELECTOR_TERM = struct("v1.NodeSelectorTerm", matchExpressions=Slice(NODE_SELECTOR_REQUIREMENT),
                            matchFields=Slice(NODE_SELECTOR_REQUIREMENT))
POD_AFFINITY_TERM = struct("v1.PodAffinityTerm", labelSelector=LABEL_SELECTOR, namespaces=STRINGS, topologyKey=STRING,
                           namespaceSelector=LABEL_SELECTOR, matchLabelKeys=STRINGS, mismatchLabelKeys=STRINGS)
WEIGHTED_POD_AFFINITY_TERM = struct("v1.WeightedPodAffinityTerm", weight=INT32, podAffinityTerm=POD_AFFINITY_TERM)
POD_AFFINITY_FIELDS = dict(requiredDuringSchedulingIgnoredDuringExecution=Slice(POD_AFFINITY_TERM),
                           preferredDuringSchedulingIgnoredDuringExecution=Slice(WEIGHTED_POD_AFFINITY_TERM))
AFFINITY = struct(
    "v1.Affinity",
    nodeAffinity=struct("v1.NodeAffinity",
                        requiredDuringSchedulingIgnoredDuringExecution=struct(
                            "v1.NodeSelector", nodeSelectorTerms=Slice(NODE_SELECTOR_TERM)),
                        preferredDuringSchedulingIgnoredDuringExecution=Slice(struct(
                            "v1.PreferredSchedulingTerm", weight=INT32, preference=NODE_SELECTOR_TERM))),
    podAffinity=struct("v1.PodAffinity", **POD_AFFINITY_FIELDS),
    podAntiAffinity=struct("v1.PodAntiAffinity", **POD_AFFINITY_FIELDS))
TOLERATION = struct("v1.Toleration", key=STRING, operator=enum("v1.TolerationOperator"), value=STRING,
                    effect=enum("v1.TaintEffect"), tolerationSeconds=INT64)
TOPOLOGY_SPREAD_CONSTRAINT = struct(
    "v1.TopologySpreadConstraint", maxSkew=INT32, topologyKey=STRING,
    whenUnsatisfiable=enum("v1.UnsatisfiableConstraintAction"), labelSelector=LABEL_SELECTOR, minDomains=INT32,
    nodeAffinityPolicy=enum("v1.NodeInclusionPolicy"), nodeTaintsPolicy=enum("v1.NodeInclusionPolicy"),
    matchLabelKeys=STRINGS)

# -- core/v1: Pod ----------------------------------------------------------------------------
POD_SECURITY_CONTEXT = struct(
    "v1.PodSecurityContext", seLinuxOptions=SE_LINUX_OPTIONS, windowsOptions=WINDOWS_OPTIONS, runAsUser=INT64,
    runAsGroup=INT64, runAsNonRoot=BOOL, supplementalGroups=Slice(INT64),
    supplementalGroupsPolicy=enum("v1.SupplementalGroupsPolicy"), fsGroup=INT64,
    sysctls=Slice(struct("v1.Sysctl", **fields("name", "value"))),
    fsGroupChangePolicy=enum("v1.PodFSGroupChangePolicy"), seccompProfile=SECCOMP_PROFILE,
    appArmorProfile=APP_ARMOR_PROFILE, seLinuxChangePolicy=enum("v1.PodSELinuxChangePolicy"))
LOCAL_OBJECT_REFERENCE = struct("v1.LocalObjectReference", name=STRING)
POD_SPEC = struct(
    "v1.PodSpec",
    volumes=Slice(VOLUME), initContainers=Slice(CONTAINER), containers=Slice(CONTAINER),
    ephemeralContainers=Slice(EPHEMERAL_CONTAINER), restartPolicy=enum("v1.RestartPolicy"),
    terminationGracePeriodSeconds=INT64, activeDeadlineSeconds=INT64, dnsPolicy=enum("v1.DNSPolicy"),
    nodeSelector=STRING_MAP, serviceAccountName=STRING, serviceAccount=STRING, automountServiceAccountToken=BOOL,
    nodeName=STRING, hostNetwork=BOOL, hostPID=BOOL, hostIPC=BOOL, shareProcessNamespace=BOOL,
    securityContext=POD_SECURITY_CONTEXT, imagePullSecrets=Slice(LOCAL_OBJECT_REFERENCE), hostname=STRING,
    subdomain=STRING, affinity=AFFINITY, schedulerName=STRING, tolerations=Slice(TOLERATION),
    hostAliases=Slice(struct("v1.HostAlias", ip=STRING, hostnames=STRINGS)), priorityClassName=STRING,
    priority=INT32,
    dnsConfig=struct("v1.PodDNSConfig", nameservers=STRINGS, searches=STRINGS,
                     options=Slice(struct("v1.PodDNSConfigOption", **fields("name", "value")))),
    readinessGates=Slice(struct("v1.PodReadinessGate", conditionType=enum("v1.PodConditionType"))),
    runtimeClassName=STRING, enableServiceLinks=BOOL, preemptionPolicy=enum("v1.PreemptionPolicy"),
    overhead=RESOURCE_LIST, topologySpreadConstraints=Slice(TOPOLOGY_SPREAD_CONSTRAINT), setHostnameAsFQDN=BOOL,
    os=struct("v1.PodOS", name=enum("v1.OSName")), hostUsers=BOOL,
    schedulingGates=Slice(struct("v1.PodSchedulingGate", name=STRING)),
    resourceClaims=Slice(struct("v1.PodResourceClaim", **fields("name", "resourceClaimName",
                                                                 "resourceClaimTemplateName"))),
    resources=RESOURCE_REQUIREMENTS, hostnameOverride=STRING)
CONTAINER_STATE = struct(
    "v1.ContainerState",
    waiting=struct("v1.ContainerStateWaiting", **fields("reason", "message")),
    running=struct("v1.ContainerStateRunning", startedAt=TIME),
    terminated=struct("v1.ContainerStateTerminated", exitCode=INT32, signal=INT32, reason=STRING, message=STRING,
                      startedAt=TIME, finishedAt=TIME, containerID=STRING))
CONTAINER_STATUS = struct(
    "v1.ContainerStatus", name=STRING, state=CONTAINER_STATE, lastState=CONTAINER_STATE, ready=BOOL,
    restartCount=INT32, image=STRING, imageID=STRING, containerID=STRING, started=BOOL,
    allocatedResources=RESOURCE_LIST, resources=RESOURCE_REQUIREMENTS,
    volumeMounts=Slice(struct("v1.VolumeMountStatus", name=STRING, mountPath=STRING, readOnly=BOOL,
                              recursiveReadOnly=enum("v1.RecursiveReadOnlyMode"))),
    user=opaque("v1.ContainerUser"), allocatedResourcesStatus=Slice(opaque("v1.ResourceStatus")),
    stopSignal=enum("v1.Signal"))
POD_STATUS = struct(
    "v1.PodStatus", observedGeneration=INT64, phase=enum("v1.PodPhase"),
    conditions=Slice(struct("v1.PodCondition", type=enum("v1.PodConditionType"), observedGeneration=INT64,
                            status=enum("v1.ConditionStatus"), lastProbeTime=TIME, lastTransitionTime=TIME,
                            reason=STRING, message=STRING)),
    message=STRING, reason=STRING, nominatedNodeName=STRING, hostIP=STRING,
    hostIPs=Slice(struct("v1.HostIP", ip=STRING)), podIP=STRING, podIPs=Slice(struct("v1.PodIP", ip=STRING)),
    startTime=TIME, initContainerStatuses=Slice(CONTAINER_STATUS), containerStatuses=Slice(CONTAINER_STATUS),
    qosClass=enum("v1.PodQOSClass"), ephemeralContainerStatuses=Slice(CONTAINER_STATUS),
    resize=enum("v1.PodResizeStatus"),
    resourceClaimStatuses=Slice(struct("v1.PodResourceClaimStatus", **fields("name", "resourceClaimName"))),
    extendedResourceClaimStatus=opaque("v1.PodExtendedResourceClaimStatus"))
POD = struct("v1.Pod", **TYPE_META, metadata=OBJECT_META, spec=POD_SPEC, status=POD_STATUS)
POD_TEMPLATE_SPEC = struct("v1.PodTemplateSpec", metadata=OBJECT_META, spec=POD_SPEC)

# -- apps/v1: ReplicaSet ---------------------------------------------------------------------
REPLICA_SET = struct(
    "v1.ReplicaSet", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.ReplicaSetSpec", replicas=INT32, minReadySeconds=INT32, selector=LABEL_SELECTOR,
                template=POD_TEMPLATE_SPEC),
    status=struct("v1.ReplicaSetStatus", **fields("replicas", "fullyLabeledReplicas", "readyReplicas",
                                                   "availableReplicas", "terminatingReplicas", of=INT32),
                  observedGeneration=INT64,
                  conditions=Slice(struct("v1.ReplicaSetCondition", type=enum("v1.ReplicaSetConditionType"),
                                          status=enum("v1.ConditionStatus"), lastTransitionTime=TIME,
                                          reason=STRING, message=STRING))))

# -- core/v1: Node, Namespace, Event ---------------------------------------------------------
TAINT = struct("v1.Taint", key=STRING, value=STRING, effect=enum("v1.TaintEffect"), timeAdded=TIME)
NODE = struct(
    "v1.Node", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.NodeSpec", podCIDR=STRING, podCIDRs=STRINGS, providerID=STRING, unschedulable=BOOL,
                taints=Slice(TAINT), configSource=opaque("v1.NodeConfigSource"), externalID=STRING),
    status=struct(
        "v1.NodeStatus", capacity=RESOURCE_LIST, allocatable=RESOURCE_LIST, phase=enum("v1.NodePhase"),
        conditions=Slice(struct("v1.NodeCondition", type=enum("v1.NodeConditionType"),
                                status=enum("v1.ConditionStatus"), lastHeartbeatTime=TIME,
                                lastTransitionTime=TIME, reason=STRING, message=STRING)),
        addresses=Slice(struct("v1.NodeAddress", type=enum("v1.NodeAddressType"), address=STRING)),
        daemonEndpoints=struct("v1.NodeDaemonEndpoints",
                               kubeletEndpoint=struct("v1.DaemonEndpoint", Port=INT32)),
        nodeInfo=struct("v1.NodeSystemInfo",
                        **fields("machineID", "systemUUID", "bootID", "kernelVersion", "osImage",
                                 "containerRuntimeVersion", "kubeletVersion", "kubeProxyVersion",
                                 "operatingSystem", "architecture"),
                        swap=struct("v1.NodeSwapStatus", capacity=INT64)),
        images=Slice(struct("v1.ContainerImage", names=STRINGS, sizeBytes=INT64)),
        volumesInUse=Slice(enum("v1.UniqueVolumeName")),
        volumesAttached=Slice(struct("v1.AttachedVolume", name=enum("v1.UniqueVolumeName"), devicePath=STRING)),
        config=opaque("v1.NodeConfigStatus"), runtimeHandlers=Slice(opaque("v1.NodeRuntimeHandler")),
        features=struct("v1.NodeFeatures", supplementalGroupsPolicy=BOOL),
        declaredFeatures=STRINGS))
NAMESPACE = struct(
    "v1.Namespace", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.NamespaceSpec", finalizers=Slice(enum("v1.FinalizerName"))),
    status=struct("v1.NamespaceStatus", phase=enum("v1.NamespacePhase"),
                  conditions=Slice(struct("v1.NamespaceCondition", type=enum("v1.NamespaceConditionType"),
                                          status=enum("v1.ConditionStatus"), lastTransitionTime=TIME,
                                          reason=STRING, message=STRING))))
OBJECT_REFERENCE = struct("v1.ObjectReference", **fields("kind", "namespace", "name", "apiVersion",
                                                         "resourceVersion", "fieldPath"), uid=UID)
EVENT = struct(
    "v1.Event", **TYPE_META, metadata=OBJECT_META, involvedObject=OBJECT_REFERENCE, reason=STRING, message=STRING,
    source=struct("v1.EventSource", **fields("component", "host")), firstTimestamp=TIME, lastTimestamp=TIME,
    count=INT32, type=STRING, eventTime=MICRO_TIME,
    series=struct("v1.EventSeries", count=INT32, lastObservedTime=MICRO_TIME), action=STRING,
    related=OBJECT_REFERENCE, reportingComponent=STRING, reportingInstance=STRING)

# -- coordination.k8s.io/v1, scheduling.k8s.io/v1 --------------------------------------------
LEASE = struct(
    "v1.Lease", **TYPE_META, metadata=OBJECT_META,
    spec=struct("v1.LeaseSpec", holderIdentity=STRING, leaseDurationSeconds=INT32, acquireTime=MICRO_TIME,
                renewTime=MICRO_TIME, leaseTransitions=INT32, strategy=enum("v1.CoordinatedLeaseStrategy"),
                preferredHolder=STRING))
PRIORITY_CLASS = struct("v1.PriorityClass", **TYPE_META, metadata=OBJECT_META, value=INT32, globalDefault=BOOL,
                        description=STRING, preemptionPolicy=enum("v1.PreemptionPolicy"))

# -- request bodies that are not stored kinds ------------------------------------------------
BINDING = struct("v1.Binding", **TYPE_META, metadata=OBJECT_META, target=OBJECT_REFERENCE)
SCALE = struct("v1.Scale", **TYPE_META, metadata=OBJECT_META, spec=struct("v1.ScaleSpec", replicas=INT32),
               status=struct("v1.ScaleStatus", replicas=INT32, selector=STRING))
DELETE_OPTIONS = struct(
    "v1.DeleteOptions", **TYPE_META, gracePeriodSeconds=INT64,
    preconditions=struct("v1.Preconditions", uid=UID, resourceVersion=STRING), orphanDependents=BOOL,
    propagationPolicy=enum("v1.DeletionPropagation"), dryRun=STRINGS,
    ignoreStoreReadErrorWithClusterBreakingPotential=BOOL)

BY_KIND: dict[str, Struct] = {"Pod": POD, "ReplicaSet": REPLICA_SET, "Node": NODE, "Namespace": NAMESPACE,
                              "Event": EVENT, "Lease": LEASE, "PriorityClass": PRIORITY_CLASS, "Binding": BINDING,
                              "Scale": SCALE, "DeleteOptions": DELETE_OPTIONS}

FIELD_VALIDATION = ("Ignore", "Warn", "Strict")


def strict_error_message(kind: str, version: str, unknown: list[str]) -> str:
    """The BadRequest message of a Strict request with unknown fields (apimachinery's
    strict decoding errors, as kube-apiserver wraps them)."""
    fields_ = ", ".join(f'unknown field "{u}"' for u in unknown)
    return f'{kind} in version "{version}" cannot be handled as a {kind}: strict decoding error: {fields_}'


def decode_error_message(kind: str, version: str, error: str) -> str:
    """transformDecodeError (staging/src/k8s.io/apiserver/pkg/endpoints/handlers/rest.go)."""
    return f'{kind} in version "{version}" cannot be handled as a {kind}: {error}'

