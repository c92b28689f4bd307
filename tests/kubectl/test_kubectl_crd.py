"""CustomResourceDefinitions with the machine's real kubectl (the dispatcher and every kubectl
1.27-1.33, 1.36 and 1.37), using the Kubernetes documentation's own CronTab example
(https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/),
each kubectl in a group of its own: the CRD is established, its objects are created, listed with
their printer columns and short name, scaled, refused when invalid, explained, and gone with it."""
from __future__ import annotations

from tests.conftest import wait_until
from tests.kubectl.conftest import rows

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.{group}
spec:
  group: {group}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                cronSpec:
                  type: string
                  pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){{4}}$'
                image:
                  type: string
                replicas:
                  type: integer
                  minimum: 1
                  maximum: 10
            status:
              type: object
              properties:
                replicas:
                  type: integer
                labelSelector:
                  type: string
      subresources:
        status: {{}}
        scale:
          specReplicasPath: .spec.replicas
          statusReplicasPath: .status.replicas
          labelSelectorPath: .status.labelSelector
      additionalPrinterColumns:
      - name: Spec
        type: string
        description: The cron spec defining the interval a CronJob is run
        jsonPath: .spec.cronSpec
      - name: Replicas
        type: integer
        description: The number of jobs launched by the CronJob
        jsonPath: .spec.replicas
      - name: Age
        type: date
        jsonPath: .metadata.creationTimestamp
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames:
    - ct
"""

CRONTAB = """apiVersion: "{group}/v1"
kind: CronTab
metadata:
  name: my-new-cron-object
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
  replicas: {replicas}
"""


def _crd(kubectl, tmp_path) -> str:
    group = f"stable{kubectl.suffix}.example.com"
    (tmp_path / "crd.yaml").write_text(CRD.format(group=group))
    out = kubectl("apply", "-f", str(tmp_path / "crd.yaml")).stdout.strip()
    assert out == f"customresourcedefinition.apiextensions.k8s.io/crontabs.{group} created"
    kubectl("wait", "--for", "condition=established", f"crd/crontabs.{group}", "--timeout=30s")
    return group


def test_a_crd_from_the_documentation_serves_its_kind(kubectl_some, tmp_path):
    # Not version-dependent: the oldest, a middle and the newest kubectl (the suite's time).
    kubectl = kubectl_some
    group = _crd(kubectl, tmp_path)
    (tmp_path / "ct.yaml").write_text(CRONTAB.format(group=group, replicas=3))
    out = kubectl("apply", "-f", str(tmp_path / "ct.yaml")).stdout.strip()
    assert out == f"crontab.{group}/my-new-cron-object created"

    # Its printer columns, by plural, singular, short name and the fully qualified name.
    for name in ("crontabs", "crontab", f"crontabs.{group}"):
        table = rows(kubectl("get", name).stdout)
        assert table[0] == ["NAME", "SPEC", "REPLICAS", "AGE"]
        assert table[1][:3] == ["my-new-cron-object", "* * * * */5", "3"]
    got = kubectl("get", f"ct.{group}", "my-new-cron-object", "-o", "jsonpath={.spec.image}").stdout
    assert got == "my-awesome-cron-image"

    # The scale subresource: `kubectl scale` works on a custom kind.
    out = kubectl("scale", f"crontabs.{group}", "my-new-cron-object", "--replicas=5").stdout.strip()
    assert out == f"crontab.{group}/my-new-cron-object scaled"
    assert kubectl("get", f"crontabs.{group}", "my-new-cron-object", "-o",
                   "jsonpath={.spec.replicas}").stdout == "5"

    # The schema refuses what it must, with upstream's field paths and messages.
    (tmp_path / "bad.yaml").write_text(CRONTAB.format(group=group, replicas=20).replace("my-new", "bad"))
    bad = kubectl("apply", "-f", str(tmp_path / "bad.yaml"), check=False)
    assert bad.returncode != 0
    assert 'The CronTab "bad-cron-object" is invalid: spec.replicas: Invalid value: 20: ' \
           'spec.replicas in body should be less than or equal to 10' in bad.stderr

    # kubectl explain reads the CRD's schema from the OpenAPI documents.
    explained = kubectl("explain", f"crontabs.{group}.spec").stdout
    assert "replicas\t<integer>" in explained or "replicas  <integer>" in explained.replace("\t", "  ")

    # Deleting the CRD deletes its objects, then the kind is no longer served.
    out = kubectl("delete", "crd", f"crontabs.{group}", timeout=90).stdout.strip()
    assert out == f'customresourcedefinition.apiextensions.k8s.io "crontabs.{group}" deleted'

    def gone() -> bool:
        r = kubectl("get", f"crontabs.{group}", check=False)
        return r.returncode != 0 and "the server doesn't have a resource type" in r.stderr

    wait_until(gone, timeout=30, interval=0.5, message="the kind is no longer served")
