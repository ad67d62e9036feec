"""flagd's Python in-process engine (openfeature-flagd-core) over a flagd file and many
contexts, for flagctl's differential test. Usage: python run.py FLAGS.json CONTEXTS.jsonl

Prints one JSON line per context: [[variant, value, reason, errorCode], ...] for the flags
in file order. A context's `targetingKey` is the evaluation context's targeting key, the
rest its attributes, as an application builds them.
"""

import json
import logging
import sys

from openfeature.contrib.tools.flagd.core import FlagdCore
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import OpenFeatureError

logging.disable(logging.CRITICAL)


def resolver(core, definition):
    """The typed call an application makes for a flag: by the type of its variants."""
    values = list(definition["variants"].values())
    if all(isinstance(v, bool) for v in values):
        return lambda k, c: core.resolve_boolean_value(k, False, c)
    if all(isinstance(v, str) for v in values):
        return lambda k, c: core.resolve_string_value(k, "", c)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return lambda k, c: core.resolve_integer_value(k, 0, c)
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return lambda k, c: core.resolve_float_value(k, 0.0, c)
    return lambda k, c: core.resolve_object_value(k, {}, c)


def main():
    flags_path, contexts_path = sys.argv[1:3]
    with open(flags_path, encoding="utf-8") as f:
        text = f.read()
    core = FlagdCore()
    core.set_flags(text)
    flags = json.loads(text)["flags"]
    resolvers = [(key, resolver(core, definition)) for key, definition in flags.items()]
    out = sys.stdout
    with open(contexts_path, encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            attributes = json.loads(line)
            key = attributes.pop("targetingKey", None)
            context = EvaluationContext(targeting_key=key, attributes=attributes)
            row = []
            for flag, resolve in resolvers:
                try:
                    r = resolve(flag, context)
                    variant = r.variant
                    value = r.value if variant is not None else None
                    row.append([variant, value, str(r.reason.value), None])
                except OpenFeatureError as err:
                    row.append([None, None, "ERROR", str(err.error_code.value)])
                except Exception:  # noqa: BLE001 - an engine failure is a GENERAL error
                    row.append([None, None, "ERROR", "GENERAL"])
            out.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
