"""Structural schemas, custom-object validation, pruning and defaulting (sim/apiextensions),
each test naming the upstream behaviour (apiextensions-apiserver, kube-openapi) it checks;
the schemas and objects are the Kubernetes documentation's CronTab examples."""
import copy

from sim.apiextensions import customresource, structural
from sim.apiextensions.openapischema import validate_version_schema
from tests.builders import MakeObject
from tests.sim.apiextensions_fixtures import (CRON_SPEC_PATTERN, CRONTAB_DEFAULTED_SCHEMA, CRONTAB_SCHEMA,
                                              texts)


P = "spec.versions[0].schema.openAPIV3Schema"


def schema_errors(schema, status=False):
    return texts(validate_version_schema(schema, status, "spec.versions[0].schema"))


# -- structural schema rules (schema/validation.go ValidateStructural) ---------------------
def test_docs_crontab_schema_is_structural():
    assert schema_errors(CRONTAB_SCHEMA) == []


def test_every_node_needs_a_type():
    """"must not be empty at the root" / "for specified object fields" / "for specified array items"."""
    schema = {"properties": {"spec": {"properties": {"list": {"type": "array", "items": {}}}}}}
    assert schema_errors(schema) == [
        f"{P}.properties[spec].properties[list].items.type: Required value: must not be empty for specified array items",
        f"{P}.properties[spec].type: Required value: must not be empty for specified object fields",
        f"{P}.type: Required value: must not be empty at the root"]


def test_int_or_string_and_preserve_unknown_fields_need_no_type():
    """x-kubernetes-int-or-string and x-kubernetes-preserve-unknown-fields nodes are typeless."""
    schema = {"type": "object", "properties": {
        "port": {"x-kubernetes-int-or-string": True},
        "anything": {"x-kubernetes-preserve-unknown-fields": True}}}
    assert schema_errors(schema) == []


def test_array_needs_items_and_root_must_be_object():
    """"items: Required value: must be specified" and "must be object at the root"."""
    assert schema_errors({"type": "array"}) == [
        f"{P}.items: Required value: must be specified",
        f'{P}.type: Invalid value: "array": must be object at the root']


def test_additional_properties_and_properties_are_mutually_exclusive():
    """ValidateCustomResourceDefinitionOpenAPISchema: "additionalProperties and properties are
    mutual exclusive"; ValidateStructural: not at the root."""
    schema = {"type": "object", "additionalProperties": {"type": "string"},
              "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}},
                                      "additionalProperties": {"type": "string"}}}}
    assert schema_errors(schema) == [
        f"{P}.additionalProperties: Forbidden: must not be used at the root",
        f"{P}.additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive",
        f"{P}.properties[spec].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"]


def test_junctors_may_not_carry_shape():
    """validateNestedValueValidation: type, default, description inside anyOf are "must be
    empty / undefined to be structural"; completeness: a field named only there is required."""
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {"a": {"type": "string"}}}},
              "anyOf": [{"properties": {"spec": {"type": "object", "description": "d"}}},
                        {"properties": {"status": {"required": ["x"]}}}]}
    assert schema_errors(schema) == [
        f"{P}.anyOf[0].properties[spec].description: Forbidden: must be empty to be structural",
        f"{P}.anyOf[0].properties[spec].type: Forbidden: must be empty to be structural",
        f"{P}.properties[status]: Required value: because it is defined in {P}.anyOf[1].properties[status]"]


def test_int_or_string_any_of_pattern_is_allowed():
    """The IntOrString exception: anyOf [{type: integer}, {type: string}]."""
    schema = {"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": True,
                                                         "anyOf": [{"type": "integer"}, {"type": "string"}]}}}
    assert schema_errors(schema) == []


def test_metadata_may_only_restrict_name_and_generate_name():
    """validateStructuralMetadataInvariants."""
    ok = {"type": "object", "properties": {"metadata": {"type": "object", "properties": {
        "name": {"type": "string", "maxLength": 10}}}}}
    assert schema_errors(ok) == []
    bad = {"type": "object", "properties": {"metadata": {"type": "object", "properties": {
        "labels": {"type": "object"}}}}}
    assert schema_errors(bad) == [
        f"{P}.properties[metadata]: Forbidden: must not specify anything other than name and generateName, "
        "but metadata is implicitly specified"]


def test_openapi_features_crds_leave_out():
    """specStandardValidatorV3: $ref, uniqueItems, type null, an unknown type."""
    schema = {"type": "object", "properties": {"a": {"type": "null"}, "b": {"type": "array", "uniqueItems": True,
                                                                        "items": {"type": "string"}},
                                               "c": {"type": "strin"}}}
    assert schema_errors(schema) == [
        f'{P}.properties[a].type: Unsupported value: "null": supported values: "array", "boolean", "integer", "number", "object", "string"',
        f"{P}.properties[a].type: Forbidden: type cannot be set to null, use nullable as an alternative",
        f"{P}.properties[b].uniqueItems: Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic",
        f'{P}.properties[c].type: Unsupported value: "strin": supported values: "array", "boolean", "integer", "number", "object", "string"']


def test_defaults_must_validate_and_not_sit_in_metadata():
    """ValidateDefaults: a default must validate against its schema; specStandardValidatorV3:
    "must not be set in top-level metadata"."""
    schema = copy.deepcopy(CRONTAB_DEFAULTED_SCHEMA)
    schema["properties"]["spec"]["properties"]["replicas"]["default"] = 20
    assert schema_errors(schema) == [
        f"{P}.properties[spec].properties[replicas].default: Invalid value: 20: "
        " in body should be less than or equal to 10"]
    meta = {"type": "object", "properties": {"metadata": {"type": "object", "default": {"name": "x"}}}}
    assert f"{P}.properties[metadata].default: Forbidden: must not be set in top-level metadata" in schema_errors(meta)


def test_list_map_keys_must_be_required_or_defaulted():
    """validateMapListKeysMapSet."""
    schema = {"type": "object", "properties": {"ports": {
        "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
        "items": {"type": "object", "properties": {"name": {"type": "string"}}}}}}
    assert schema_errors(schema) == [
        f"{P}.properties[ports].items.properties[name].default: Required value: this property is in "
        "x-kubernetes-list-map-keys, so it must have a default or be a required property"]


# -- custom objects (kube-openapi validate, apiserver/validation kubeOpenAPIResultToFieldErrors) --
def test_docs_invalid_crontab():
    """The documentation's invalid CronTab: a cronSpec that misses the pattern and replicas 15."""
    obj = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"cronSpec": "* * * *", "image": "my-awesome-cron-image", "replicas": 15}).manifest())
    assert texts(customresource.validate(obj, CRONTAB_SCHEMA)) == [
        f'spec.cronSpec: Invalid value: "* * * *": spec.cronSpec in body should match \'{CRON_SPEC_PATTERN}\'',
        "spec.replicas: Invalid value: 15: spec.replicas in body should be less than or equal to 10"]
    good = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
            .set("spec", {"cronSpec": "* * * * */5", "image": "my-awesome-cron-image", "replicas": 1}).manifest())
    assert customresource.validate(good, CRONTAB_SCHEMA) == []


def test_minimum_and_exclusive_bounds():
    """numberValidator: "should be greater than or equal to", exclusiveMaximum "should be less than"."""
    schema = {"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "replicas": {"type": "integer", "minimum": 1}, "ratio": {"type": "number", "maximum": 1.5, "exclusiveMaximum": True}}}}}
    assert texts(structural.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object")
                                     .namespace("default")
                                     .set("spec", {"replicas": 0, "ratio": 1.5}).manifest(), schema)) == [
        "spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1",
        "spec.ratio: Invalid value: 1.5: spec.ratio in body should be less than 1.5"]


def test_wrong_type_and_null():
    """typeValidator: `must be of type integer: "string"` (a TypeInvalid error), null without nullable."""
    obj = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"replicas": "five", "image": None}).manifest())
    errs = structural.validate(obj, CRONTAB_SCHEMA)
    assert sorted(texts(errs)) == [
        'spec.image: Invalid value: "null": spec.image in body must be of type string: "null"',
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"']
    assert {e.cause_reason for e in errs} == {"FieldValueTypeInvalid"}
    nullable = {"type": "object", "properties": {"x": {"type": "string", "nullable": True}}}
    assert structural.validate({"x": None}, nullable) == []


def test_required_enum_and_lengths():
    """Required → "spec.image: Required value"; enum → NotSupported; maxLength → TooLong;
    minLength; maxItems → TooMany; minItems."""
    schema = {"type": "object", "properties": {"spec": {"type": "object", "required": ["image"], "properties": {
        "image": {"type": "string"}, "x": {"type": "string", "enum": ["a", "b"]},
        "name": {"type": "string", "maxLength": 3}, "tag": {"type": "string", "minLength": 2},
        "args": {"type": "array", "maxItems": 1, "items": {"type": "string"}},
        "envs": {"type": "array", "minItems": 2, "items": {"type": "string"}}}}}}
    obj = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"x": "c", "name": "toolong", "tag": "a", "args": ["a", "b"], "envs": ["e"]}).manifest())
    assert texts(structural.validate(obj, schema)) == [
        'spec.x: Unsupported value: "c": supported values: "a", "b"',
        "spec.name: Too long: may not be more than 3 bytes",
        'spec.tag: Invalid value: "a": spec.tag in body should be at least 2 chars long',
        "spec.args: Too many: 2: must have at most 1 items",
        "spec.envs: Invalid value: 1: spec.envs in body should have at least 2 items",
        "spec.image: Required value"]


def test_formats():
    """formatValidator: `must be of type date-time: "yesterday"`; int32/int64 formats accept any
    integer, as upstream's type validator does."""
    schema = {"type": "object", "properties": {"when": {"type": "string", "format": "date-time"},
                                               "n": {"type": "integer", "format": "int32"}}}
    assert texts(structural.validate({"when": "yesterday", "n": 5}, schema)) == [
        'when: Invalid value: "yesterday": when in body must be of type date-time: "yesterday"']
    assert structural.validate({"when": "2026-01-02T03:04:05Z", "n": 5}, schema) == []


def test_int_or_string():
    """x-kubernetes-int-or-string accepts both and names both types when refusing."""
    schema = {"type": "object", "properties": {"port": {"x-kubernetes-int-or-string": True}}}
    assert structural.validate({"port": 80}, schema) == []
    assert structural.validate({"port": "http"}, schema) == []
    assert texts(structural.validate({"port": True}, schema)) == [
        'port: Invalid value: "boolean": port in body must be of type integer,string: "boolean"']


# -- pruning and defaulting -----------------------------------------------------------------
def test_prune_reports_unknown_fields_and_keeps_type_and_object_meta():
    """pruning.Prune: apiVersion, kind, metadata stay at the root; unknown fields are dropped
    and reported (the server warns `unknown field "spec.foo"`)."""
    obj = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"cronSpec": "* * * * */5", "foo": 1, "nested": {"a": 1}}).manifest())
    obj["bar"] = True
    pruned, unknown = structural.prune(obj, CRONTAB_SCHEMA)
    assert unknown == ["bar", "spec.foo", "spec.nested"]
    assert pruned == (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
                      .set("spec", {"cronSpec": "* * * * */5"}).manifest())
    assert customresource.unknown_field_warnings(unknown)[1] == 'unknown field "spec.foo"'


def test_preserve_unknown_fields_keeps_everything_below():
    """x-kubernetes-preserve-unknown-fields: nothing pruned below but what a nested schema says."""
    schema = {"type": "object", "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                                                        "properties": {"known": {"type": "object", "properties": {}}}}}}
    pruned, unknown = structural.prune({"spec": {"free": {"x": 1}, "known": {"drop": 1}}}, schema)
    assert pruned == {"spec": {"free": {"x": 1}, "known": {}}}
    assert unknown == ["spec.known.drop"]


def test_docs_defaulting_example():
    """The documentation's defaulting example: a CronTab without cronSpec and replicas gets
    "5 0 * * *" and 1; a null for a non-nullable field is defaulted too."""
    obj = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"image": "my-awesome-cron-image"}).manifest())
    obj, unknown = customresource.prune_and_default(obj, CRONTAB_DEFAULTED_SCHEMA)
    assert unknown == []
    assert obj["spec"] == {"cronSpec": "5 0 * * *", "image": "my-awesome-cron-image", "replicas": 1}
    assert structural.default({"spec": {"replicas": None}}, CRONTAB_DEFAULTED_SCHEMA)["spec"]["replicas"] == 1


def test_update_ratchets_unchanged_invalid_values():
    """CRDValidationRatcheting (on by default since 1.30): an update may keep a value the
    schema no longer allows, as long as it does not change it; a changed value is validated."""
    old = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"cronSpec": "* * * *", "replicas": 15}).manifest())
    assert customresource.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object")
                                   .namespace("default")
                                   .set("spec", {"cronSpec": "* * * *", "replicas": 15, "image": "new"}).manifest(),
                                   CRONTAB_SCHEMA, old=old) == []
    assert texts(customresource.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default").set("spec", {"cronSpec": "* * * *", "replicas": 16}).manifest(), CRONTAB_SCHEMA, old=old)) == [
        "spec.replicas: Invalid value: 16: spec.replicas in body should be less than or equal to 10"]


def test_status_subresource_strategy_and_scale():
    """registry/customresource strategy: with /status, an update keeps the old status and a
    status update keeps the old spec; a change outside metadata bumps generation.  The scale
    subresource reads and writes through the CRD's replicas paths."""
    scale = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
             "labelSelectorPath": ".status.labelSelector"}
    created = customresource.prepare_for_create(dict(MakeObject("stable.example.com/v1", "CronTab")
                                                     .name("my-new-cron-object").namespace("default")
                                                     .set("spec", {"replicas": 1})
                                                     .manifest(), status={"replicas": 9}), True)
    assert "status" not in created and created["metadata"]["generation"] == 1
    stored = dict(created, status={"replicas": 1, "labelSelector": "app=cron"})
    updated = customresource.prepare_for_update(dict(MakeObject("stable.example.com/v1", "CronTab")
                                                     .name("my-new-cron-object").namespace("default")
                                                     .set("spec", {"replicas": 3})
                                                     .manifest(), status={"replicas": 7}), stored, True)
    assert updated["status"] == {"replicas": 1, "labelSelector": "app=cron"} and updated["metadata"]["generation"] == 2
    status_only = customresource.prepare_for_status_update(dict(MakeObject("stable.example.com/v1", "CronTab")
                                                                .name("my-new-cron-object").namespace("default")
                                                                .set("spec", {"replicas": 5})
                                                                .manifest(), status={"replicas": 3}), updated)
    assert status_only["spec"] == {"replicas": 3} and status_only["status"] == {"replicas": 3}


def test_scale_paths_hold_non_negative_integers():
    """customResourceValidator.ValidateScaleSpec / ValidateScaleStatus: the field path is the
    JSON path itself."""
    scale = {"specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
             "labelSelectorPath": ".status.labelSelector"}
    assert texts(customresource.validate_scale_spec(MakeObject("stable.example.com/v1", "CronTab")
                                                    .name("my-new-cron-object").namespace("default")
                                                    .set("spec", {"replicas": -1}).manifest(), scale)) == [
        ".spec.replicas: Invalid value: -1: should be a non-negative integer"]
    assert texts(customresource.validate_scale_status(dict(MakeObject("stable.example.com/v1", "CronTab")
                                                           .name("my-new-cron-object").namespace("default")
                                                           .set("spec", {})
                                                           .manifest(), status={"replicas": "x"}), scale)) == [
        ".status.replicas: Invalid value: 0: .status.replicas accessor error: x is of the type string, expected int64"]
