#!/usr/bin/env python3
"""Validate manifest files against schema/tansiq-v1.schema.json, one verdict per file.

Usage: check_schema.py SCHEMA FILE...
Prints one JSON object: {"FILE": {"valid": bool, "errors": ["doc N: path: message", ...]}, ...}.
A file is valid when every document in it is. Exit 0 when it could check every file, 2 otherwise.
"""
import datetime
import json
import sys

try:
    import jsonschema
    import yaml
except ImportError as error:  # the CI script installs both
    print(f"check_schema.py needs jsonschema and PyYAML: {error}", file=sys.stderr)
    sys.exit(2)


def as_json(value):
    """What the document would be on the wire: YAML timestamps become RFC 3339 strings."""
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        schema = json.load(handle)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    verdicts = {}
    for path in argv[2:]:
        errors = []
        try:
            with open(path, encoding="utf-8") as handle:
                documents = [d for d in yaml.safe_load_all(handle) if d is not None]
        except yaml.YAMLError as error:
            errors.append(f"YAML: {error}")
            documents = []
        for index, document in enumerate(documents):
            for error in validator.iter_errors(as_json(document)):
                where = "/".join(str(p) for p in error.absolute_path) or "(document)"
                errors.append(f"doc {index}: {where}: {error.message}")
        verdicts[path] = {"valid": not errors, "errors": errors}
    print(json.dumps(verdicts, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
