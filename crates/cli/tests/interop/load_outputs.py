"""Loads ctiforge's Navigator layers and MISP events with the official Python clients.

Usage: python load_outputs.py FILE...  (navigator-*.json and misp-event.json)
Prints one line per file; exits non-zero on the first file a client rejects.
"""
import sys

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
        else:
            sys.exit(f"{path}: not a Navigator layer or MISP event")


if __name__ == "__main__":
    main()
