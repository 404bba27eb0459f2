"""Loads ctiforge's Navigator layers and MISP events with the official Python clients, and
checks analysis.json files against the committed JSON Schema (with the jsonschema package).

Usage: python load_outputs.py FILE...  (navigator-*.json, misp-event.json, analysis.json)
Prints one line per file; exits non-zero on the first file a client rejects.
"""
import json
import os
import sys

import jsonschema
from mitreattack.navlayers import Layer
from pymisp import MISPEvent


def main():
    for path in sys.argv[1:]:
        if "navigator-" in path:
            layer = Layer()
            layer.from_file(path)
            data = layer.to_dict()
            if not data or not data.get("techniques"):
                sys.exit(f"{path}: mitreattack-python loaded no techniques")
            print(f"{path}: layer {data['domain']} with {len(data['techniques'])} techniques")
        elif path.endswith("misp-event.json"):
            event = MISPEvent()
            event.load_file(path)
            if not event.info or not event.tags:
                sys.exit(f"{path}: PyMISP loaded an event without info or tags")
            print(f"{path}: MISP event with {len(event.attributes)} attributes, {len(event.tags)} tags")
        elif path.endswith("analysis.json"):
            here = os.path.dirname(os.path.abspath(__file__))
            with open(os.path.join(here, "../../../../docs/schema/analysis.schema.json")) as f:
                schema = json.load(f)
            with open(path) as f:
                analysis = json.load(f)
            jsonschema.Draft202012Validator(schema).validate(analysis)
            print(f"{path}: valid against docs/schema/analysis.schema.json")
        else:
            sys.exit(f"{path}: not a Navigator layer, MISP event or Analysis")


if __name__ == "__main__":
    main()
