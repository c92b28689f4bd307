"""Protobuf descriptors of core/v1's PodSpec and everything in it, and of the core/v1 kinds
that carry one (Pod, PodTemplate, ReplicationController) or a PersistentVolumeClaim (a
StatefulSet's volumeClaimTemplates): kubectl >= 1.32 sends `create deployment|job|cronjob`,
`autoscale`, ... through client-go's typed clients as protobuf (cluster/api/protobuf.py reads
them; cluster/api/protobuf_workloads.py describes the workload kinds on top of these).

Field numbers and names are k8s.io/api/core/v1/generated.proto's; pointer-ness (POINTER: kept
when sent, even zero) follows the Go types (a `*int64`, `*bool`, `*string` or pointer struct),
omitempty the JSON tags (False: `json:"name"` keeps "" and 0; a struct that is not a pointer is
always kept, as encoding/json writes it).  tests/api/test_protobuf_workloads.py checks every
number, name, type and pointer against the compiled generated.proto kubectl 1.33 carries, and
omitempty against its Go struct tags.  Every message is described in full, status included,
so a whole object (a stored, fully defaulted jobTemplate `kubectl create job --from=cronjob/x`
copies) reads back as the JSON kube-apiserver would decode.  Fields newer than 1.33
(EnvVarSource.fileKeyRef, Container.restartPolicyRules, PodSpec.hostnameOverride) are here too;
alpha fields the API here does not declare (VolumeProjection.podCertificate,
PodSpec.schedulingGroup, PodStatus.extendedResourceClaimStatus) are skipped as unknown numbers.
"""
from __future__ import annotations

from cluster.api.protobuf import (CONDITION, INLINE, INT_OR_STRING, KINDS, LABEL_SELECTOR, LOCAL_OBJECT_REFERENCE,
                                  OBJECT_META, POINTER, QUANTITY, TIME)

# -- volumes (VolumeSource: every source the type declares) ------------------------------------------
HOST_PATH_VOLUME_SOURCE = {1: ("path", "string", False), 2: ("type", "string", POINTER)}
EMPTY_DIR_VOLUME_SOURCE = {1: ("medium", "string", True), 2: ("sizeLimit", QUANTITY, POINTER)}
GCE_PERSISTENT_DISK_VOLUME_SOURCE = {1: ("pdName", "string", False), 2: ("fsType", "string", True),
                                     3: ("partition", "int32", True), 4: ("readOnly", "bool", True)}
AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE = {1: ("volumeID", "string", False), 2: ("fsType", "string", True),
                                         3: ("partition", "int32", True), 4: ("readOnly", "bool", True)}
GIT_REPO_VOLUME_SOURCE = {1: ("repository", "string", False), 2: ("revision", "string", True),
                          3: ("directory", "string", True)}
KEY_TO_PATH = {1: ("key", "string", False), 2: ("path", "string", False), 3: ("mode", "int32", POINTER)}
SECRET_VOLUME_SOURCE = {1: ("secretName", "string", True), 2: ("items", ("repeated", KEY_TO_PATH), True),
                        3: ("defaultMode", "int32", POINTER), 4: ("optional", "bool", POINTER)}
NFS_VOLUME_SOURCE = {1: ("server", "string", False), 2: ("path", "string", False), 3: ("readOnly", "bool", True)}
ISCSI_VOLUME_SOURCE = {1: ("targetPortal", "string", False), 2: ("iqn", "string", False), 3: ("lun", "int32", False),
                       4: ("iscsiInterface", "string", True), 5: ("fsType", "string", True),
                       6: ("readOnly", "bool", True), 7: ("portals", ("repeated", "string"), True),
                       8: ("chapAuthDiscovery", "bool", True), 10: ("secretRef", LOCAL_OBJECT_REFERENCE, POINTER),
                       11: ("chapAuthSession", "bool", True), 12: ("initiatorName", "string", POINTER)}
GLUSTERFS_VOLUME_SOURCE = {1: ("endpoints", "string", False), 2: ("path", "string", False),
                           3: ("readOnly", "bool", True)}
PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE = {1: ("claimName", "string", False), 2: ("readOnly", "bool", True)}
RBD_VOLUME_SOURCE = {1: ("monitors", ("repeated", "string"), True), 2: ("image", "string", False),
                     3: ("fsType", "string", True), 4: ("pool", "string", True), 5: ("user", "string", True),
                     6: ("keyring", "string", True), 7: ("secretRef", LOCAL_OBJECT_REFERENCE, POINTER),
                     8: ("readOnly", "bool", True)}
FLEX_VOLUME_SOURCE = {1: ("driver", "string", False), 2: ("fsType", "string", True),
                      3: ("secretRef", LOCAL_OBJECT_REFERENCE, POINTER), 4: ("readOnly", "bool", True),
                      5: ("options", ("map", "string", "string"), True)}
CINDER_VOLUME_SOURCE = {1: ("volumeID", "string", False), 2: ("fsType", "string", True),
                        3: ("readOnly", "bool", True), 4: ("secretRef", LOCAL_OBJECT_REFERENCE, POINTER)}
CEPH_FS_VOLUME_SOURCE = {1: ("monitors", ("repeated", "string"), True), 2: ("path", "string", True),
                         3: ("user", "string", True), 4: ("secretFile", "string", True),
                         5: ("secretRef", LOCAL_OBJECT_REFERENCE, POINTER), 6: ("readOnly", "bool", True)}
FLOCKER_VOLUME_SOURCE = {1: ("datasetName", "string", True), 2: ("datasetUUID", "string", True)}
OBJECT_FIELD_SELECTOR = {1: ("apiVersion", "string", True), 2: ("fieldPath", "string", False)}
RESOURCE_FIELD_SELECTOR = {1: ("containerName", "string", True), 2: ("resource", "string", False),
                           3: ("divisor", QUANTITY, False)}
DOWNWARD_API_VOLUME_FILE = {1: ("path", "string", False), 2: ("fieldRef", OBJECT_FIELD_SELECTOR, POINTER),
                            3: ("resourceFieldRef", RESOURCE_FIELD_SELECTOR, POINTER), 4: ("mode", "int32", POINTER)}
DOWNWARD_API_VOLUME_SOURCE = {1: ("items", ("repeated", DOWNWARD_API_VOLUME_FILE), True),
                              2: ("defaultMode", "int32", POINTER)}
FC_VOLUME_SOURCE = {1: ("targetWWNs", ("repeated", "string"), True), 2: ("lun", "int32", POINTER),
                    3: ("fsType", "string", True), 4: ("readOnly", "bool", True),
                    5: ("wwids", ("repeated", "string"), True)}
AZURE_FILE_VOLUME_SOURCE = {1: ("secretName", "string", False), 2: ("shareName", "string", False),
                            3: ("readOnly", "bool", True)}
CONFIG_MAP_VOLUME_SOURCE = {1: ("localObjectReference", LOCAL_OBJECT_REFERENCE, INLINE),
                            2: ("items", ("repeated", KEY_TO_PATH), True), 3: ("defaultMode", "int32", POINTER),
                            4: ("optional", "bool", POINTER)}
VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE = {1: ("volumePath", "string", False), 2: ("fsType", "string", True),
                                      3: ("storagePolicyName", "string", True),
                                      4: ("storagePolicyID", "string", True)}
QUOBYTE_VOLUME_SOURCE = {1: ("registry", "string", False), 2: ("volume", "string", False),
                         3: ("readOnly", "bool", True), 4: ("user", "string", True), 5: ("group", "string", True),
                         6: ("tenant", "string", True)}
AZURE_DISK_VOLUME_SOURCE = {1: ("diskName", "string", False), 2: ("diskURI", "string", False),
                            3: ("cachingMode", "string", POINTER), 4: ("fsType", "string", POINTER),
                            5: ("readOnly", "bool", POINTER), 6: ("kind", "string", POINTER)}
PHOTON_PERSISTENT_DISK_VOLUME_SOURCE = {1: ("pdID", "string", False), 2: ("fsType", "string", True)}
PORTWORX_VOLUME_SOURCE = {1: ("volumeID", "string", False), 2: ("fsType", "string", True),
                          3: ("readOnly", "bool", True)}
SCALE_IO_VOLUME_SOURCE = {1: ("gateway", "string", False), 2: ("system", "string", False),
                          3: ("secretRef", LOCAL_OBJECT_REFERENCE, POINTER), 4: ("sslEnabled", "bool", True),
                          5: ("protectionDomain", "string", True), 6: ("storagePool", "string", True),
                          7: ("storageMode", "string", True), 8: ("volumeName", "string", True),
                          9: ("fsType", "string", True), 10: ("readOnly", "bool", True)}
SECRET_PROJECTION = {1: ("localObjectReference", LOCAL_OBJECT_REFERENCE, INLINE),
                     2: ("items", ("repeated", KEY_TO_PATH), True), 4: ("optional", "bool", POINTER)}
DOWNWARD_API_PROJECTION = {1: ("items", ("repeated", DOWNWARD_API_VOLUME_FILE), True)}
CONFIG_MAP_PROJECTION = {1: ("localObjectReference", LOCAL_OBJECT_REFERENCE, INLINE),
                         2: ("items", ("repeated", KEY_TO_PATH), True), 4: ("optional", "bool", POINTER)}
SERVICE_ACCOUNT_TOKEN_PROJECTION = {1: ("audience", "string", True), 2: ("expirationSeconds", "int64", POINTER),
                                    3: ("path", "string", False)}
CLUSTER_TRUST_BUNDLE_PROJECTION = {1: ("name", "string", POINTER), 2: ("signerName", "string", POINTER),
                                   3: ("labelSelector", LABEL_SELECTOR, POINTER), 4: ("path", "string", False),
                                   5: ("optional", "bool", POINTER)}
VOLUME_PROJECTION = {1: ("secret", SECRET_PROJECTION, POINTER), 2: ("downwardAPI", DOWNWARD_API_PROJECTION, POINTER),
                     3: ("configMap", CONFIG_MAP_PROJECTION, POINTER),
                     4: ("serviceAccountToken", SERVICE_ACCOUNT_TOKEN_PROJECTION, POINTER),
                     5: ("clusterTrustBundle", CLUSTER_TRUST_BUNDLE_PROJECTION, POINTER)}
PROJECTED_VOLUME_SOURCE = {1: ("sources", ("repeated", VOLUME_PROJECTION), True),
                           2: ("defaultMode", "int32", POINTER)}
STORAGE_OS_VOLUME_SOURCE = {1: ("volumeName", "string", True), 2: ("volumeNamespace", "string", True),
                            3: ("fsType", "string", True), 4: ("readOnly", "bool", True),
                            5: ("secretRef", LOCAL_OBJECT_REFERENCE, POINTER)}
CSI_VOLUME_SOURCE = {1: ("driver", "string", False), 2: ("readOnly", "bool", POINTER),
                     3: ("fsType", "string", POINTER), 4: ("volumeAttributes", ("map", "string", "string"), True),
                     5: ("nodePublishSecretRef", LOCAL_OBJECT_REFERENCE, POINTER)}
VOLUME_RESOURCE_REQUIREMENTS = {1: ("limits", ("map", "string", QUANTITY), True),
                                2: ("requests", ("map", "string", QUANTITY), True)}
TYPED_LOCAL_OBJECT_REFERENCE = {1: ("apiGroup", "string", POINTER), 2: ("kind", "string", False),
                                3: ("name", "string", False)}
TYPED_OBJECT_REFERENCE = {1: ("apiGroup", "string", POINTER), 2: ("kind", "string", False),
                          3: ("name", "string", False), 4: ("namespace", "string", POINTER)}
PERSISTENT_VOLUME_CLAIM_SPEC = {1: ("accessModes", ("repeated", "string"), True),
                                2: ("resources", VOLUME_RESOURCE_REQUIREMENTS, False),
                                3: ("volumeName", "string", True), 4: ("selector", LABEL_SELECTOR, POINTER),
                                5: ("storageClassName", "string", POINTER), 6: ("volumeMode", "string", POINTER),
                                7: ("dataSource", TYPED_LOCAL_OBJECT_REFERENCE, POINTER),
                                8: ("dataSourceRef", TYPED_OBJECT_REFERENCE, POINTER),
                                9: ("volumeAttributesClassName", "string", POINTER)}
PERSISTENT_VOLUME_CLAIM_TEMPLATE = {1: ("metadata", OBJECT_META, False),
                                    2: ("spec", PERSISTENT_VOLUME_CLAIM_SPEC, False)}
EPHEMERAL_VOLUME_SOURCE = {1: ("volumeClaimTemplate", PERSISTENT_VOLUME_CLAIM_TEMPLATE, POINTER)}
IMAGE_VOLUME_SOURCE = {1: ("reference", "string", True), 2: ("pullPolicy", "string", True)}
VOLUME_SOURCE = {1: ("hostPath", HOST_PATH_VOLUME_SOURCE, POINTER), 2: ("emptyDir", EMPTY_DIR_VOLUME_SOURCE, POINTER),
                 3: ("gcePersistentDisk", GCE_PERSISTENT_DISK_VOLUME_SOURCE, POINTER),
                 4: ("awsElasticBlockStore", AWS_ELASTIC_BLOCK_STORE_VOLUME_SOURCE, POINTER),
                 5: ("gitRepo", GIT_REPO_VOLUME_SOURCE, POINTER), 6: ("secret", SECRET_VOLUME_SOURCE, POINTER),
                 7: ("nfs", NFS_VOLUME_SOURCE, POINTER), 8: ("iscsi", ISCSI_VOLUME_SOURCE, POINTER),
                 9: ("glusterfs", GLUSTERFS_VOLUME_SOURCE, POINTER),
                 10: ("persistentVolumeClaim", PERSISTENT_VOLUME_CLAIM_VOLUME_SOURCE, POINTER),
                 11: ("rbd", RBD_VOLUME_SOURCE, POINTER), 12: ("flexVolume", FLEX_VOLUME_SOURCE, POINTER),
                 13: ("cinder", CINDER_VOLUME_SOURCE, POINTER), 14: ("cephfs", CEPH_FS_VOLUME_SOURCE, POINTER),
                 15: ("flocker", FLOCKER_VOLUME_SOURCE, POINTER),
                 16: ("downwardAPI", DOWNWARD_API_VOLUME_SOURCE, POINTER), 17: ("fc", FC_VOLUME_SOURCE, POINTER),
                 18: ("azureFile", AZURE_FILE_VOLUME_SOURCE, POINTER),
                 19: ("configMap", CONFIG_MAP_VOLUME_SOURCE, POINTER),
                 20: ("vsphereVolume", VSPHERE_VIRTUAL_DISK_VOLUME_SOURCE, POINTER),
                 21: ("quobyte", QUOBYTE_VOLUME_SOURCE, POINTER),
                 22: ("azureDisk", AZURE_DISK_VOLUME_SOURCE, POINTER),
                 23: ("photonPersistentDisk", PHOTON_PERSISTENT_DISK_VOLUME_SOURCE, POINTER),
                 24: ("portworxVolume", PORTWORX_VOLUME_SOURCE, POINTER),
                 25: ("scaleIO", SCALE_IO_VOLUME_SOURCE, POINTER),
                 26: ("projected", PROJECTED_VOLUME_SOURCE, POINTER),
                 27: ("storageos", STORAGE_OS_VOLUME_SOURCE, POINTER), 28: ("csi", CSI_VOLUME_SOURCE, POINTER),
                 29: ("ephemeral", EPHEMERAL_VOLUME_SOURCE, POINTER), 30: ("image", IMAGE_VOLUME_SOURCE, POINTER)}
VOLUME = {1: ("name", "string", False), 2: ("volumeSource", VOLUME_SOURCE, INLINE)}

# -- containers --------------------------------------------------------------------------------------
CONTAINER_PORT = {1: ("name", "string", True), 2: ("hostPort", "int32", True), 3: ("containerPort", "int32", False),
                  4: ("protocol", "string", True), 5: ("hostIP", "string", True)}
CONFIG_MAP_KEY_SELECTOR = {1: ("localObjectReference", LOCAL_OBJECT_REFERENCE, INLINE), 2: ("key", "string", False),
                           3: ("optional", "bool", POINTER)}
SECRET_KEY_SELECTOR = {1: ("localObjectReference", LOCAL_OBJECT_REFERENCE, INLINE), 2: ("key", "string", False),
                       3: ("optional", "bool", POINTER)}
FILE_KEY_SELECTOR = {1: ("volumeName", "string", False), 2: ("path", "string", False), 3: ("key", "string", False),
                     4: ("optional", "bool", POINTER)}
ENV_VAR_SOURCE = {1: ("fieldRef", OBJECT_FIELD_SELECTOR, POINTER),
                  2: ("resourceFieldRef", RESOURCE_FIELD_SELECTOR, POINTER),
                  3: ("configMapKeyRef", CONFIG_MAP_KEY_SELECTOR, POINTER),
                  4: ("secretKeyRef", SECRET_KEY_SELECTOR, POINTER), 5: ("fileKeyRef", FILE_KEY_SELECTOR, POINTER)}
ENV_VAR = {1: ("name", "string", False), 2: ("value", "string", True), 3: ("valueFrom", ENV_VAR_SOURCE, POINTER)}
RESOURCE_CLAIM = {1: ("name", "string", False), 2: ("request", "string", True)}
RESOURCE_REQUIREMENTS = {1: ("limits", ("map", "string", QUANTITY), True),
                         2: ("requests", ("map", "string", QUANTITY), True),
                         3: ("claims", ("repeated", RESOURCE_CLAIM), True)}
VOLUME_MOUNT = {1: ("name", "string", False), 2: ("readOnly", "bool", True), 3: ("mountPath", "string", False),
                4: ("subPath", "string", True), 5: ("mountPropagation", "string", POINTER),
                6: ("subPathExpr", "string", True), 7: ("recursiveReadOnly", "string", POINTER)}
EXEC_ACTION = {1: ("command", ("repeated", "string"), True)}
HTTP_HEADER = {1: ("name", "string", False), 2: ("value", "string", False)}
HTTP_GET_ACTION = {1: ("path", "string", True), 2: ("port", INT_OR_STRING, False), 3: ("host", "string", True),
                   4: ("scheme", "string", True), 5: ("httpHeaders", ("repeated", HTTP_HEADER), True)}
TCP_SOCKET_ACTION = {1: ("port", INT_OR_STRING, False), 2: ("host", "string", True)}
GRPC_ACTION = {1: ("port", "int32", False), 2: ("service", "string", POINTER)}
PROBE_HANDLER = {1: ("exec", EXEC_ACTION, POINTER), 2: ("httpGet", HTTP_GET_ACTION, POINTER),
                 3: ("tcpSocket", TCP_SOCKET_ACTION, POINTER), 4: ("grpc", GRPC_ACTION, POINTER)}
PROBE = {1: ("handler", PROBE_HANDLER, INLINE), 2: ("initialDelaySeconds", "int32", True),
         3: ("timeoutSeconds", "int32", True), 4: ("periodSeconds", "int32", True),
         5: ("successThreshold", "int32", True), 6: ("failureThreshold", "int32", True),
         7: ("terminationGracePeriodSeconds", "int64", POINTER)}
SLEEP_ACTION = {1: ("seconds", "int64", False)}
LIFECYCLE_HANDLER = {1: ("exec", EXEC_ACTION, POINTER), 2: ("httpGet", HTTP_GET_ACTION, POINTER),
                     3: ("tcpSocket", TCP_SOCKET_ACTION, POINTER), 4: ("sleep", SLEEP_ACTION, POINTER)}
LIFECYCLE = {1: ("postStart", LIFECYCLE_HANDLER, POINTER), 2: ("preStop", LIFECYCLE_HANDLER, POINTER),
             3: ("stopSignal", "string", POINTER)}
CAPABILITIES = {1: ("add", ("repeated", "string"), True), 2: ("drop", ("repeated", "string"), True)}
SE_LINUX_OPTIONS = {1: ("user", "string", True), 2: ("role", "string", True), 3: ("type", "string", True),
                    4: ("level", "string", True)}
WINDOWS_SECURITY_CONTEXT_OPTIONS = {1: ("gmsaCredentialSpecName", "string", POINTER),
                                    2: ("gmsaCredentialSpec", "string", POINTER),
                                    3: ("runAsUserName", "string", POINTER), 4: ("hostProcess", "bool", POINTER)}
SECCOMP_PROFILE = {1: ("type", "string", False), 2: ("localhostProfile", "string", POINTER)}
APP_ARMOR_PROFILE = {1: ("type", "string", False), 2: ("localhostProfile", "string", POINTER)}
SECURITY_CONTEXT = {1: ("capabilities", CAPABILITIES, POINTER), 2: ("privileged", "bool", POINTER),
                    3: ("seLinuxOptions", SE_LINUX_OPTIONS, POINTER), 4: ("runAsUser", "int64", POINTER),
                    5: ("runAsNonRoot", "bool", POINTER), 6: ("readOnlyRootFilesystem", "bool", POINTER),
                    7: ("allowPrivilegeEscalation", "bool", POINTER), 8: ("runAsGroup", "int64", POINTER),
                    9: ("procMount", "string", POINTER),
                    10: ("windowsOptions", WINDOWS_SECURITY_CONTEXT_OPTIONS, POINTER),
                    11: ("seccompProfile", SECCOMP_PROFILE, POINTER),
                    12: ("appArmorProfile", APP_ARMOR_PROFILE, POINTER)}
CONFIG_MAP_ENV_SOURCE = {1: ("localObjectReference", LOCAL_OBJECT_REFERENCE, INLINE),
                         2: ("optional", "bool", POINTER)}
SECRET_ENV_SOURCE = {1: ("localObjectReference", LOCAL_OBJECT_REFERENCE, INLINE), 2: ("optional", "bool", POINTER)}
ENV_FROM_SOURCE = {1: ("prefix", "string", True), 2: ("configMapRef", CONFIG_MAP_ENV_SOURCE, POINTER),
                   3: ("secretRef", SECRET_ENV_SOURCE, POINTER)}
VOLUME_DEVICE = {1: ("name", "string", False), 2: ("devicePath", "string", False)}
CONTAINER_RESIZE_POLICY = {1: ("resourceName", "string", False), 2: ("restartPolicy", "string", False)}
CONTAINER_RESTART_RULE_ON_EXIT_CODES = {1: ("operator", "string", True), 2: ("values", ("repeated", "int32"), True)}
CONTAINER_RESTART_RULE = {1: ("action", "string", True),
                          2: ("exitCodes", CONTAINER_RESTART_RULE_ON_EXIT_CODES, POINTER)}
CONTAINER = {1: ("name", "string", False), 2: ("image", "string", True), 3: ("command", ("repeated", "string"), True),
             4: ("args", ("repeated", "string"), True), 5: ("workingDir", "string", True),
             6: ("ports", ("repeated", CONTAINER_PORT), True), 7: ("env", ("repeated", ENV_VAR), True),
             8: ("resources", RESOURCE_REQUIREMENTS, False), 9: ("volumeMounts", ("repeated", VOLUME_MOUNT), True),
             10: ("livenessProbe", PROBE, POINTER), 11: ("readinessProbe", PROBE, POINTER),
             12: ("lifecycle", LIFECYCLE, POINTER), 13: ("terminationMessagePath", "string", True),
             14: ("imagePullPolicy", "string", True), 15: ("securityContext", SECURITY_CONTEXT, POINTER),
             16: ("stdin", "bool", True), 17: ("stdinOnce", "bool", True), 18: ("tty", "bool", True),
             19: ("envFrom", ("repeated", ENV_FROM_SOURCE), True), 20: ("terminationMessagePolicy", "string", True),
             21: ("volumeDevices", ("repeated", VOLUME_DEVICE), True), 22: ("startupProbe", PROBE, POINTER),
             23: ("resizePolicy", ("repeated", CONTAINER_RESIZE_POLICY), True),
             24: ("restartPolicy", "string", POINTER),
             25: ("restartPolicyRules", ("repeated", CONTAINER_RESTART_RULE), True)}

# -- the pod's security context and scheduling -------------------------------------------------------
SYSCTL = {1: ("name", "string", False), 2: ("value", "string", False)}
POD_SECURITY_CONTEXT = {1: ("seLinuxOptions", SE_LINUX_OPTIONS, POINTER), 2: ("runAsUser", "int64", POINTER),
                        3: ("runAsNonRoot", "bool", POINTER), 4: ("supplementalGroups", ("repeated", "int64"), True),
                        5: ("fsGroup", "int64", POINTER), 6: ("runAsGroup", "int64", POINTER),
                        7: ("sysctls", ("repeated", SYSCTL), True),
                        8: ("windowsOptions", WINDOWS_SECURITY_CONTEXT_OPTIONS, POINTER),
                        9: ("fsGroupChangePolicy", "string", POINTER),
                        10: ("seccompProfile", SECCOMP_PROFILE, POINTER),
                        11: ("appArmorProfile", APP_ARMOR_PROFILE, POINTER),
                        12: ("supplementalGroupsPolicy", "string", POINTER),
                        13: ("seLinuxChangePolicy", "string", POINTER)}
NODE_SELECTOR_REQUIREMENT = {1: ("key", "string", False), 2: ("operator", "string", False),
                             3: ("values", ("repeated", "string"), True)}
NODE_SELECTOR_TERM = {1: ("matchExpressions", ("repeated", NODE_SELECTOR_REQUIREMENT), True),
                      2: ("matchFields", ("repeated", NODE_SELECTOR_REQUIREMENT), True)}
NODE_SELECTOR = {1: ("nodeSelectorTerms", ("repeated", NODE_SELECTOR_TERM), True)}
PREFERRED_SCHEDULING_TERM = {1: ("weight", "int32", False), 2: ("preference", NODE_SELECTOR_TERM, False)}
NODE_AFFINITY = {1: ("requiredDuringSchedulingIgnoredDuringExecution", NODE_SELECTOR, POINTER),
                 2: ("preferredDuringSchedulingIgnoredDuringExecution", ("repeated", PREFERRED_SCHEDULING_TERM),
                     True)}
POD_AFFINITY_TERM = {1: ("labelSelector", LABEL_SELECTOR, POINTER), 2: ("namespaces", ("repeated", "string"), True),
                     3: ("topologyKey", "string", False), 4: ("namespaceSelector", LABEL_SELECTOR, POINTER),
                     5: ("matchLabelKeys", ("repeated", "string"), True),
                     6: ("mismatchLabelKeys", ("repeated", "string"), True)}
WEIGHTED_POD_AFFINITY_TERM = {1: ("weight", "int32", False), 2: ("podAffinityTerm", POD_AFFINITY_TERM, False)}
# PodAffinity and PodAntiAffinity have the same fields and numbers.
POD_AFFINITY = {1: ("requiredDuringSchedulingIgnoredDuringExecution", ("repeated", POD_AFFINITY_TERM), True),
                2: ("preferredDuringSchedulingIgnoredDuringExecution", ("repeated", WEIGHTED_POD_AFFINITY_TERM),
                    True)}
POD_ANTI_AFFINITY = POD_AFFINITY
AFFINITY = {1: ("nodeAffinity", NODE_AFFINITY, POINTER), 2: ("podAffinity", POD_AFFINITY, POINTER),
            3: ("podAntiAffinity", POD_ANTI_AFFINITY, POINTER)}
TOLERATION = {1: ("key", "string", True), 2: ("operator", "string", True), 3: ("value", "string", True),
              4: ("effect", "string", True), 5: ("tolerationSeconds", "int64", POINTER)}
HOST_ALIAS = {1: ("ip", "string", False), 2: ("hostnames", ("repeated", "string"), True)}
POD_DNS_CONFIG_OPTION = {1: ("name", "string", True), 2: ("value", "string", POINTER)}
POD_DNS_CONFIG = {1: ("nameservers", ("repeated", "string"), True), 2: ("searches", ("repeated", "string"), True),
                  3: ("options", ("repeated", POD_DNS_CONFIG_OPTION), True)}
POD_READINESS_GATE = {1: ("conditionType", "string", False)}
TOPOLOGY_SPREAD_CONSTRAINT = {1: ("maxSkew", "int32", False), 2: ("topologyKey", "string", False),
                              3: ("whenUnsatisfiable", "string", False),
                              4: ("labelSelector", LABEL_SELECTOR, POINTER), 5: ("minDomains", "int32", POINTER),
                              6: ("nodeAffinityPolicy", "string", POINTER),
                              7: ("nodeTaintsPolicy", "string", POINTER),
                              8: ("matchLabelKeys", ("repeated", "string"), True)}

# -- ephemeral containers, PodSpec, PodTemplateSpec --------------------------------------------------
# EphemeralContainerCommon declares Container's fields under the same numbers; EphemeralContainer embeds it.
EPHEMERAL_CONTAINER_COMMON = CONTAINER
EPHEMERAL_CONTAINER = {1: ("ephemeralContainerCommon", EPHEMERAL_CONTAINER_COMMON, INLINE),
                       2: ("targetContainerName", "string", True)}
POD_OS = {1: ("name", "string", False)}
POD_SCHEDULING_GATE = {1: ("name", "string", False)}
POD_RESOURCE_CLAIM = {1: ("name", "string", False), 3: ("resourceClaimName", "string", POINTER),
                      4: ("resourceClaimTemplateName", "string", POINTER)}
POD_SPEC = {1: ("volumes", ("repeated", VOLUME), True), 2: ("containers", ("repeated", CONTAINER), True),
            3: ("restartPolicy", "string", True), 4: ("terminationGracePeriodSeconds", "int64", POINTER),
            5: ("activeDeadlineSeconds", "int64", POINTER), 6: ("dnsPolicy", "string", True),
            7: ("nodeSelector", ("map", "string", "string"), True), 8: ("serviceAccountName", "string", True),
            9: ("serviceAccount", "string", True), 10: ("nodeName", "string", True),
            11: ("hostNetwork", "bool", True), 12: ("hostPID", "bool", True), 13: ("hostIPC", "bool", True),
            14: ("securityContext", POD_SECURITY_CONTEXT, POINTER),
            15: ("imagePullSecrets", ("repeated", LOCAL_OBJECT_REFERENCE), True), 16: ("hostname", "string", True),
            17: ("subdomain", "string", True), 18: ("affinity", AFFINITY, POINTER),
            19: ("schedulerName", "string", True), 20: ("initContainers", ("repeated", CONTAINER), True),
            21: ("automountServiceAccountToken", "bool", POINTER),
            22: ("tolerations", ("repeated", TOLERATION), True), 23: ("hostAliases", ("repeated", HOST_ALIAS), True),
            24: ("priorityClassName", "string", True), 25: ("priority", "int32", POINTER),
            26: ("dnsConfig", POD_DNS_CONFIG, POINTER), 27: ("shareProcessNamespace", "bool", POINTER),
            28: ("readinessGates", ("repeated", POD_READINESS_GATE), True),
            29: ("runtimeClassName", "string", POINTER), 30: ("enableServiceLinks", "bool", POINTER),
            31: ("preemptionPolicy", "string", POINTER), 32: ("overhead", ("map", "string", QUANTITY), True),
            33: ("topologySpreadConstraints", ("repeated", TOPOLOGY_SPREAD_CONSTRAINT), True),
            34: ("ephemeralContainers", ("repeated", EPHEMERAL_CONTAINER), True),
            35: ("setHostnameAsFQDN", "bool", POINTER), 36: ("os", POD_OS, POINTER),
            37: ("hostUsers", "bool", POINTER), 38: ("schedulingGates", ("repeated", POD_SCHEDULING_GATE), True),
            39: ("resourceClaims", ("repeated", POD_RESOURCE_CLAIM), True),
            40: ("resources", RESOURCE_REQUIREMENTS, POINTER), 41: ("hostnameOverride", "string", POINTER)}
POD_TEMPLATE_SPEC = {1: ("metadata", OBJECT_META, False), 2: ("spec", POD_SPEC, False)}

# -- PersistentVolumeClaim (a StatefulSet's volumeClaimTemplates), ReplicationController -------------
PERSISTENT_VOLUME_CLAIM_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False),
                                     3: ("lastProbeTime", TIME, True), 4: ("lastTransitionTime", TIME, True),
                                     5: ("reason", "string", True), 6: ("message", "string", True)}
MODIFY_VOLUME_STATUS = {1: ("targetVolumeAttributesClassName", "string", True), 2: ("status", "string", False)}
PERSISTENT_VOLUME_CLAIM_STATUS = {1: ("phase", "string", True), 2: ("accessModes", ("repeated", "string"), True),
                                  3: ("capacity", ("map", "string", QUANTITY), True),
                                  4: ("conditions", ("repeated", PERSISTENT_VOLUME_CLAIM_CONDITION), True),
                                  5: ("allocatedResources", ("map", "string", QUANTITY), True),
                                  7: ("allocatedResourceStatuses", ("map", "string", "string"), True),
                                  8: ("currentVolumeAttributesClassName", "string", POINTER),
                                  9: ("modifyVolumeStatus", MODIFY_VOLUME_STATUS, POINTER)}
PERSISTENT_VOLUME_CLAIM = {1: ("metadata", OBJECT_META, False), 2: ("spec", PERSISTENT_VOLUME_CLAIM_SPEC, False),
                           3: ("status", PERSISTENT_VOLUME_CLAIM_STATUS, False)}
REPLICATION_CONTROLLER_SPEC = {1: ("replicas", "int32", POINTER), 2: ("selector", ("map", "string", "string"), True),
                               3: ("template", POD_TEMPLATE_SPEC, POINTER), 4: ("minReadySeconds", "int32", True)}
REPLICATION_CONTROLLER_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False),
                                    3: ("lastTransitionTime", TIME, True), 4: ("reason", "string", True),
                                    5: ("message", "string", True)}
REPLICATION_CONTROLLER_STATUS = {1: ("replicas", "int32", False), 2: ("fullyLabeledReplicas", "int32", True),
                                 3: ("observedGeneration", "int64", True), 4: ("readyReplicas", "int32", True),
                                 5: ("availableReplicas", "int32", True),
                                 6: ("conditions", ("repeated", REPLICATION_CONTROLLER_CONDITION), True)}
REPLICATION_CONTROLLER = {1: ("metadata", OBJECT_META, False), 2: ("spec", REPLICATION_CONTROLLER_SPEC, False),
                          3: ("status", REPLICATION_CONTROLLER_STATUS, False)}

# -- Pod (status too: a full object reads back), PodTemplate -----------------------------------------
POD_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False), 3: ("lastProbeTime", TIME, True),
                 4: ("lastTransitionTime", TIME, True), 5: ("reason", "string", True), 6: ("message", "string", True),
                 7: ("observedGeneration", "int64", True)}
CONTAINER_STATE_WAITING = {1: ("reason", "string", True), 2: ("message", "string", True)}
CONTAINER_STATE_RUNNING = {1: ("startedAt", TIME, True)}
CONTAINER_STATE_TERMINATED = {1: ("exitCode", "int32", False), 2: ("signal", "int32", True),
                              3: ("reason", "string", True), 4: ("message", "string", True),
                              5: ("startedAt", TIME, True), 6: ("finishedAt", TIME, True),
                              7: ("containerID", "string", True)}
CONTAINER_STATE = {1: ("waiting", CONTAINER_STATE_WAITING, POINTER), 2: ("running", CONTAINER_STATE_RUNNING, POINTER),
                   3: ("terminated", CONTAINER_STATE_TERMINATED, POINTER)}
VOLUME_MOUNT_STATUS = {1: ("name", "string", False), 2: ("mountPath", "string", False), 3: ("readOnly", "bool", True),
                       4: ("recursiveReadOnly", "string", POINTER)}
LINUX_CONTAINER_USER = {1: ("uid", "int64", False), 2: ("gid", "int64", False),
                        3: ("supplementalGroups", ("repeated", "int64"), True)}
CONTAINER_USER = {1: ("linux", LINUX_CONTAINER_USER, POINTER)}
RESOURCE_HEALTH = {1: ("resourceID", "string", False), 2: ("health", "string", True)}
RESOURCE_STATUS = {1: ("name", "string", False), 2: ("resources", ("repeated", RESOURCE_HEALTH), True)}
CONTAINER_STATUS = {1: ("name", "string", False), 2: ("state", CONTAINER_STATE, False),
                    3: ("lastState", CONTAINER_STATE, False), 4: ("ready", "bool", False),
                    5: ("restartCount", "int32", False), 6: ("image", "string", False),
                    7: ("imageID", "string", False), 8: ("containerID", "string", True),
                    9: ("started", "bool", POINTER), 10: ("allocatedResources", ("map", "string", QUANTITY), True),
                    11: ("resources", RESOURCE_REQUIREMENTS, POINTER),
                    12: ("volumeMounts", ("repeated", VOLUME_MOUNT_STATUS), True),
                    13: ("user", CONTAINER_USER, POINTER),
                    14: ("allocatedResourcesStatus", ("repeated", RESOURCE_STATUS), True),
                    15: ("stopSignal", "string", POINTER)}
POD_IP = {1: ("ip", "string", False)}
POD_RESOURCE_CLAIM_STATUS = {1: ("name", "string", False), 2: ("resourceClaimName", "string", POINTER)}
HOST_IP = {1: ("ip", "string", False)}
POD_STATUS = {1: ("phase", "string", True), 2: ("conditions", ("repeated", POD_CONDITION), True),
              3: ("message", "string", True), 4: ("reason", "string", True), 5: ("hostIP", "string", True),
              6: ("podIP", "string", True), 7: ("startTime", TIME, POINTER),
              8: ("containerStatuses", ("repeated", CONTAINER_STATUS), True), 9: ("qosClass", "string", True),
              10: ("initContainerStatuses", ("repeated", CONTAINER_STATUS), True),
              11: ("nominatedNodeName", "string", True), 12: ("podIPs", ("repeated", POD_IP), True),
              13: ("ephemeralContainerStatuses", ("repeated", CONTAINER_STATUS), True),
              14: ("resize", "string", True),
              15: ("resourceClaimStatuses", ("repeated", POD_RESOURCE_CLAIM_STATUS), True),
              16: ("hostIPs", ("repeated", HOST_IP), True), 17: ("observedGeneration", "int64", True)}
POD = {1: ("metadata", OBJECT_META, False), 2: ("spec", POD_SPEC, False), 3: ("status", POD_STATUS, False)}
POD_TEMPLATE = {1: ("metadata", OBJECT_META, False), 2: ("template", POD_TEMPLATE_SPEC, False)}


# -- Service (`kubectl create service` and `expose` send it from 1.32 on) ---------------------------
SERVICE_PORT = {1: ("name", "string", True), 2: ("protocol", "string", True), 3: ("port", "int32", False),
                4: ("targetPort", INT_OR_STRING, True), 5: ("nodePort", "int32", True),
                6: ("appProtocol", "string", POINTER)}
SESSION_AFFINITY_CONFIG = {1: ("clientIP", {1: ("timeoutSeconds", "int32", POINTER)}, POINTER)}
SERVICE_SPEC = {1: ("ports", ("repeated", SERVICE_PORT), True), 2: ("selector", ("map", "string", "string"), True),
                3: ("clusterIP", "string", True), 4: ("type", "string", True),
                5: ("externalIPs", ("repeated", "string"), True), 7: ("sessionAffinity", "string", True),
                8: ("loadBalancerIP", "string", True), 9: ("loadBalancerSourceRanges", ("repeated", "string"), True),
                10: ("externalName", "string", True), 11: ("externalTrafficPolicy", "string", True),
                12: ("healthCheckNodePort", "int32", True), 13: ("publishNotReadyAddresses", "bool", True),
                14: ("sessionAffinityConfig", SESSION_AFFINITY_CONFIG, POINTER),
                17: ("ipFamilyPolicy", "string", POINTER), 18: ("clusterIPs", ("repeated", "string"), True),
                19: ("ipFamilies", ("repeated", "string"), True),
                20: ("allocateLoadBalancerNodePorts", "bool", POINTER), 21: ("loadBalancerClass", "string", POINTER),
                22: ("internalTrafficPolicy", "string", POINTER), 23: ("trafficDistribution", "string", POINTER)}
PORT_STATUS = {1: ("port", "int32", False), 2: ("protocol", "string", False), 3: ("error", "string", POINTER)}
LOAD_BALANCER_INGRESS = {1: ("ip", "string", True), 2: ("hostname", "string", True), 3: ("ipMode", "string", POINTER),
                         4: ("ports", ("repeated", PORT_STATUS), True)}
SERVICE_STATUS = {1: ("loadBalancer", {1: ("ingress", ("repeated", LOAD_BALANCER_INGRESS), True)}, False),
                  2: ("conditions", ("repeated", CONDITION), True)}
SERVICE = {1: ("metadata", OBJECT_META, False), 2: ("spec", SERVICE_SPEC, False), 3: ("status", SERVICE_STATUS, False)}

KINDS.update({
    ("v1", "Service"): SERVICE,
    ("v1", "Pod"): POD,
    ("v1", "PodTemplate"): POD_TEMPLATE,
    ("v1", "ReplicationController"): REPLICATION_CONTROLLER,
    ("v1", "PersistentVolumeClaim"): PERSISTENT_VOLUME_CLAIM,
})

# The workload kinds are built on these (imported last: see protobuf.py's last lines).
from cluster.api import protobuf_workloads  # noqa: E402,F401
