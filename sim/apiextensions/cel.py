"""x-kubernetes-validations: CEL rules on a custom object, with cel-python (the `celpy`
package) standing in for cel-go (k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/
compilation.go and validation.go).

A rule sees its node as `self` and, on an update, the node's previous value as `oldSelf`; a
rule that names oldSelf (a transition rule) is skipped on create and wherever the old value
cannot be correlated.  A failed rule is an error at its node (or at its fieldPath below it)
worded by `messageExpression`, else `message`, else "failed rule: <rule>", of the field error
type its `reason` names; its value is the node's schema type, as upstream words it:
`spec: Invalid value: "object": replicas should be smaller than or equal to maxReplicas`.

Cost.  cel-go meters every evaluation against a per-call limit and a per-request budget and
stops with "validation failed due to running out of cost budget, ...".  cel-python has no
meter, so this one counts the interpreter's Python function calls while a rule runs (a
deterministic count for a given object: no wall clock, in keeping with the simulator) and
stops the rule the same way when it passes PER_CALL_STEP_LIMIT, or the object's rules
together pass RUNTIME_STEP_BUDGET.  The numbers are steps of this interpreter, not cel-go's
cost units: a simple comparison takes about 1,500, `all()` over 100 items about 66,000, and
the whole budget about half a second of CPU.  Upstream's static cost estimate at CRD creation
(maxLength / maxItems bounds) is not reproduced."""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import celpy
import celpy.celparser
import celpy.evaluation

from sim.api.validation import FieldError, GoSyntax, duplicate, forbidden, invalid, required
from sim.apiextensions.cellib import FUNCTIONS
from sim.apiextensions.schemautil import (additional_properties, child, go_validation_rule, index,
                                          items_schema, key, props)

RUNTIME_STEP_BUDGET = 1_000_000   # upstream: celconfig.RuntimeCELCostBudget (10,000,000 cost units)
PER_CALL_STEP_LIMIT = 500_000     # upstream: celconfig.PerCallLimit (1,000,000 cost units)
MAX_MESSAGE_EXPRESSION_BYTES = 5 * 1024   # celconfig.MaxEvaluatedMessageExpressionSizeBytes
OUT_OF_BUDGET = "validation failed due to running out of cost budget, no further validation rules will be run"
SUPPORTED_REASONS = ("FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired")
_MACROS = ("all", "exists", "exists_one", "map", "filter")
# Names cel-go declares besides self and oldSelf: the type denotations.
_DECLARED = ("self", "oldSelf", "int", "uint", "double", "bool", "string", "bytes", "list", "map",
             "null_type", "type")

_env = celpy.Environment()
_programs: dict[str, tuple] = {}   # source -> (program, error detail, uses oldSelf); rules repeat


class _OutOfSteps(BaseException):
    """Raised from the profiler; a BaseException so the interpreter's `except Exception` does
    not swallow it."""


def _syntax_error(src: str, e: Exception) -> str:
    """cel-go's syntax error shape: "ERROR: <input>:L:C: Syntax error: ..." then the line and
    a caret.  The wording after "Syntax error:" is lark's finding, in cel-go's terms."""
    cause = e.__cause__ or e.__context__
    line = getattr(e, "line", None) or 1
    col = getattr(e, "column", None) or 1
    lines = src.splitlines() or [src]
    text = lines[min(line, len(lines)) - 1]
    token = getattr(cause, "token", None)
    if token is not None and getattr(token, "type", "") == "$END":
        what, col = "mismatched input '<EOF>'", len(text) + 1
    elif token is not None:
        what = f"mismatched input '{token}'"
        col = getattr(token, "column", col) or col
    elif getattr(cause, "char", None) is not None:
        what = f"token recognition error at: '{src[getattr(cause, 'pos_in_stream', col - 1):]}'"
    else:
        what = "mismatched input"
    return f"ERROR: <input>:{line}:{col}: Syntax error: {what}\n | {text}\n | {'.' * (col - 1)}^"


def _undeclared(src: str, tree) -> str | None:
    """cel-go's checker refuses a name it was not given: self, oldSelf and the type names are
    declared (plus a macro's own variable).  cel-python checks nothing before it runs, so look."""
    bound = set()
    for t in tree.iter_subtrees():
        if t.data == "member_dot_arg" and len(t.children) >= 3 and str(t.children[1]) in _MACROS:
            args = t.children[2]
            if args is not None and getattr(args, "children", None):
                for sub in args.children[0].iter_subtrees():
                    if sub.data == "ident":
                        bound.add(str(sub.children[0]))
                        break
    for t in tree.iter_subtrees_topdown():
        if t.data == "ident":
            tok = t.children[0]
            name = str(tok)
            if name not in _DECLARED and name not in bound:
                col = getattr(tok, "column", 1) or 1
                line = getattr(tok, "line", 1) or 1
                text = src.splitlines()[line - 1] if src.splitlines() else src
                return (f"ERROR: <input>:{line}:{col}: undeclared reference to '{name}' (in container '')\n"
                        f" | {text}\n | {'.' * (col - 1)}^")
    return None


_ROOT_META = {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
              "metadata": {"type": "object", "properties": {"name": {"type": "string"},
                                                            "generateName": {"type": "string"}}}}


def _undefined_field(src: str, tree, schema: dict, is_root: bool) -> str | None:
    """cel-go's checker knows the schema as types: selecting a field an object's schema does
    not declare is "undefined field 'x'".  At the resource root the rule sees apiVersion, kind
    and metadata with only name and generateName (model.WithTypeAndObjectMeta)."""
    root = schema
    if is_root:
        root = {**schema, "properties": {**props(schema), **_ROOT_META}}

    def resolve(t):
        if not hasattr(t, "data"):
            return None
        if t.data in ("member", "primary") and len(t.children) == 1:
            return resolve(t.children[0])
        if t.data == "ident":
            return root if str(t.children[0]) in ("self", "oldSelf") else None
        if t.data == "member_dot":
            base = resolve(t.children[0])
            if not isinstance(base, dict) or base.get("x-kubernetes-preserve-unknown-fields"):
                return None
            name = str(t.children[1])
            has_ap, ap = additional_properties(base)
            if has_ap:
                return ap
            if base.get("type") == "object" and name not in props(base):
                raise _Undefined(t.children[1], name)
            return props(base).get(name)
        return None

    try:
        for t in tree.iter_subtrees_topdown():
            if t.data == "member_dot":
                resolve(t)
    except _Undefined as u:
        line = getattr(u.token, "line", 1) or 1
        col = max((getattr(u.token, "column", 2) or 2) - 1, 1)   # cel-go points at the "."
        text = src.splitlines()[line - 1] if src.splitlines() else src
        return f"ERROR: <input>:{line}:{col}: undefined field '{u.name}'\n | {text}\n | {'.' * (col - 1)}^"
    return None


class _Undefined(Exception):
    def __init__(self, token, name):
        super().__init__(name)
        self.token, self.name = token, name


def compile_expression(src: str):
    """(program or None, error detail or None, uses oldSelf)."""
    if src in _programs:
        return _programs[src]
    try:
        tree = _env.compile(src)
    except celpy.celparser.CELParseError as e:
        result = (None, _syntax_error(src, e), False)
    else:
        err = _undeclared(src, tree)
        uses_old = any(t.data == "ident" and str(t.children[0]) == "oldSelf" for t in tree.iter_subtrees())
        result = (None, err, uses_old) if err else (_env.program(tree, functions=FUNCTIONS), None, uses_old)
    if len(_programs) > 4096:
        _programs.clear()
    _programs[src] = result
    return result


def compile_errors(rules: list, path: str, uncorrelatable: str | None, schema: dict | None = None,
                   is_root: bool = False) -> list[FieldError]:
    """The CEL half of ValidateCustomResourceDefinitionOpenAPISchema for one schema node's
    x-kubernetes-validations: compile errors (syntax, undeclared names, fields the node's
    schema does not declare), messageExpression errors, and oldSelf where the old value cannot
    be correlated (below a list that is not a map list)."""
    errs: list[FieldError] = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not (rule.get("rule") or "").strip():
            continue
        rpath = index(child(path, "x-kubernetes-validations"), i)
        _, err, uses_old = compile_expression(rule["rule"])
        if not err and schema is not None:
            err = _undefined_field(rule["rule"], _env.compile(rule["rule"]), schema, is_root)
        if err:
            errs.append(invalid(child(rpath, "rule"), _go(rule), f"compilation failed: {err}"))
        me = (rule.get("messageExpression") or "").strip()
        if me:
            _, merr, _ = compile_expression(me)
            if merr:
                errs.append(invalid(child(rpath, "messageExpression"), _go(rule),
                                    f"messageExpression compilation failed: {merr}"))
        if uses_old and uncorrelatable is not None:
            errs.append(invalid(child(rpath, "rule"), rule["rule"],
                                f"oldSelf cannot be used on the uncorrelatable portion of the schema within {uncorrelatable}"))
        elif not uses_old and rule.get("optionalOldSelf") is not None:
            errs.append(invalid(child(rpath, "optionalOldSelf"), rule["optionalOldSelf"],
                                "may not be set if oldSelf is not used in rule"))
    return errs


def _go(rule: dict) -> GoSyntax:
    return GoSyntax(go_validation_rule(rule))


@dataclass
class _Budget:
    remaining: int
    exhausted: bool = False


def validate(obj, schema: dict, old=None, budget: int = RUNTIME_STEP_BUDGET) -> list[FieldError]:
    """Validator.Validate(ctx, nil, schema, obj, old, budget): every rule of every node."""
    errs: list[FieldError] = []
    if isinstance(schema, dict):
        _validate(None, schema, obj, old, _Budget(budget), errs)
    return errs


def _p(path: str | None) -> str:
    return "<nil>" if path is None else path


def _validate(path, s: dict, obj, old, budget: _Budget, errs: list[FieldError]) -> None:
    if obj is None or budget.exhausted:
        return
    rules = s.get("x-kubernetes-validations") or []
    if rules:
        _run_rules(path, s, obj, old, rules, budget, errs)
        if budget.exhausted:
            return
    if isinstance(obj, dict):
        old_map = old if isinstance(old, dict) else {}
        correlatable = s.get("x-kubernetes-map-type") in (None, "granular", "atomic")
        p = props(s)
        _, ap = additional_properties(s)
        for k, v in obj.items():
            sub = p.get(k) if k in p else ap
            if not isinstance(sub, dict):
                continue
            sub_path = (k if path is None else child(path, k)) if k in p else key(_p(path), k)
            _validate(sub_path, sub, v, old_map.get(k) if correlatable else None, budget, errs)
            if budget.exhausted:
                return
    elif isinstance(obj, list):
        it = items_schema(s)
        if it is None:
            return
        olds = _map_list_olds(s, obj, old)
        for i, v in enumerate(obj):
            _validate(index(_p(path), i), it, v, olds[i], budget, errs)
            if budget.exhausted:
                return


def _map_list_olds(s: dict, new: list, old) -> list:
    """makeMapList: only an x-kubernetes-list-type=map list correlates its items (by their
    keys) with the old list's; any other list's items have no old value."""
    if s.get("x-kubernetes-list-type") != "map" or not isinstance(old, list):
        return [None] * len(new)
    keys = s.get("x-kubernetes-list-map-keys") or []

    def k(item):
        return tuple(repr(item.get(x)) for x in keys) if isinstance(item, dict) else None
    by_key = {k(o): o for o in old}
    return [by_key.get(k(n)) for n in new]


def _run(program, activation, limit: int):
    """Evaluate under a step limit: (value or exception, steps used, out of steps)."""
    steps = 0

    def meter(frame, event, arg):
        nonlocal steps
        if event == "call" or event == "c_call":
            steps += 1
            if steps > limit:
                raise _OutOfSteps()
    previous = sys.getprofile()
    sys.setprofile(meter)
    try:
        return program.evaluate(activation), steps, False
    except _OutOfSteps:
        return None, steps, True
    except Exception as e:   # CELEvalError and friends: the rule's evaluation error
        return e, steps, False
    finally:
        sys.setprofile(previous)


def _eval_error_text(e) -> str:
    """cel-go's words for the common runtime errors."""
    text = str(e.args[0]) if getattr(e, "args", None) else str(e)
    if text.startswith("no such member in mapping: "):
        return "no such key: " + text.split(": ", 1)[1].strip("'")
    if "division by zero" in text or "modulus by zero" in text:
        return "division by zero" if "division" in text else "modulus by zero"
    return text


def _run_rules(path, s: dict, obj, old, rules: list, budget: _Budget, errs: list[FieldError]) -> None:
    typ = s.get("type") or ""
    where = _p(path)
    if budget.remaining <= 0:
        errs.append(invalid(where, typ, OUT_OF_BUDGET))
        budget.exhausted = True
        return
    # Ratcheting (CRDValidationRatcheting): a rule without oldSelf that fails on a value equal
    # to its old one is a warning upstream, not an error; this drops it.
    unchanged = old is not None and _same(obj, old)
    activation = {"self": celpy.json_to_cel(obj)}
    if old is not None:
        activation["oldSelf"] = celpy.json_to_cel(old)
    for rule in rules:
        if not isinstance(rule, dict):
            continue
        src = rule.get("rule") or ""
        program, err, uses_old = compile_expression(src)
        if err:
            errs.append(invalid(where, typ, f"rule compile error: compilation failed: {err}"))
            continue
        if program is None or (uses_old and old is None):
            continue   # a transition rule runs only when there is an old value to compare
        limit = min(PER_CALL_STEP_LIMIT, budget.remaining)
        result, steps, out = _run(program, activation, limit)
        budget.remaining -= steps
        if out:
            budget.exhausted = True
            if limit < PER_CALL_STEP_LIMIT:
                errs.append(invalid(where, typ, OUT_OF_BUDGET))
            else:
                errs.append(invalid(where, typ, "'operation cancelled: actual cost limit exceeded': no further "
                                                f"validation rules will be run due to call cost exceeds limit for rule: {_rule_error_string(rule)}"))
            return
        if isinstance(result, Exception):
            errs.append(invalid(where, typ, f"{_eval_error_text(result)} evaluating rule: {_rule_error_string(rule)}"))
            continue
        if isinstance(result, celpy.celtypes.BoolType) and bool(result):
            continue
        if result is True or (unchanged and not uses_old):
            continue
        fld = where
        fp = (rule.get("fieldPath") or "").strip()
        if fp:
            fld = _with_field_path(path, fp)
        detail = None
        me = (rule.get("messageExpression") or "").strip()
        if me:
            detail = _message_expression(me, activation, budget)
            if budget.exhausted:
                errs.append(invalid(fld, typ, "messageExpression evaluation failed due to running out of cost "
                                              "budget, no further validation rules will be run"))
                return
        if detail is None:
            detail = _rule_message_or_default(rule)
        errs.append(_error_for_reason(fld, typ, detail, rule.get("reason")))


def _same(a, b) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _message_expression(src: str, activation: dict, budget: _Budget) -> str | None:
    """evalMessageExpression: a non-empty single-line string, else None (the rule's message
    is used instead)."""
    program, err, _ = compile_expression(src)
    if err or program is None:
        return None
    limit = min(PER_CALL_STEP_LIMIT, budget.remaining)
    result, steps, out = _run(program, activation, limit)
    budget.remaining -= steps
    if out:
        budget.exhausted = True
        return None
    if isinstance(result, Exception) or not isinstance(result, str):
        return None
    msg = str(result).strip()
    if not msg or "\n" in msg or len(msg.encode()) > MAX_MESSAGE_EXPRESSION_BYTES:
        return None
    return msg


def _with_field_path(path, fp: str) -> str:
    """The rule's fieldPath below its node (".spec.x" or "['key']" steps), as upstream appends
    its normalized form to the node's path."""
    norm = fp.lstrip(".").replace("['", "[").replace("']", "]")
    return norm if path is None else child(path, norm)


def _rule_error_string(rule: dict) -> str:
    msg = (rule.get("message") or "").strip()
    return msg if msg else (rule.get("rule") or "").strip()


def _rule_message_or_default(rule: dict) -> str:
    msg = rule.get("message") or ""
    return msg.strip() if msg else f"failed rule: {_rule_error_string(rule)}"


def _error_for_reason(fld: str, value, detail: str, reason) -> FieldError:
    """fieldErrorForReason."""
    if reason == "FieldValueForbidden":
        return forbidden(fld, detail)
    if reason == "FieldValueRequired":
        return required(fld, detail)
    if reason == "FieldValueDuplicate":
        return duplicate(fld, value)
    return invalid(fld, value, detail)
