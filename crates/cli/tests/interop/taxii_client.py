"""Walks ctiforge's TAXII 2.1 server with taxii2-client (OASIS's Python client, from PyPI):
discovery, API root, collections, objects in pages of 1 and 2 (each object once, the same set
as one big page), the manifest, one object and its versions, adding objects and polling the
status. Exits 1 with a message on the first difference.

Usage: python taxii_client.py DISCOVERY_URL TOKEN   (a writer token)
"""
import json
import sys

from taxii2client.v21 import Server, as_pages


def fail(message):
    print(f"taxii2-client: {message}", file=sys.stderr)
    sys.exit(1)


def ids_of(pages):
    seen = []
    for envelope in pages:
        seen.extend(o["id"] for o in envelope.get("objects", []))
    return seen


def main():
    url, token = sys.argv[1], sys.argv[2]
    server = Server(url, user="analyst", password=token)
    if not server.api_roots:
        fail("no API root in discovery")
    root = server.default or server.api_roots[0]
    if "application/taxii+json;version=2.1" not in root.versions:
        fail(f"API root versions: {root.versions}")
    titles = [c.title for c in root.collections]
    if titles[:3] != ["All reports", "TLP:CLEAR reports", "TLP:GREEN reports"]:
        fail(f"collections: {titles}")
    green = next(c for c in root.collections if c.title == "TLP:GREEN reports")
    if not (green.can_read and green.can_write):
        fail("a writer cannot read and write the TLP:GREEN collection")

    everything = green.get_objects(limit=1000).get("objects", [])
    if len(everything) < 10:
        fail(f"only {len(everything)} objects")
    expected = [o["id"] for o in everything]
    for size in (1, 2):
        paged = ids_of(as_pages(green.get_objects, per_request=size))
        if paged != expected:
            fail(f"pages of {size}: {len(paged)} ids, {len(set(paged))} distinct; expected {len(expected)}")

    manifest = green.get_manifest(limit=1000).get("objects", [])
    if [m["id"] for m in manifest] != expected:
        fail("the manifest lists other objects than the collection")
    first = everything[0]
    one = green.get_object(first["id"]).get("objects", [])
    if not one or one[0]["id"] != first["id"]:
        fail(f"object {first['id']} not returned by id")
    versions = green.object_versions(first["id"]).get("versions", [])
    if not versions:
        fail(f"no versions of {first['id']}")

    indicator = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--3f0ed2de-51b8-4a4c-9ec4-6e0c9e0b7a11",
        "created": "2026-11-01T00:00:00.000Z",
        "modified": "2026-11-01T00:00:00.000Z",
        "name": "Added by taxii2-client",
        "pattern": "[ipv4-addr:value = '203.0.113.77']",
        "pattern_type": "stix",
        "valid_from": "2026-11-01T00:00:00Z",
    }
    status = green.add_objects(json.dumps({"objects": [indicator]}))
    if status.status != "complete" or status.success_count != 1:
        fail(f"add objects: {status.status}, {status.success_count} stored")
    status.refresh()
    again = root.get_status(status.id)
    if again.id != status.id:
        fail("the status resource cannot be read back")
    added = green.get_object(indicator["id"]).get("objects", [])
    if not added or added[0]["name"] != "Added by taxii2-client":
        fail("the added object is not in the collection")
    print(json.dumps({
        "collections": len(titles),
        "objects": len(expected),
        "pages_of_1": len(expected),
        "added": indicator["id"],
    }))


if __name__ == "__main__":
    main()
