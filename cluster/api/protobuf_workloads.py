"""Protobuf descriptors of the workload kinds: apps/v1 Deployment, ReplicaSet, DaemonSet,
StatefulSet, ControllerRevision; batch/v1 Job, CronJob; autoscaling/v1 HorizontalPodAutoscaler
and Scale (the scale subresource's body); autoscaling/v2 HorizontalPodAutoscaler.  Field numbers
and names are k8s.io/api's generated.proto (apps/v1, batch/v1, autoscaling/v1, autoscaling/v2);
POINTER and omitempty follow the Go types as in cluster/api/protobuf_core.py, whose PodSpec and
PersistentVolumeClaim these embed.  Registered into cluster.api.protobuf.KINDS on import.
"""
from __future__ import annotations

from cluster.api.protobuf import (INT_OR_STRING, KINDS, LABEL_SELECTOR, OBJECT_META, OBJECT_REFERENCE, POINTER,
                                  QUANTITY, RAW_JSON, TIME)
from cluster.api.protobuf_core import PERSISTENT_VOLUME_CLAIM, POD_TEMPLATE_SPEC

# -- apps/v1: Deployment, ReplicaSet, DaemonSet, StatefulSet, ControllerRevision ---------------------
ROLLING_UPDATE_DEPLOYMENT = {1: ("maxUnavailable", INT_OR_STRING, POINTER), 2: ("maxSurge", INT_OR_STRING, POINTER)}
DEPLOYMENT_STRATEGY = {1: ("type", "string", True), 2: ("rollingUpdate", ROLLING_UPDATE_DEPLOYMENT, POINTER)}
DEPLOYMENT_SPEC = {1: ("replicas", "int32", POINTER), 2: ("selector", LABEL_SELECTOR, POINTER),
                   3: ("template", POD_TEMPLATE_SPEC, False), 4: ("strategy", DEPLOYMENT_STRATEGY, False),
                   5: ("minReadySeconds", "int32", True), 6: ("revisionHistoryLimit", "int32", POINTER),
                   7: ("paused", "bool", True), 9: ("progressDeadlineSeconds", "int32", POINTER)}
DEPLOYMENT_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False), 4: ("reason", "string", True),
                        5: ("message", "string", True), 6: ("lastUpdateTime", TIME, True),
                        7: ("lastTransitionTime", TIME, True)}
DEPLOYMENT_STATUS = {1: ("observedGeneration", "int64", True), 2: ("replicas", "int32", True),
                     3: ("updatedReplicas", "int32", True), 4: ("availableReplicas", "int32", True),
                     5: ("unavailableReplicas", "int32", True),
                     6: ("conditions", ("repeated", DEPLOYMENT_CONDITION), True), 7: ("readyReplicas", "int32", True),
                     8: ("collisionCount", "int32", POINTER), 9: ("terminatingReplicas", "int32", POINTER)}
DEPLOYMENT = {1: ("metadata", OBJECT_META, False), 2: ("spec", DEPLOYMENT_SPEC, False),
              3: ("status", DEPLOYMENT_STATUS, False)}
REPLICA_SET_SPEC = {1: ("replicas", "int32", POINTER), 2: ("selector", LABEL_SELECTOR, POINTER),
                    3: ("template", POD_TEMPLATE_SPEC, False), 4: ("minReadySeconds", "int32", True)}
REPLICA_SET_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False),
                         3: ("lastTransitionTime", TIME, True), 4: ("reason", "string", True),
                         5: ("message", "string", True)}
REPLICA_SET_STATUS = {1: ("replicas", "int32", False), 2: ("fullyLabeledReplicas", "int32", True),
                      3: ("observedGeneration", "int64", True), 4: ("readyReplicas", "int32", True),
                      5: ("availableReplicas", "int32", True),
                      6: ("conditions", ("repeated", REPLICA_SET_CONDITION), True),
                      7: ("terminatingReplicas", "int32", POINTER)}
REPLICA_SET = {1: ("metadata", OBJECT_META, False), 2: ("spec", REPLICA_SET_SPEC, False),
               3: ("status", REPLICA_SET_STATUS, False)}
ROLLING_UPDATE_DAEMON_SET = {1: ("maxUnavailable", INT_OR_STRING, POINTER), 2: ("maxSurge", INT_OR_STRING, POINTER)}
DAEMON_SET_UPDATE_STRATEGY = {1: ("type", "string", True), 2: ("rollingUpdate", ROLLING_UPDATE_DAEMON_SET, POINTER)}
DAEMON_SET_SPEC = {1: ("selector", LABEL_SELECTOR, POINTER), 2: ("template", POD_TEMPLATE_SPEC, False),
                   3: ("updateStrategy", DAEMON_SET_UPDATE_STRATEGY, False), 4: ("minReadySeconds", "int32", True),
                   6: ("revisionHistoryLimit", "int32", POINTER)}
DAEMON_SET_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False),
                        3: ("lastTransitionTime", TIME, True), 4: ("reason", "string", True),
                        5: ("message", "string", True)}
DAEMON_SET_STATUS = {1: ("currentNumberScheduled", "int32", False), 2: ("numberMisscheduled", "int32", False),
                     3: ("desiredNumberScheduled", "int32", False), 4: ("numberReady", "int32", False),
                     5: ("observedGeneration", "int64", True), 6: ("updatedNumberScheduled", "int32", True),
                     7: ("numberAvailable", "int32", True), 8: ("numberUnavailable", "int32", True),
                     9: ("collisionCount", "int32", POINTER),
                     10: ("conditions", ("repeated", DAEMON_SET_CONDITION), True)}
DAEMON_SET = {1: ("metadata", OBJECT_META, False), 2: ("spec", DAEMON_SET_SPEC, False),
              3: ("status", DAEMON_SET_STATUS, False)}
ROLLING_UPDATE_STATEFUL_SET_STRATEGY = {1: ("partition", "int32", POINTER),
                                        2: ("maxUnavailable", INT_OR_STRING, POINTER)}
STATEFUL_SET_UPDATE_STRATEGY = {1: ("type", "string", True),
                                2: ("rollingUpdate", ROLLING_UPDATE_STATEFUL_SET_STRATEGY, POINTER)}
STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY = {1: ("whenDeleted", "string", True),
                                                         2: ("whenScaled", "string", True)}
STATEFUL_SET_ORDINALS = {1: ("start", "int32", False)}
STATEFUL_SET_SPEC = {1: ("replicas", "int32", POINTER), 2: ("selector", LABEL_SELECTOR, POINTER),
                     3: ("template", POD_TEMPLATE_SPEC, False),
                     4: ("volumeClaimTemplates", ("repeated", PERSISTENT_VOLUME_CLAIM), True),
                     5: ("serviceName", "string", False), 6: ("podManagementPolicy", "string", True),
                     7: ("updateStrategy", STATEFUL_SET_UPDATE_STRATEGY, False),
                     8: ("revisionHistoryLimit", "int32", POINTER), 9: ("minReadySeconds", "int32", True),
                     10: ("persistentVolumeClaimRetentionPolicy",
                          STATEFUL_SET_PERSISTENT_VOLUME_CLAIM_RETENTION_POLICY, POINTER),
                     11: ("ordinals", STATEFUL_SET_ORDINALS, POINTER)}
STATEFUL_SET_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False),
                          3: ("lastTransitionTime", TIME, True), 4: ("reason", "string", True),
                          5: ("message", "string", True)}
STATEFUL_SET_STATUS = {1: ("observedGeneration", "int64", True), 2: ("replicas", "int32", False),
                       3: ("readyReplicas", "int32", True), 4: ("currentReplicas", "int32", True),
                       5: ("updatedReplicas", "int32", True), 6: ("currentRevision", "string", True),
                       7: ("updateRevision", "string", True), 9: ("collisionCount", "int32", POINTER),
                       10: ("conditions", ("repeated", STATEFUL_SET_CONDITION), True),
                       11: ("availableReplicas", "int32", False)}
STATEFUL_SET = {1: ("metadata", OBJECT_META, False), 2: ("spec", STATEFUL_SET_SPEC, False),
                3: ("status", STATEFUL_SET_STATUS, False)}
CONTROLLER_REVISION = {1: ("metadata", OBJECT_META, False), 2: ("data", RAW_JSON, True),
                       3: ("revision", "int64", False)}

# -- batch/v1: Job, CronJob --------------------------------------------------------------------------
POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT = {1: ("containerName", "string", POINTER),
                                                2: ("operator", "string", False),
                                                3: ("values", ("repeated", "int32"), True)}
POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN = {1: ("type", "string", False), 2: ("status", "string", False)}
POD_FAILURE_POLICY_RULE = {1: ("action", "string", False),
                           2: ("onExitCodes", POD_FAILURE_POLICY_ON_EXIT_CODES_REQUIREMENT, POINTER),
                           3: ("onPodConditions", ("repeated", POD_FAILURE_POLICY_ON_POD_CONDITIONS_PATTERN), True)}
POD_FAILURE_POLICY = {1: ("rules", ("repeated", POD_FAILURE_POLICY_RULE), True)}
SUCCESS_POLICY_RULE = {1: ("succeededIndexes", "string", POINTER), 2: ("succeededCount", "int32", POINTER)}
SUCCESS_POLICY = {1: ("rules", ("repeated", SUCCESS_POLICY_RULE), True)}
JOB_SPEC = {1: ("parallelism", "int32", POINTER), 2: ("completions", "int32", POINTER),
            3: ("activeDeadlineSeconds", "int64", POINTER), 4: ("selector", LABEL_SELECTOR, POINTER),
            5: ("manualSelector", "bool", POINTER), 6: ("template", POD_TEMPLATE_SPEC, False),
            7: ("backoffLimit", "int32", POINTER), 8: ("ttlSecondsAfterFinished", "int32", POINTER),
            9: ("completionMode", "string", POINTER), 10: ("suspend", "bool", POINTER),
            11: ("podFailurePolicy", POD_FAILURE_POLICY, POINTER), 12: ("backoffLimitPerIndex", "int32", POINTER),
            13: ("maxFailedIndexes", "int32", POINTER), 14: ("podReplacementPolicy", "string", POINTER),
            15: ("managedBy", "string", POINTER), 16: ("successPolicy", SUCCESS_POLICY, POINTER)}
JOB_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False), 3: ("lastProbeTime", TIME, True),
                 4: ("lastTransitionTime", TIME, True), 5: ("reason", "string", True), 6: ("message", "string", True)}
UNCOUNTED_TERMINATED_PODS = {1: ("succeeded", ("repeated", "string"), True),
                             2: ("failed", ("repeated", "string"), True)}
JOB_STATUS = {1: ("conditions", ("repeated", JOB_CONDITION), True), 2: ("startTime", TIME, POINTER),
              3: ("completionTime", TIME, POINTER), 4: ("active", "int32", True), 5: ("succeeded", "int32", True),
              6: ("failed", "int32", True), 7: ("completedIndexes", "string", True),
              8: ("uncountedTerminatedPods", UNCOUNTED_TERMINATED_PODS, POINTER), 9: ("ready", "int32", POINTER),
              10: ("failedIndexes", "string", POINTER), 11: ("terminating", "int32", POINTER)}
JOB = {1: ("metadata", OBJECT_META, False), 2: ("spec", JOB_SPEC, False), 3: ("status", JOB_STATUS, False)}
JOB_TEMPLATE_SPEC = {1: ("metadata", OBJECT_META, False), 2: ("spec", JOB_SPEC, False)}
CRON_JOB_SPEC = {1: ("schedule", "string", False), 2: ("startingDeadlineSeconds", "int64", POINTER),
                 3: ("concurrencyPolicy", "string", True), 4: ("suspend", "bool", POINTER),
                 5: ("jobTemplate", JOB_TEMPLATE_SPEC, False), 6: ("successfulJobsHistoryLimit", "int32", POINTER),
                 7: ("failedJobsHistoryLimit", "int32", POINTER), 8: ("timeZone", "string", POINTER)}
CRON_JOB_STATUS = {1: ("active", ("repeated", OBJECT_REFERENCE), True), 4: ("lastScheduleTime", TIME, POINTER),
                   5: ("lastSuccessfulTime", TIME, POINTER)}
CRON_JOB = {1: ("metadata", OBJECT_META, False), 2: ("spec", CRON_JOB_SPEC, False),
            3: ("status", CRON_JOB_STATUS, False)}

# -- autoscaling/v1: HorizontalPodAutoscaler, Scale (the scale subresource) --------------------------
CROSS_VERSION_OBJECT_REFERENCE = {1: ("kind", "string", False), 2: ("name", "string", False),
                                  3: ("apiVersion", "string", True)}
HPA_V1_SPEC = {1: ("scaleTargetRef", CROSS_VERSION_OBJECT_REFERENCE, False), 2: ("minReplicas", "int32", POINTER),
               3: ("maxReplicas", "int32", False), 4: ("targetCPUUtilizationPercentage", "int32", POINTER)}
HPA_V1_STATUS = {1: ("observedGeneration", "int64", POINTER), 2: ("lastScaleTime", TIME, POINTER),
                 3: ("currentReplicas", "int32", False), 4: ("desiredReplicas", "int32", False),
                 5: ("currentCPUUtilizationPercentage", "int32", POINTER)}
HPA_V1 = {1: ("metadata", OBJECT_META, False), 2: ("spec", HPA_V1_SPEC, False), 3: ("status", HPA_V1_STATUS, False)}
SCALE_SPEC = {1: ("replicas", "int32", True)}
SCALE_STATUS = {1: ("replicas", "int32", False), 2: ("selector", "string", True)}
SCALE = {1: ("metadata", OBJECT_META, False), 2: ("spec", SCALE_SPEC, False), 3: ("status", SCALE_STATUS, False)}

# -- autoscaling/v2: HorizontalPodAutoscaler ---------------------------------------------------------
METRIC_TARGET = {1: ("type", "string", False), 2: ("value", QUANTITY, POINTER),
                 3: ("averageValue", QUANTITY, POINTER), 4: ("averageUtilization", "int32", POINTER)}
METRIC_IDENTIFIER = {1: ("name", "string", False), 2: ("selector", LABEL_SELECTOR, POINTER)}
OBJECT_METRIC_SOURCE = {1: ("describedObject", CROSS_VERSION_OBJECT_REFERENCE, False),
                        2: ("target", METRIC_TARGET, False), 3: ("metric", METRIC_IDENTIFIER, False)}
PODS_METRIC_SOURCE = {1: ("metric", METRIC_IDENTIFIER, False), 2: ("target", METRIC_TARGET, False)}
RESOURCE_METRIC_SOURCE = {1: ("name", "string", False), 2: ("target", METRIC_TARGET, False)}
EXTERNAL_METRIC_SOURCE = {1: ("metric", METRIC_IDENTIFIER, False), 2: ("target", METRIC_TARGET, False)}
CONTAINER_RESOURCE_METRIC_SOURCE = {1: ("name", "string", False), 2: ("target", METRIC_TARGET, False),
                                    3: ("container", "string", False)}
METRIC_SPEC = {1: ("type", "string", False), 2: ("object", OBJECT_METRIC_SOURCE, POINTER),
               3: ("pods", PODS_METRIC_SOURCE, POINTER), 4: ("resource", RESOURCE_METRIC_SOURCE, POINTER),
               5: ("external", EXTERNAL_METRIC_SOURCE, POINTER),
               7: ("containerResource", CONTAINER_RESOURCE_METRIC_SOURCE, POINTER)}
HPA_SCALING_POLICY = {1: ("type", "string", False), 2: ("value", "int32", False),
                      3: ("periodSeconds", "int32", False)}
HPA_SCALING_RULES = {1: ("selectPolicy", "string", POINTER), 2: ("policies", ("repeated", HPA_SCALING_POLICY), True),
                     3: ("stabilizationWindowSeconds", "int32", POINTER), 4: ("tolerance", QUANTITY, POINTER)}
HPA_V2_BEHAVIOR = {1: ("scaleUp", HPA_SCALING_RULES, POINTER), 2: ("scaleDown", HPA_SCALING_RULES, POINTER)}
HPA_V2_SPEC = {1: ("scaleTargetRef", CROSS_VERSION_OBJECT_REFERENCE, False), 2: ("minReplicas", "int32", POINTER),
               3: ("maxReplicas", "int32", False), 4: ("metrics", ("repeated", METRIC_SPEC), True),
               5: ("behavior", HPA_V2_BEHAVIOR, POINTER)}
METRIC_VALUE_STATUS = {1: ("value", QUANTITY, POINTER), 2: ("averageValue", QUANTITY, POINTER),
                       3: ("averageUtilization", "int32", POINTER)}
OBJECT_METRIC_STATUS = {1: ("metric", METRIC_IDENTIFIER, False), 2: ("current", METRIC_VALUE_STATUS, False),
                        3: ("describedObject", CROSS_VERSION_OBJECT_REFERENCE, False)}
PODS_METRIC_STATUS = {1: ("metric", METRIC_IDENTIFIER, False), 2: ("current", METRIC_VALUE_STATUS, False)}
RESOURCE_METRIC_STATUS = {1: ("name", "string", False), 2: ("current", METRIC_VALUE_STATUS, False)}
EXTERNAL_METRIC_STATUS = {1: ("metric", METRIC_IDENTIFIER, False), 2: ("current", METRIC_VALUE_STATUS, False)}
CONTAINER_RESOURCE_METRIC_STATUS = {1: ("name", "string", False), 2: ("current", METRIC_VALUE_STATUS, False),
                                    3: ("container", "string", False)}
METRIC_STATUS = {1: ("type", "string", False), 2: ("object", OBJECT_METRIC_STATUS, POINTER),
                 3: ("pods", PODS_METRIC_STATUS, POINTER), 4: ("resource", RESOURCE_METRIC_STATUS, POINTER),
                 5: ("external", EXTERNAL_METRIC_STATUS, POINTER),
                 7: ("containerResource", CONTAINER_RESOURCE_METRIC_STATUS, POINTER)}
HPA_V2_CONDITION = {1: ("type", "string", False), 2: ("status", "string", False),
                    3: ("lastTransitionTime", TIME, True), 4: ("reason", "string", True),
                    5: ("message", "string", True)}
HPA_V2_STATUS = {1: ("observedGeneration", "int64", POINTER), 2: ("lastScaleTime", TIME, POINTER),
                 3: ("currentReplicas", "int32", True), 4: ("desiredReplicas", "int32", False),
                 5: ("currentMetrics", ("repeated", METRIC_STATUS), True),
                 6: ("conditions", ("repeated", HPA_V2_CONDITION), True)}
HPA_V2 = {1: ("metadata", OBJECT_META, False), 2: ("spec", HPA_V2_SPEC, False), 3: ("status", HPA_V2_STATUS, False)}


KINDS.update({
    ("apps/v1", "Deployment"): DEPLOYMENT,
    ("apps/v1", "ReplicaSet"): REPLICA_SET,
    ("apps/v1", "DaemonSet"): DAEMON_SET,
    ("apps/v1", "StatefulSet"): STATEFUL_SET,
    ("apps/v1", "ControllerRevision"): CONTROLLER_REVISION,
    ("batch/v1", "Job"): JOB,
    ("batch/v1", "CronJob"): CRON_JOB,
    ("autoscaling/v1", "HorizontalPodAutoscaler"): HPA_V1,
    ("autoscaling/v1", "Scale"): SCALE,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): HPA_V2,
})
