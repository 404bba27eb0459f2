"""Per logsource and field: what a pySigma pipeline does. Output JSON:
{logsource: {rules, base: query-or-error for a probe rule, fields: {field: query-or-error}}}"""
import sys, glob, yaml, collections, json
from sigma.collection import SigmaCollection
from sigma.plugins import InstalledSigmaPlugins
target, pipeline = sys.argv[1], sys.argv[2]
dirs = sys.argv[3:]
plugins = InstalledSigmaPlugins.autodiscover()
backend_cls = plugins.backends[target]
resolver = plugins.get_pipeline_resolver()
ls = collections.Counter(); fields = collections.defaultdict(collections.Counter)
def walk(d, acc):
    if isinstance(d, dict):
        for k, v in d.items():
            if isinstance(k, str): acc.add(k.split('|')[0])
    elif isinstance(d, list):
        for x in d: walk(x, acc)
for d in dirs:
    for f in glob.glob(d + '/**/*.yml', recursive=True):
        try: docs = list(yaml.safe_load_all(open(f)))
        except Exception: continue
        for doc in docs:
            if not isinstance(doc, dict) or 'logsource' not in doc: continue
            l = doc['logsource']; key = (l.get('product'), l.get('category'), l.get('service'))
            ls[key] += 1
            acc = set()
            for k, v in (doc.get('detection') or {}).items():
                if k in ('condition', 'timeframe'): continue
                walk(v, acc)
            for a in acc: fields[key][a] += 1
def conv(lsd, sel):
    rule = {'title': 't', 'id': '00000000-0000-0000-0000-000000000000', 'logsource': lsd,
            'detection': {'sel': sel, 'condition': 'sel'}}
    try:
        backend = backend_cls(processing_pipeline=resolver.resolve([pipeline]))
        q = backend.convert(SigmaCollection.from_dicts([rule]))
        return str(q[0]) if q else None
    except Exception as e:
        return 'ERROR: ' + type(e).__name__ + ': ' + str(e)[:300]
out = {}
for key, n in ls.most_common():
    p, c, s = key
    lsd = {k: v for k, v in (('product', p), ('category', c), ('service', s)) if v}
    entry = {'rules': n, 'base': conv(lsd, {'ZzProbeField': 'zzprobe'}), 'fields': {}}
    for f in sorted(fields[key]):
        entry['fields'][f] = conv(lsd, {f: 'zzprobe'})
    out['/'.join(x or '-' for x in key)] = entry
json.dump(out, sys.stdout, indent=1)
