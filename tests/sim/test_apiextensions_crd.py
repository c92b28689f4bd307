"""CustomResourceDefinition defaulting, validation and status (sim/apiextensions), each test
naming the upstream behaviour (k8s.io/apiextensions-apiserver) it checks."""
import copy

from sim.apiextensions import defaults, status, strategy
from sim.apiextensions.validation import (to_internal, validate_crd, validate_crd_status_update,
                                          validate_crd_update)
from tests.sim.apiextensions_fixtures import CRONTAB_CRD, crontab_crd, texts, with_schema


def prepared(crd):
    return strategy.prepare_for_create(defaults.set_defaults(crd))


def test_docs_crontab_crd_is_valid_and_defaulted():
    """v1 SetDefaults_CustomResourceDefinitionSpec: listKind = kind+"List", conversion None;
    strategy.PrepareForCreate: storedVersions holds the storage version, generation 1."""
    crd = prepared(CRONTAB_CRD)
    assert crd["spec"]["names"]["listKind"] == "CronTabList"
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert crd["status"] == {"acceptedNames": {"plural": "", "kind": ""}, "storedVersions": ["v1"]}
    assert crd["metadata"]["generation"] == 1
    assert validate_crd(crd) == []


def test_singular_defaults_to_lower_case_kind():
    """SetDefaults_CustomResourceDefinitionSpec: names.singular = strings.ToLower(kind)."""
    crd = crontab_crd(names={"plural": "crontabs", "kind": "CronTab"})
    assert defaults.set_defaults(crd)["spec"]["names"]["singular"] == "crontab"


def test_name_must_be_plural_dot_group():
    """ValidateCustomResourceDefinition's nameValidationFn."""
    crd = prepared(CRONTAB_CRD)
    crd["metadata"]["name"] = "crontab.stable.example.com"
    assert texts(validate_crd(crd)) == [
        'metadata.name: Invalid value: "crontab.stable.example.com": must be spec.names.plural+"."+spec.group']


def test_group_needs_a_dot_and_scope_is_an_enum():
    """validateCustomResourceDefinitionSpec: "should be a domain with at least one dot" and
    validateEnumStrings(scope, Cluster|Namespaced)."""
    crd = prepared(crontab_crd(group="example", scope="Global"))
    crd["metadata"]["name"] = "crontabs.example"
    assert texts(validate_crd(crd)) == [
        'spec.group: Invalid value: "example": should be a domain with at least one dot',
        'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"']


def test_names_are_dns1035_labels_and_kind_may_have_mixed_case():
    """ValidateCustomResourceDefinitionNames."""
    crd = prepared(crontab_crd(names={"plural": "Crontabs", "singular": "crontab", "kind": "Cron_Tab",
                                      "listKind": "Cron_Tab", "shortNames": ["c t"], "categories": ["All"]}))
    crd["metadata"]["name"] = "Crontabs.stable.example.com"
    got = [e for e in texts(validate_crd(crd)) if e.startswith("spec.names")]
    label = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic "
             "character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for "
             "validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
    assert got == [
        f'spec.names.plural: Invalid value: "Crontabs": {label}',
        f'spec.names.kind: Invalid value: "Cron_Tab": may have mixed case, but should otherwise match: {label}',
        f'spec.names.listKind: Invalid value: "Cron_Tab": may have mixed case, but should otherwise match: {label}',
        f'spec.names.shortNames[0]: Invalid value: "c t": {label}',
        'spec.names.listKind: Invalid value: "Cron_Tab": kind and listKind may not be the same',
        f'spec.names.categories[0]: Invalid value: "All": {label}']


def test_exactly_one_storage_version_and_unique_names():
    """validateCustomResourceDefinitionSpec: "must have exactly one version marked as storage
    version", "must contain unique version names"."""
    crd = copy.deepcopy(CRONTAB_CRD)
    v = crd["spec"]["versions"][0]
    crd["spec"]["versions"] = [v, dict(v, storage=True)]
    got = texts(validate_crd(prepared(crd)))
    assert got == [
        "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must contain unique version names",
        "spec.versions: Invalid value: []apiextensions.CustomResourceDefinitionVersion{...}: must have exactly one version marked as storage version",
        # the second "v1" is a storage version that storedVersions, already matched, lacks
        'status.storedVersions: Invalid value: []string{"v1"}: must have the storage version v1']


def test_v1_requires_a_schema_per_version():
    """requireOpenAPISchema: "schemas are required"."""
    crd = copy.deepcopy(CRONTAB_CRD)
    del crd["spec"]["versions"][0]["schema"]
    assert texts(validate_crd(prepared(crd))) == [
        "spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required"]


def test_single_version_schema_errors_are_reported_under_spec_validation():
    """Convert_v1_CustomResourceDefinitionSpec_To_apiextensions lifts a schema every version
    shares to spec.validation, so kube-apiserver reports a one-version CRD's schema there."""
    schema = copy.deepcopy(CRONTAB_CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
    del schema["properties"]["spec"]["type"]
    assert texts(validate_crd(prepared(with_schema(schema)))) == [
        "spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"]


def test_differing_version_schemas_are_reported_per_version():
    """Versions whose schemas differ keep them: spec.versions[i].schema.openAPIV3Schema."""
    crd = copy.deepcopy(CRONTAB_CRD)
    v1 = crd["spec"]["versions"][0]
    v2 = copy.deepcopy(v1)
    v2.update(name="v2", storage=False)
    del v2["schema"]["openAPIV3Schema"]["properties"]["spec"]["type"]
    crd["spec"]["versions"] = [v1, v2]
    assert texts(validate_crd(prepared(crd))) == [
        "spec.versions[1].schema.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields"]
    assert to_internal(crd["spec"]).get("validation") is None


def test_scale_subresource_paths():
    """ValidateCustomResourceDefinitionSubresources: specReplicasPath under .spec,
    statusReplicasPath under .status."""
    crd = copy.deepcopy(CRONTAB_CRD)
    crd["spec"]["versions"][0]["subresources"] = {
        "status": {}, "scale": {"specReplicasPath": ".status.replicas", "statusReplicasPath": "status.replicas",
                                "labelSelectorPath": ".metadata.labels"}}
    assert texts(validate_crd(prepared(crd))) == [
        'spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
        'spec.subresources.scale.statusReplicasPath: Invalid value: "status.replicas": must be a simple json path starting with .',
        'spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.labels": should be a json path under either .spec or .status']


def test_docs_scale_subresource_is_valid():
    """The documentation's subresources example (status + scale with labelSelectorPath)."""
    crd = copy.deepcopy(CRONTAB_CRD)
    crd["spec"]["versions"][0]["subresources"] = {
        "status": {}, "scale": {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                                "labelSelectorPath": ".status.labelSelector"}}
    assert validate_crd(prepared(crd)) == []


def test_status_subresource_root_must_be_object():
    """With the status subresource only "object" may be the root type."""
    crd = copy.deepcopy(CRONTAB_CRD)
    crd["spec"]["versions"][0]["subresources"] = {"status": {}}
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["type"] = "array"
    got = texts(validate_crd(prepared(crd)))
    assert got[0] == ('spec.validation.openAPIV3Schema.type: Invalid value: "array": only "object" is allowed as the '
                      'type at the root of the schema if the status subresource is enabled')


def test_additional_printer_columns():
    """ValidateCustomResourceColumnDefinition: type one of boolean,date,integer,number,string;
    format from the list; JSONPath required (upstream's path spells it JSONPath)."""
    crd = copy.deepcopy(CRONTAB_CRD)
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
        {"name": "Replicas", "type": "int", "format": "int8", "jsonPath": ".spec.replicas"},
        {"type": "date"}]
    assert texts(validate_crd(prepared(crd))) == [
        'spec.additionalPrinterColumns[1].type: Invalid value: "int": must be one of boolean,date,integer,number,string',
        'spec.additionalPrinterColumns[1].format: Invalid value: "int8": must be one of byte,date,date-time,double,float,int32,int64,password',
        "spec.additionalPrinterColumns[2].name: Required value",
        "spec.additionalPrinterColumns[2].JSONPath: Required value"]


def test_webhook_conversion_is_refused_with_a_reason():
    """The simulator cannot call a conversion webhook: Webhook is refused, clearly."""
    crd = prepared(crontab_crd(conversion={"strategy": "Webhook", "webhook": {
        "conversionReviewVersions": ["v1"], "clientConfig": {"url": "https://example.com/convert"}}}))
    assert texts(validate_crd(crd)) == [
        "spec.conversion.strategy: Forbidden: Webhook conversion is not supported by this simulated cluster "
        "(it cannot reach a webhook); use None"]


def test_none_conversion_forbids_webhook_settings():
    """validateCustomResourceConversion: "should not be set when strategy is not set to Webhook"."""
    crd = prepared(crontab_crd(conversion={"strategy": "None", "webhook": {"conversionReviewVersions": ["v1"]}}))
    assert texts(validate_crd(crd)) == [
        "spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook"]


def test_protected_group_needs_api_approval():
    """validateAPIApproval: *.k8s.io groups carry api-approved.kubernetes.io."""
    crd = crontab_crd(group="stable.k8s.io")
    crd["metadata"]["name"] = "crontabs.stable.k8s.io"
    assert texts(validate_crd(prepared(crd))) == [
        'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval '
        'annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111']
    crd["metadata"]["annotations"] = {"api-approved.kubernetes.io": "unapproved, experimental"}
    assert validate_crd(prepared(crd)) == []


def test_update_keeps_group_and_plural_and_once_established_kind_and_scope():
    """ValidateCustomResourceDefinitionSpecUpdate: group and names.plural are immutable; scope
    and names.kind too once Established."""
    old = status.apply_naming(prepared(CRONTAB_CRD), [], "t0")
    new = strategy.prepare_for_update(crontab_crd(scope="Cluster", names={
        "plural": "crontabs", "singular": "crontab", "kind": "Crontab", "listKind": "CronTabList"}), old)
    new["metadata"]["name"] = "crontabs.stable.example.com"
    assert texts(validate_crd_update(new, old)) == [
        'spec.scope: Invalid value: "Cluster": field is immutable',
        'spec.names.kind: Invalid value: "Crontab": field is immutable']
    assert new["metadata"]["generation"] == 2


def test_stored_versions_keep_a_removed_storage_version():
    """ValidateCustomResourceDefinitionStoredVersions: a version once stored stays in
    spec.versions until a storage migration removes it from status.storedVersions."""
    old = prepared(CRONTAB_CRD)
    crd = copy.deepcopy(CRONTAB_CRD)
    crd["spec"]["versions"][0]["name"] = "v2"
    new = strategy.prepare_for_update(defaults.set_defaults(crd), old)
    assert new["status"]["storedVersions"] == ["v1", "v2"]
    assert texts(validate_crd_update(new, old)) == [
        'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage '
        'version, and must remain in spec.versions until a storage migration ensures no data remains persisted in '
        'v1 and removes v1 from status.storedVersions']


def test_naming_controller_accepts_names_then_established():
    """naming_controller calculateNamesAndConditions (NamesAccepted NoConflicts, "no conflicts
    found"; Established Installing) and establishing_controller (InitialNamesAccepted)."""
    crd = prepared(CRONTAB_CRD)
    names, accepted, established = status.calculate_names_and_conditions(crd, [crd])
    assert names == {"plural": "crontabs", "singular": "crontab", "shortNames": ["ct"], "kind": "CronTab",
                     "listKind": "CronTabList"}
    assert accepted == {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found"}
    assert established == {"type": "Established", "status": "False", "reason": "Installing",
                           "message": "the initial names have been accepted"}
    done = status.apply_naming(crd, [crd], "2026-01-01T00:00:00Z")
    assert status.is_condition_true(done, "Established")
    assert status.find_condition(done, "Established")["reason"] == "InitialNamesAccepted"
    assert validate_crd_status_update(done, crd) == []


def test_naming_controller_reports_a_plural_conflict():
    """equalToAcceptedOrFresh: `"crontabs" is already in use`, reason PluralConflict, and
    Established stays False NotAccepted."""
    first = status.apply_naming(prepared(CRONTAB_CRD), [], "t0")
    other = prepared(crontab_crd(names={"plural": "crontabs", "singular": "other", "kind": "Other"}))
    other["metadata"]["name"] = "crontabs.stable.example.com"
    names, accepted, established = status.calculate_names_and_conditions(other, [first])
    assert accepted == {"type": "NamesAccepted", "status": "False", "reason": "PluralConflict",
                        "message": '"crontabs" is already in use'}
    assert "plural" in names and names["plural"] == ""
    assert established == {"type": "Established", "status": "False", "reason": "NotAccepted",
                           "message": "not all names are accepted"}


def test_crd_decodes_against_its_go_types():
    """kube-apiserver decodes a CRD into apiextensions/v1's structs first: a wrong JSON type is
    a decoding error, an unknown field is dropped and reported (sim/apiextensions/types.py)."""
    from sim.api.gotypes import decode
    from sim.apiextensions.types import CUSTOM_RESOURCE_DEFINITION
    assert decode(CRONTAB_CRD, CUSTOM_RESOURCE_DEFINITION).error is None
    bad = copy.deepcopy(CRONTAB_CRD)
    bad["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["image"]["maxLength"] = "x"
    bad["spec"]["colour"] = "red"
    d = decode(bad, CUSTOM_RESOURCE_DEFINITION)
    assert d.error.startswith("json: cannot unmarshal string into Go struct field JSONSchemaProps.")
    assert d.unknown == ["spec.colour"]
