"""CustomResourceDefinitions (apiextensions.k8s.io/v1), as k8s.io/apiextensions-apiserver has
them: plain functions over the JSON dicts the API server stores, no I/O, no clock.

On a CRD's create / update (registry/customresourcedefinition/strategy.go):
    defaults.set_defaults(crd)                       # SetDefaults_CustomResourceDefinition
    strategy.prepare_for_create(crd) / prepare_for_update(new, old)
    validation.validate_crd(crd) / validate_crd_update(new, old)   -> [FieldError]
  and its status, as the naming and establishing controllers write it:
    status.calculate_names_and_conditions(crd, other_crds_of_the_group)
    status.established_condition()

On a custom object's create / update (apiserver/customresource_handler.go, registry/customresource):
    customresource.schema_for_version(crd, version)
    obj, unknown = customresource.prune_and_default(obj, schema)   # unknown -> fieldValidation Strict/Warn
    errs = customresource.validate(obj, schema, old=None | old_obj)

Modules, one job each: schemautil (paths, zero values, Go renderings), structural (the
structural-schema rules), openapischema (the CRD's schema checks), objectvalidation
(kube-openapi's validate of a custom object), pruning, defaulting, cel (x-kubernetes-validations).
"""
