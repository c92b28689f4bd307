"""The Go types of apiextensions.k8s.io/v1 (k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/
v1/types.go, types_jsonschema.go) for sim.api.gotypes.decode: a CRD field of the wrong JSON
type is a 400 as kube-apiserver's decoder makes it, an unknown one is dropped (and reported for
fieldValidation), before anything in this package sees the object.

JSONSchemaProps is recursive; the union types with their own UnmarshalJSON
(JSONSchemaPropsOrArray for items, JSONSchemaPropsOrBool for additionalProperties and
additionalItems, JSONSchemaPropsOrStringArray for dependencies, JSON for default, enum and
example) are taken as free-form JSON here, and their shape is left to validation."""
from __future__ import annotations

from sim.api.gotypes import ANY, BOOL, FLOAT64, INT32, INT64, STRING, TIME, Map, Slice, enum, fields, struct
from sim.api.schema import OBJECT_META, STRINGS, TYPE_META

JSON_SCHEMA_PROPS = struct("v1.JSONSchemaProps")
JSON_SCHEMA_PROPS.fields.update({
    **fields("id", "$schema", "$ref", "description", "type", "format", "title", "pattern"),
    "default": ANY, "maximum": FLOAT64, "exclusiveMaximum": BOOL, "minimum": FLOAT64, "exclusiveMinimum": BOOL,
    "maxLength": INT64, "minLength": INT64, "maxItems": INT64, "minItems": INT64, "uniqueItems": BOOL,
    "multipleOf": FLOAT64, "enum": Slice(ANY), "maxProperties": INT64, "minProperties": INT64, "required": STRINGS,
    "items": ANY, "allOf": Slice(JSON_SCHEMA_PROPS), "oneOf": Slice(JSON_SCHEMA_PROPS),
    "anyOf": Slice(JSON_SCHEMA_PROPS), "not": JSON_SCHEMA_PROPS, "properties": Map(JSON_SCHEMA_PROPS),
    "additionalProperties": ANY, "patternProperties": Map(JSON_SCHEMA_PROPS), "dependencies": Map(ANY),
    "additionalItems": ANY, "definitions": Map(JSON_SCHEMA_PROPS),
    "externalDocs": struct("v1.ExternalDocumentation", **fields("description", "url")),
    "example": ANY, "nullable": BOOL,
    "x-kubernetes-preserve-unknown-fields": BOOL, "x-kubernetes-embedded-resource": BOOL,
    "x-kubernetes-int-or-string": BOOL, "x-kubernetes-list-map-keys": STRINGS,
    "x-kubernetes-list-type": STRING, "x-kubernetes-map-type": STRING,
    "x-kubernetes-validations": Slice(struct("v1.ValidationRule", **fields("rule", "message", "messageExpression",
                                                                            "fieldPath"),
                                             reason=enum("v1.FieldValueErrorReason"), optionalOldSelf=BOOL)),
})

NAMES = struct("v1.CustomResourceDefinitionNames", **fields("plural", "singular", "kind", "listKind"),
               shortNames=STRINGS, categories=STRINGS)
SUBRESOURCES = struct("v1.CustomResourceSubresources",
                      status=struct("v1.CustomResourceSubresourceStatus"),
                      scale=struct("v1.CustomResourceSubresourceScale",
                                   **fields("specReplicasPath", "statusReplicasPath", "labelSelectorPath")))
COLUMN = struct("v1.CustomResourceColumnDefinition", **fields("name", "type", "format", "description", "jsonPath"),
                priority=INT32)
VERSION = struct("v1.CustomResourceDefinitionVersion", name=STRING, served=BOOL, storage=BOOL, deprecated=BOOL,
                 deprecationWarning=STRING,
                 schema=struct("v1.CustomResourceValidation", openAPIV3Schema=JSON_SCHEMA_PROPS),
                 subresources=SUBRESOURCES, additionalPrinterColumns=Slice(COLUMN),
                 selectableFields=Slice(struct("v1.SelectableField", jsonPath=STRING)))
WEBHOOK_CLIENT_CONFIG = struct("v1.WebhookClientConfig", url=STRING, caBundle=STRING,
                               service=struct("v1.ServiceReference", **fields("namespace", "name", "path"),
                                              port=INT32))
CONVERSION = struct("v1.CustomResourceConversion", strategy=enum("v1.ConversionStrategyType"),
                    webhook=struct("v1.WebhookConversion", clientConfig=WEBHOOK_CLIENT_CONFIG,
                                   conversionReviewVersions=STRINGS))
SPEC = struct("v1.CustomResourceDefinitionSpec", group=STRING, names=NAMES, scope=enum("v1.ResourceScope"),
              versions=Slice(VERSION), conversion=CONVERSION, preserveUnknownFields=BOOL)
CONDITION = struct("v1.CustomResourceDefinitionCondition", type=enum("v1.CustomResourceDefinitionConditionType"),
                   status=enum("v1.ConditionStatus"), lastTransitionTime=TIME, reason=STRING, message=STRING)
STATUS = struct("v1.CustomResourceDefinitionStatus", conditions=Slice(CONDITION), acceptedNames=NAMES,
                storedVersions=STRINGS)
CUSTOM_RESOURCE_DEFINITION = struct("v1.CustomResourceDefinition", **TYPE_META, metadata=OBJECT_META,
                                    spec=SPEC, status=STATUS)
