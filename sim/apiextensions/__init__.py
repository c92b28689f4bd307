"""CustomResourceDefinitions (apiextensions.k8s.io/v1), as k8s.io/apiextensions-apiserver has
them: plain functions over the JSON dicts the API server stores, no I/O, no clock.

The API server reaches them through the registry: sim/registry/apiextensions/
customresourcedefinitions.py (the CRD kind's strategy) and sim/registry/customresource.py (a
Resource per served CRD), with the CRD controllers in sim/apiserver/crdcontroller.py.  In
upstream's order:

  a CRD (registry/customresourcedefinition/strategy.go):
    types.CUSTOM_RESOURCE_DEFINITION      decoding (sim.api.gotypes.decode)
    defaults.set_defaults                 SetDefaults_CustomResourceDefinition
    strategy.prepare_for_create / _update / _status_update
    validation.validate_crd / validate_crd_update / validate_crd_status_update
    status.calculate_names_and_conditions, status.established_condition
  a custom object (apiserver/customresource_handler.go, registry/customresource):
    customresource.schema_for_version, prune_and_default (pruning, defaulting)
    customresource.prepare_for_create / _update / _status_update
    customresource.validate (objectvalidation, listtype, then cel), validate_scale_spec / _status
  (the scale subresource itself is the apiserver's, sim/apiserver/scale.py, for every kind)

Modules, one job each: schemautil (paths, zero values, Go renderings), goregexp (Go's regexp
through RE2), structural (the structural-schema rules; re-exports validate/prune/default),
openapischema (the CRD's schema checks), objectvalidation (kube-openapi's validate),
pruning, defaulting, listtype, cel and cellib (x-kubernetes-validations with cel-python).
"""
