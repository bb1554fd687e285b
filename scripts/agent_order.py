#!/usr/bin/env python3
"""Writes the light agent's link order (a symbol ordering file for lld) from callgrind profiles.

    agent_order.py BINARY --hot DUMP... --all DUMP... > scripts/tansiq-agent.order

BINARY is the profiled agent (its file name identifies its functions in the dumps). The functions
run in the --hot dumps (the agent running its instances, left alone) come first, most run first;
then the rest of those run in any --all dump (starting the agent, starting instances). Names are
the mangled symbols callgrind saw (run it with --demangle=no --compress-strings=no).
"""
import argparse
import re
import sys


def functions(binary, paths):
    """Instructions run per function of BINARY over the callgrind dumps at PATHS."""
    costs = {}
    for path in paths:
        in_binary = False
        in_call = False
        name = None
        with open(path, errors="replace") as dump:
            for line in dump:
                if line.startswith("ob="):
                    in_binary = line[3:].strip().endswith("/" + binary)
                elif line.startswith("fn="):
                    # Callgrind marks a function's recursion levels and contexts with a quote.
                    name = re.sub(r"^\(\d+\)\s*", "", line[3:].strip()).split("'")[0]
                    if in_binary and name:
                        costs.setdefault(name, 0)
                elif line.startswith("calls="):
                    in_call = True
                elif line[:1].isdigit() or line[:1] in "+-*":
                    # A cost line: the function's own unless it follows calls= (the callee's).
                    if in_call:
                        in_call = False
                    elif in_binary and name:
                        fields = line.split()
                        if len(fields) >= 2 and fields[1].isdigit():
                            costs[name] += int(fields[1])
    return costs


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--hot", nargs="+", required=True)
    parser.add_argument("--all", nargs="+", required=True)
    options = parser.parse_args()
    try:
        hot = functions(options.binary, options.hot)
        every = functions(options.binary, options.all)
    except OSError as error:
        print(f"agent_order: cannot read the dump {error.filename}: {error.strerror}", file=sys.stderr)
        sys.exit(1)
    ordered = sorted(hot, key=lambda name: (-hot[name], name))
    ordered += sorted((name for name in every if name not in hot), key=lambda name: (-every[name], name))
    for name in ordered:
        print(name)
    print(f"{len(hot)} functions hot, {len(ordered)} in all", file=sys.stderr)


if __name__ == "__main__":
    main()
