"""Writes JSON schemas for kubeconform from a running API server's OpenAPI v3
documents, so manifests are checked against the cluster they go to, offline
and for exactly its version (CRDs included, once installed).

    schemas.py KUBECTL KUBECONFIG OUT_DIR MANIFESTS...

Only the kinds the manifests hold are written, as
OUT_DIR/<group or "v1">/<version>/<kind in lower case>.json — kubeconform's
`-schema-location 'OUT_DIR/{{ .Group }}/{{ .ResourceAPIVersion }}/{{ .ResourceKind }}.json'`.
Each file holds its kind's schema and every definition it reaches. Objects that
list their properties get `additionalProperties: false` (unless Kubernetes says
they keep unknown fields), so a misspelt field fails as it would with
`kubectl --validate=strict`.
"""

import json
import os
import re
import subprocess
import sys

REF = "#/components/schemas/"


def kubectl_raw(kubectl: str, kubeconfig: str, path: str) -> dict:
    out = subprocess.run(
        [kubectl, "--kubeconfig", kubeconfig, "get", "--raw", path],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out)


def kinds_in(paths: list[str]) -> set[tuple[str, str]]:
    """(apiVersion, kind) of every document in the manifests."""
    found = set()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for document in re.split(r"^---\s*$", text, flags=re.MULTILINE):
            version = re.search(r"^apiVersion:\s*(\S+)", document, re.MULTILINE)
            kind = re.search(r"^kind:\s*(\S+)", document, re.MULTILINE)
            if version and kind:
                found.add((version.group(1).strip("\"'"), kind.group(1).strip("\"'")))
    return found


def strict(schema):
    """Closes every object schema that lists its properties (`schema` is a
    schema; the maps under `properties` and `components` are maps of schemas)."""
    if isinstance(schema, list):
        for item in schema:
            strict(item)
        return schema
    if not isinstance(schema, dict):
        return schema
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    for key, value in schema.items():
        if key in ("properties", "patternProperties", "definitions", "$defs") and isinstance(value, dict):
            for field in value.values():
                strict(field)
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            strict(value)
    return schema


def reachable(schemas: dict, root: str) -> dict:
    """The definitions `root` refers to, directly or not, itself included."""
    seen, todo = {}, [root]
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen[name] = schemas[name]
        todo.extend(
            ref[len(REF):]
            for ref in re.findall(r'"\$ref":\s*"([^"]+)"', json.dumps(schemas[name]))
            if ref.startswith(REF)
        )
    return seen


def main() -> None:
    kubectl, kubeconfig, out_dir, *manifests = sys.argv[1:]
    wanted = kinds_in(manifests)
    index = kubectl_raw(kubectl, kubeconfig, "/openapi/v3")["paths"]
    written = set()
    for api_version in sorted({v for v, _ in wanted}):
        path = f"api/{api_version}" if "/" not in api_version else f"apis/{api_version}"
        if path not in index:
            continue
        schemas = kubectl_raw(kubectl, kubeconfig, index[path]["serverRelativeURL"])
        schemas = schemas.get("components", {}).get("schemas", {})
        group, _, version = api_version.rpartition("/")
        for name, schema in schemas.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", []):
                kind = gvk["kind"]
                if (gvk.get("group", ""), gvk["version"]) != (group, version):
                    continue
                if (api_version, kind) not in wanted:
                    continue
                document = {
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "$ref": REF + name,
                    "components": {
                        "schemas": {n: strict(s) for n, s in reachable(schemas, name).items()}
                    },
                }
                folder = os.path.join(out_dir, group or "v1", version)
                os.makedirs(folder, exist_ok=True)
                with open(os.path.join(folder, f"{kind.lower()}.json"), "w", encoding="utf-8") as f:
                    json.dump(document, f)
                written.add((api_version, kind))
    for api_version, kind in sorted(wanted - written):
        print(f"[chart] the cluster serves no schema for {kind} ({api_version})", file=sys.stderr)


if __name__ == "__main__":
    main()
