"""Extract the parts of Walmart Marketplace's published OpenAPI specs that the contract tests use.

Run with a Python that has PyYAML (it is deliberately not a project dependency), from the
repository root:

    python tests/contract/extract_walmart_spec.py ../shared/walmart-openapi/api-evangelist-2024-12

e.g. ``pip install --target /tmp/yamllib pyyaml`` and prefix the command with
``PYTHONPATH=/tmp/yamllib``. Add ``--check`` to also validate every extracted example against its
extracted schema (needs the ``jsonschema`` package as well); it prints one line per example that
does not validate and always exits 0 for those, because Walmart's own examples sometimes
contradict Walmart's own schema.

It writes, deterministically (sorted keys, indent=1, UTF-8):

* ``tests/contract/walmart_spec.json``:
  ``{"source": ..., "operations": {operationId: {"method", "path", "headers", "query",
  "request_body", "request_content_type", "response_200"}}}``
* ``tests/contract/examples/<operationId>-<request|response>-<exampleName>.json``: Walmart's
  example payloads (a media type's single ``example`` is named ``example``; each
  ``examples.<name>.value`` is named ``<name>``). Examples that are not JSON objects are skipped.

Only ``application/json`` media types are used (the token request is
``application/x-www-form-urlencoded``, the only body it has). Every ``$ref`` is resolved inline and
OpenAPI 3.0 schema keywords are turned into plain JSON Schema (draft 2020-12): ``nullable: true``
adds ``"null"`` to ``type`` (and ``None`` to ``enum``); ``example``, ``examples``, ``xml``,
``deprecated``, ``readOnly``, ``writeOnly`` and ``externalDocs`` are dropped; descriptions are cut
to at most 200 characters. ``default`` (a JSON Schema annotation; the query parameters' defaults)
is kept. Any other keyword stops the script, so that a newer spec cannot lose a constraint silently.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import hashlib
import json
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SPEC_OUT = HERE / "walmart_spec.json"
EXAMPLES_OUT = HERE / "examples"

SOURCE = (
    "Walmart Marketplace (US) OpenAPI 3.0.1 specs as mirrored in GitHub repository "
    "api-evangelist/walmart at commit 8b35f5a1eac339540f4a9c98f1fdf112bb15076b "
    '("automated update", 2024-12-25), files openapi/walmart-marketplace-'
    "{orders,returns,inventory,authentication}-openapi-original.yml "
    "(see shared/walmart-openapi/SOURCES.md); extracted by "
    "tests/contract/extract_walmart_spec.py (application/json only, $refs inlined, "
    "OpenAPI schema keywords converted to JSON Schema draft 2020-12)"
)

# file name -> sha256 of its (decompressed) bytes, from SOURCES.md
FILES = {
    "orders": (
        "walmart-marketplace-orders-openapi-original.yml.gz",
        "be771972b2adc21b2e49510922c6354c343c0ae1c61af5e78ac61b2208b53f53",
    ),
    "returns": (
        "walmart-marketplace-returns-openapi-original.yml",
        "931b2e4475adc648799e71c2d83a7d425ae9f36af3366ee2a0ffbe83a8a3202c",
    ),
    "inventory": (
        "walmart-marketplace-inventory-openapi-original.yml",
        "9444adf97392cc52e320301496577998ced8b7734779a0ebd9ec00c86bf65e42",
    ),
    "authentication": (
        "walmart-marketplace-authentication-openapi-original.yml",
        "5f2b5d6d199570cdbd9d8ffebc1ce2724630cf6c6c69d6d8b2df5a316fe49659",
    ),
}

# (spec file, operationId, method, path)
OPERATIONS = [
    ("orders", "shippingUpdates", "POST", "/v3/orders/{purchaseOrderId}/shipping"),
    ("orders", "refundOrderLines", "POST", "/v3/orders/{purchaseOrderId}/refund"),
    ("orders", "cancelOrderLines", "POST", "/v3/orders/{purchaseOrderId}/cancel"),
    ("orders", "acknowledgeOrders", "POST", "/v3/orders/{purchaseOrderId}/acknowledge"),
    ("orders", "getAllOrders", "GET", "/v3/orders"),
    ("orders", "getAnOrder", "GET", "/v3/orders/{purchaseOrderId}"),
    ("orders", "getAllReleasedOrders", "GET", "/v3/orders/released"),
    ("returns", "getReturns", "GET", "/v3/returns"),
    ("returns", "issueRefund", "POST", "/v3/returns/{returnOrderId}/refund"),
    ("inventory", "updateInventoryForAnItem", "PUT", "/v3/inventory"),
    ("inventory", "getInventory", "GET", "/v3/inventory"),
    ("authentication", "tokenAPI", "POST", "/v3/token"),
]
# operations whose application/json request-body examples are extracted
REQUEST_EXAMPLES = {
    "shippingUpdates", "cancelOrderLines", "refundOrderLines", "issueRefund",
    "updateInventoryForAnItem",
}  # fmt: skip
# operations whose 200 application/json response examples are extracted
RESPONSE_EXAMPLES = {
    "getAnOrder", "getAllOrders", "getAllReleasedOrders", "acknowledgeOrders", "shippingUpdates",
    "cancelOrderLines", "refundOrderLines", "getReturns", "issueRefund",
    "updateInventoryForAnItem", "getInventory",
}  # fmt: skip

BODY_TYPES = ("application/json", "application/x-www-form-urlencoded")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

DESCRIPTION_MAX = 200
DROP = {"example", "examples", "xml", "deprecated", "readOnly", "writeOnly", "externalDocs"}
KEEP_SCALAR = {
    "type", "required", "enum", "format", "minimum", "maximum", "minLength", "maxLength",
    "pattern", "default",
}  # fmt: skip
SUBSCHEMA = {"items", "additionalProperties"}
SUBSCHEMA_LISTS = {"oneOf", "anyOf", "allOf"}


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loader (libyaml's if present) that keeps timestamps as strings: JSON has no dates."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_spec(directory: Path, key: str) -> dict:
    name, sha256 = FILES[key]
    raw = (directory / name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != sha256:
        print(f"warning: {name}: sha256 {digest} differs from SOURCES.md", file=sys.stderr)
    spec = yaml.load(raw.decode("utf-8"), Loader=_Loader)
    _check_json_native(spec, name)
    return spec


def _check_json_native(value, where: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str | int):
                raise SystemExit(f"{where}: non-string key {k!r}")
            _check_json_native(v, f"{where}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_json_native(v, f"{where}/{i}")
    elif not (value is None or isinstance(value, str | int | float | bool)):
        raise SystemExit(f"{where}: {type(value).__name__} is not JSON")


def resolve_refs(node, spec: dict, stack: tuple[str, ...] = ()):
    """Return a deep copy of node with every local $ref replaced by its (resolved) target."""
    if isinstance(node, list):
        return [resolve_refs(v, spec, stack) for v in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        if not ref.startswith("#/"):
            raise SystemExit(f"external $ref not supported: {ref}")
        if ref in stack:
            raise SystemExit(f"recursive $ref cannot be inlined: {' -> '.join(stack + (ref,))}")
        target = spec
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        resolved = resolve_refs(target, spec, stack + (ref,))
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        if siblings and isinstance(resolved, dict):
            resolved = {**resolved, **resolve_refs(siblings, spec, stack)}
        return resolved
    return {k: resolve_refs(v, spec, stack) for k, v in node.items()}


def shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= DESCRIPTION_MAX else text[: DESCRIPTION_MAX - 3].rstrip() + "..."


def to_json_schema(schema, where: str):
    """Convert an (already $ref-free) OpenAPI 3.0 schema object into JSON Schema 2020-12."""
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, dict):
        raise SystemExit(f"{where}: schema is a {type(schema).__name__}")
    out: dict = {}
    for key, value in schema.items():
        if key in DROP or key == "nullable":
            continue
        if key == "description":
            out[key] = shorten(str(value))
        elif key == "properties":
            out[key] = {
                name: to_json_schema(sub, f"{where}/properties/{name}")
                for name, sub in (value or {}).items()
            }
        elif key in SUBSCHEMA:
            out[key] = to_json_schema(value, f"{where}/{key}")
        elif key in SUBSCHEMA_LISTS:
            out[key] = [to_json_schema(sub, f"{where}/{key}/{i}") for i, sub in enumerate(value)]
        elif key in KEEP_SCALAR:
            out[key] = copy.deepcopy(value)
        else:
            raise SystemExit(f"{where}: unhandled schema keyword {key!r}")
    if schema.get("nullable") is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            if "null" not in types:
                out["type"] = [*types, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def operation_parameters(path_item: dict, op: dict) -> list[dict]:
    merged: dict[tuple[str, str], dict] = {}
    for param in [*path_item.get("parameters", []), *op.get("parameters", [])]:
        merged[(param["in"], param["name"])] = param  # the operation's own wins
    return list(merged.values())


def media_examples(media: dict) -> list[tuple[str, object]]:
    found = []
    if "example" in media:
        found.append(("example", media["example"]))
    for name, ex in (media.get("examples") or {}).items():
        if "value" in ex:
            found.append((name, ex["value"]))
    return found


def extract(directory: Path) -> tuple[dict, dict[str, object]]:
    specs = {key: load_spec(directory, key) for key in FILES}
    operations: dict[str, dict] = {}
    examples: dict[str, object] = {}
    for file_key, op_id, method, path in OPERATIONS:
        spec = specs[file_key]
        path_item = spec["paths"][path]
        raw_op = path_item.get(method.lower())
        if not raw_op or raw_op.get("operationId") != op_id:
            raise SystemExit(f"{file_key}: {method} {path} is not operationId {op_id}")
        op = resolve_refs(raw_op, spec)
        where = f"{file_key}:{op_id}"
        params = resolve_refs(operation_parameters(path_item, raw_op), spec)

        headers = []
        query = []
        for p in params:
            schema = to_json_schema(p.get("schema", {}), f"{where}/param/{p['name']}")
            if p["in"] == "header":
                enum = schema.get("enum")
                headers.append(
                    {"name": p["name"], "required": bool(p.get("required")), "enum": enum}
                )
            elif p["in"] == "query":
                query.append(
                    {"name": p["name"], "required": bool(p.get("required")), "schema": schema}
                )

        body_schema = None
        body_type = None
        body = op.get("requestBody")
        if body:
            content = body.get("content", {})
            for ctype in BODY_TYPES:
                if ctype in content:
                    body_type = ctype
                    body_schema = to_json_schema(content[ctype]["schema"], f"{where}/request")
                    if op_id in REQUEST_EXAMPLES and ctype == "application/json":
                        for name, value in media_examples(content[ctype]):
                            examples[f"{op_id}-request-{name}"] = value
                    break

        response_schema = None
        responses = op.get("responses", {})
        ok = responses.get("200", responses.get(200))
        ok_json = ((ok or {}).get("content") or {}).get("application/json")
        if ok_json is not None:
            response_schema = to_json_schema(ok_json.get("schema", {}), f"{where}/response_200")
            if op_id in RESPONSE_EXAMPLES:
                for name, value in media_examples(ok_json):
                    examples[f"{op_id}-response-{name}"] = value

        operations[op_id] = {
            "method": method,
            "path": path,
            "headers": headers,
            "query": query,
            "request_body": body_schema,
            "request_content_type": body_type,
            "response_200": response_schema,
        }
    return {"source": SOURCE, "operations": operations}, examples


def dump(value) -> str:
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def write(document: dict, examples: dict[str, object]) -> list[str]:
    SPEC_OUT.write_text(dump(document), encoding="utf-8")
    EXAMPLES_OUT.mkdir(exist_ok=True)
    for old in EXAMPLES_OUT.glob("*.json"):
        old.unlink()
    skipped = []
    for name in sorted(examples):
        value = examples[name]
        if not isinstance(value, dict):
            skipped.append(f"{name} ({type(value).__name__})")
            continue
        (EXAMPLES_OUT / f"{name}.json").write_text(dump(value), encoding="utf-8")
    return skipped


def check() -> int:
    """Validate every example file against the schema it belongs to; print the failures."""
    from jsonschema import Draft202012Validator

    operations = json.loads(SPEC_OUT.read_text(encoding="utf-8"))["operations"]
    failures = 0
    for path in sorted(EXAMPLES_OUT.glob("*.json")):
        op_id, kind, _name = path.stem.split("-", 2)
        schema = operations[op_id]["request_body" if kind == "request" else "response_200"]
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(schema)
        instance = json.loads(path.read_text(encoding="utf-8"))
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if not errors:
            print(f"ok    {path.name}")
            continue
        failures += 1
        for err in errors:
            where = "/".join(str(p) for p in err.absolute_path) or "(root)"
            print(f"FAIL  {path.name}: {where}: {err.message[:300]}")
    print(f"{failures} example file(s) do not validate against their schema")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spec_dir", type=Path, help="directory holding the four YAML specs")
    parser.add_argument("--check", action="store_true", help="validate examples (jsonschema)")
    args = parser.parse_args()
    document, examples = extract(args.spec_dir)
    skipped = write(document, examples)
    for name in skipped:
        print(f"skipped non-object example {name}", file=sys.stderr)
    print(f"wrote {SPEC_OUT} ({len(document['operations'])} operations) and "
          f"{len(examples) - len(skipped)} example(s) in {EXAMPLES_OUT}")  # fmt: skip
    if args.check:
        check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
