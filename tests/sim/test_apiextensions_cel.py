"""x-kubernetes-validations with cel-python (sim/apiextensions/cel.py), using the Kubernetes
documentation's validation-rule examples; each test names the upstream behaviour
(apiextensions-apiserver pkg/apiserver/schema/cel, apis/apiextensions/validation) it checks."""
import copy

from sim.apiextensions import cel, customresource
from sim.apiextensions.openapischema import validate_version_schema
from tests.builders import MakeObject
from tests.sim.apiextensions_fixtures import texts


REPLICAS_RULES = [
    {"rule": "self.minReplicas <= self.replicas", "message": "replicas should be greater than or equal to minReplicas."},
    {"rule": "self.replicas <= self.maxReplicas", "message": "replicas should be smaller than or equal to maxReplicas."}]


def spec_schema(spec_props, rules=None, **extra):
    spec = {"type": "object", "properties": spec_props, **extra}
    if rules is not None:
        spec["x-kubernetes-validations"] = rules
    return {"type": "object", "properties": {"spec": spec}}


REPLICAS_SCHEMA = spec_schema({"minReplicas": {"type": "integer"}, "replicas": {"type": "integer"},
                               "maxReplicas": {"type": "integer"}}, REPLICAS_RULES)


def test_docs_replicas_rules():
    """The documentation's first example: the failed rule's message at spec, valued "object"."""
    obj = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"minReplicas": 0, "replicas": 20, "maxReplicas": 10}).manifest())
    assert texts(customresource.validate(obj, REPLICAS_SCHEMA)) == [
        'spec: Invalid value: "object": replicas should be smaller than or equal to maxReplicas.']
    assert customresource.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object")
                                   .namespace("default")
                                   .set("spec", {"minReplicas": 0, "replicas": 5, "maxReplicas": 10})
                                   .manifest(), REPLICAS_SCHEMA) == []


def test_default_message_is_failed_rule():
    """ruleMessageOrDefault: "failed rule: <rule>" without a message."""
    schema = spec_schema({"x": {"type": "integer"}}, [{"rule": "self.x > 0"}])
    assert texts(cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default").set("spec", {"x": 0}).manifest(), schema)) == ['spec: Invalid value: "object": failed rule: self.x > 0']


def test_docs_message_expression():
    """messageExpression: `"x exceeded max limit of " + string(self.maxLimit)`."""
    schema = spec_schema({"x": {"type": "integer"}, "maxLimit": {"type": "integer"}},
                         [{"rule": "self.x <= self.maxLimit",
                           "messageExpression": '"x exceeded max limit of " + string(self.maxLimit)'}])
    assert texts(cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object")
                              .namespace("default").set("spec", {"x": 11, "maxLimit": 10}).manifest(), schema)) == [
        'spec: Invalid value: "object": x exceeded max limit of 10']


def test_docs_field_path_and_reason():
    """fieldPath puts the error below the rule's node; reason FieldValueForbidden makes it a
    Forbidden error (fieldErrorForReason)."""
    schema = spec_schema({"foo": {"type": "object", "properties": {"test": {"type": "object", "properties": {
        "x": {"type": "integer"}}}}}, "maxLimit": {"type": "integer"}},
        [{"rule": "self.foo.test.x <= self.maxLimit", "fieldPath": ".foo.test.x"},
         {"rule": "self.maxLimit < 100", "message": "must be below 100", "reason": "FieldValueForbidden",
          "fieldPath": ".maxLimit"}])
    assert texts(cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object")
                              .namespace("default")
                              .set("spec", {"foo": {"test": {"x": 101}}, "maxLimit": 100}).manifest(), schema)) == [
        'spec.foo.test.x: Invalid value: "object": failed rule: self.foo.test.x <= self.maxLimit',
        "spec.maxLimit: Forbidden: must be below 100"]


def test_docs_transition_rule_runs_only_on_update():
    """A rule naming oldSelf is a transition rule: skipped on create, run on update
    ("Value is immutable")."""
    schema = spec_schema({"name": {"type": "string", "x-kubernetes-validations": [
        {"rule": "self == oldSelf", "message": "Value is immutable"}]}})
    assert cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
                        .set("spec", {"name": "a"}).manifest(), schema) == []
    assert cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default").set("spec", {"name": "a"}).manifest(), schema, old=MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default").set("spec", {"name": "a"}).manifest()) == []
    assert texts(customresource.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default").set("spec", {"name": "b"}).manifest(), schema, old=MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default").set("spec", {"name": "a"}).manifest())) == [
        'spec.name: Invalid value: "string": Value is immutable']


def test_docs_rule_examples():
    """The documentation's table of rule examples, each passing and failing."""
    cases = [
        ({"health": {"type": "string"}}, "self.health.startsWith('ok')", {"health": "ok!"}, {"health": "bad"}),
        ({"widgets": {"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": "string"}, "foo": {"type": "integer"}}}}},
         "self.widgets.exists(w, w.key == 'x' && w.foo < 10)",
         {"widgets": [{"key": "x", "foo": 1}]}, {"widgets": [{"key": "x", "foo": 11}]}),
        ({"set1": {"type": "array", "items": {"type": "string"}}, "set2": {"type": "array", "items": {"type": "string"}}},
         "self.set1.all(e, !(e in self.set2))", {"set1": ["a"], "set2": ["b"]}, {"set1": ["a"], "set2": ["a"]}),
        ({"expired": {"type": "integer"}, "created": {"type": "integer"}, "ttl": {"type": "integer"}},
         "has(self.expired) && self.created + self.ttl < self.expired",
         {"expired": 10, "created": 1, "ttl": 2}, {"created": 1, "ttl": 2}),
        ({"clusters": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
          "primary": {"type": "string"}},
         "size(self.clusters.filter(c, c.name == self.primary)) == 1",
         {"clusters": [{"name": "a"}], "primary": "a"}, {"clusters": [{"name": "a"}], "primary": "b"}),
    ]
    for props, rule, good, bad in cases:
        schema = spec_schema(props, [{"rule": rule}])
        assert cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object")
                            .namespace("default").set("spec", good).manifest(), schema) == [], rule
        assert texts(cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default").set("spec", bad).manifest(), schema)) == [f'spec: Invalid value: "object": failed rule: {rule}'], rule


def test_missing_field_is_an_evaluation_error():
    """cel-go's runtime error, "no such key: x evaluating rule: <rule>"."""
    schema = spec_schema({"x": {"type": "integer"}}, [{"rule": "self.x > 0"}])
    assert texts(cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object")
                              .namespace("default").set("spec", {}).manifest(), schema)) == [
        'spec: Invalid value: "object": no such key: x evaluating rule: self.x > 0']


def test_schema_errors_block_rules():
    """hasBlockingErr: with a type / required / enum error the rules are not run."""
    schema = copy.deepcopy(REPLICAS_SCHEMA)
    obj = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"minReplicas": 0, "replicas": "20", "maxReplicas": 10}).manifest())
    assert texts(customresource.validate(obj, schema)) == [
        'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; "
        "correct the existing errors to complete validation"]


def test_runaway_rule_runs_out_of_cost_budget():
    """The runtime cost budget: a rule too expensive to finish stops with upstream's words, in
    bounded time, instead of hanging the server."""
    schema = spec_schema({"l": {"type": "array", "items": {"type": "integer"}}},
                         [{"rule": "self.l.all(x, self.l.all(y, self.l.all(z, x + y + z >= 0)))"}])
    obj = (MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
           .set("spec", {"l": list(range(60))}).manifest())
    assert texts(cel.validate(obj, schema, budget=200_000)) == [
        'spec: Invalid value: "object": validation failed due to running out of cost budget, '
        "no further validation rules will be run"]
    got = texts(cel.validate(obj, schema))
    assert got == ['spec: Invalid value: "object": \'operation cancelled: actual cost limit exceeded\': no further '
                   "validation rules will be run due to call cost exceeds limit for rule: "
                   "self.l.all(x, self.l.all(y, self.l.all(z, x + y + z >= 0)))"]


# -- CRD-time checks (apis/apiextensions/validation) -----------------------------------------
P = "spec.validation.openAPIV3Schema"


def crd_errors(schema):
    return texts(validate_version_schema(schema, False, "spec.validation"))


def test_docs_rules_compile():
    assert crd_errors(REPLICAS_SCHEMA) == []


def test_compile_error_is_refused_at_crd_validation():
    """A rule that does not compile: "compilation failed: ERROR: <input>:..." on the rule."""
    schema = spec_schema({"x": {"type": "integer"}}, [{"rule": "self.x >"}])
    got = crd_errors(schema)
    assert len(got) == 1
    assert got[0].startswith(
        f'{P}.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{{Rule:"self.x >", '
        'Message:"", MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", '
        "OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:")


def test_undeclared_reference_is_refused():
    """cel-go's checker: "undeclared reference to 'foo' (in container '')"."""
    got = crd_errors(spec_schema({"x": {"type": "integer"}}, [{"rule": "foo.x > 1"}]))
    assert "undeclared reference to 'foo' (in container '')" in got[0]


def test_rule_and_message_shape():
    """x-kubernetes-validations checks: empty rule, a rule with line breaks needs a message,
    unsupported reason, a fieldPath that names no field."""
    schema = spec_schema({"x": {"type": "integer"}}, [
        {"rule": " "}, {"rule": "self.x > 0 &&\nself.x < 5"}, {"rule": "self.x > 0", "reason": "Bad"},
        {"rule": "self.x > 0", "fieldPath": ".y"}])
    assert crd_errors(schema) == [
        f"{P}.properties[spec].x-kubernetes-validations[0].rule: Required value: rule is not specified",
        f"{P}.properties[spec].x-kubernetes-validations[1].message: Required value: message must be specified if rule contains line breaks",
        f'{P}.properties[spec].x-kubernetes-validations[2].reason: Unsupported value: "Bad": supported values: '
        '"FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"',
        f'{P}.properties[spec].x-kubernetes-validations[3].fieldPath: Invalid value: ".y": fieldPath must be a valid path']


def test_old_self_is_refused_below_an_atomic_list():
    """oldSelf cannot be used on the uncorrelatable portion of the schema (items of a list that
    is not a map list)."""
    schema = spec_schema({"l": {"type": "array", "items": {"type": "string", "x-kubernetes-validations": [
        {"rule": "self == oldSelf"}]}}})
    assert crd_errors(schema) == [
        f'{P}.properties[spec].properties[l].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": '
        f"oldSelf cannot be used on the uncorrelatable portion of the schema within {P}.properties[spec].properties[l]"]


def test_kubernetes_cel_libraries():
    """Functions of cel-go's strings extension and Kubernetes' list and regex libraries, as the
    documentation's rules use them (lowerAscii, isSorted, sum, find, split)."""
    schema = spec_schema({"s": {"type": "string"}, "l": {"type": "array", "items": {"type": "integer"}}}, [
        {"rule": "self.s.lowerAscii() == 'abc'"}, {"rule": "self.l.isSorted()"}, {"rule": "self.l.sum() == 6"},
        {"rule": "self.s.find('[A-Z]+') == 'ABC'"}, {"rule": "self.s.split('B').size() == 2"}])
    assert cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object").namespace("default")
                        .set("spec", {"s": "ABC", "l": [1, 2, 3]}).manifest(), schema) == []
    assert texts(cel.validate(MakeObject("stable.example.com/v1", "CronTab").name("my-new-cron-object")
                              .namespace("default").set("spec", {"s": "ABC", "l": [3, 2, 1]}).manifest(), schema)) == [
        'spec: Invalid value: "object": failed rule: self.l.isSorted()']


def test_int_or_string_rule_from_the_docs():
    """`type(self) == string ? self == '100%' : self == 1000` on an x-kubernetes-int-or-string
    field (its schema type is empty, so the error's value is "")."""
    schema = {"type": "object", "properties": {"v": {"x-kubernetes-int-or-string": True, "x-kubernetes-validations": [
        {"rule": "type(self) == string ? self == '100%' : self == 1000"}]}}}
    assert cel.validate({"v": "100%"}, schema) == [] and cel.validate({"v": 1000}, schema) == []
    assert texts(cel.validate({"v": "5%"}, schema)) == [
        "v: Invalid value: \"\": failed rule: type(self) == string ? self == '100%' : self == 1000"]


def test_undefined_field_is_refused():
    """cel-go type-checks a rule against the schema: "undefined field 'replica'"; at the root
    metadata offers only name and generateName."""
    got = crd_errors(spec_schema({"replicas": {"type": "integer"}}, [{"rule": "self.replica > 1"}]))
    assert len(got) == 1 and "compilation failed: ERROR: <input>:1:5: undefined field 'replica'" in got[0]
    root = {"type": "object", "x-kubernetes-validations": [{"rule": "self.metadata.labels.size() > 0"}],
            "properties": {"spec": {"type": "object"}}}
    got = crd_errors(root)
    assert len(got) == 1 and "undefined field 'labels'" in got[0]
    ok = {"type": "object", "x-kubernetes-validations": [{"rule": "self.metadata.name.startsWith('a')"}],
          "properties": {"spec": {"type": "object", "additionalProperties": {"type": "string"}}}}
    assert crd_errors(ok) == []
