"""Schemathesis checks of the Tansiq API beyond the OpenAPI document (loaded by scripts/fuzz-api.sh
through SCHEMATHESIS_HOOKS).

no_other_ministry: an answer a ministry role gets (TANSIQ_FUZZ_MINISTRY set) must not carry another
ministry's name or ids (TANSIQ_FUZZ_OTHER_MINISTRIES, comma-separated): not as a value, and not as
the prefix of an instance id (MINISTRY-APPLICATION-SERIAL). Errors may repeat what the request named.
"""

import json
import os

import schemathesis

OWN = os.environ.get("TANSIQ_FUZZ_MINISTRY", "")
OTHERS = [m for m in os.environ.get("TANSIQ_FUZZ_OTHER_MINISTRIES", "").split(",") if m]


def strings(value, path="$"):
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key, f"{path}.{key}<key>")
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


@schemathesis.check
def no_other_ministry(ctx, response, case):
    if not OWN or not OTHERS or not 200 <= response.status_code < 300:
        return None
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        text = response.content.decode("utf-8", "replace")
        body = [line for line in text.splitlines()]
    for path, text in strings(body):
        for other in OTHERS:
            if text == other or text.startswith(other + "-") or text.startswith(other + "/"):
                raise AssertionError(
                    f"ministry {OWN}'s role got another ministry's {other!r} at {path}: {text!r}")
    return None
