#!/usr/bin/env bash
# Hostile inputs (issue #18): generates each input in a temporary folder (nothing is kept),
# runs one ctiforge binary on it and prints exit code, wall time and peak memory (GNU time).
#
#   bench/hostile.sh [CTIFORGE_BINARY]
#
# Exit 134 is an abort (stack overflow); 2 is a clear error; 0 and 1 are answers.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then binary="$1"; else cargo build --release -q -p ctiforge; binary=target/release/ctiforge; fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import os, sys, zlib
w = sys.argv[1]
def put(name, data, mode='w'):
    with open(os.path.join(w, name), mode) as f: f.write(data)
put('html-deep.html', '<html><body>' + '<div>'*50000 + 'The actor ran vssadmin delete shadows.' + '</div>'*50000 + '</body></html>')
put('html-unclosed.html', '<html><body>' + '<div>'*20000 + 'The actor ran vssadmin delete shadows.')
def pdf(objs):
    out = b'%PDF-1.4\n'; offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out)); out += f'{i} 0 obj\n'.encode() + o + b'\nendobj\n'
    x = len(out)
    out += f'xref\n0 {len(objs)+1}\n0000000000 65535 f \n'.encode()
    for o in offs: out += f'{o:010d} 00000 n \n'.encode()
    return out + f'trailer\n<< /Size {len(objs)+1} /Root 1 0 R >>\nstartxref\n{x}\n%%EOF\n'.encode()
cat = b'<< /Type /Catalog /Pages 2 0 R >>'; pages = b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>'
font = b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
text = b'BT /F1 12 Tf 72 712 Td (The actor ran vssadmin delete shadows.) Tj ET'
put('pdf-self-form.pdf', pdf([cat, pages,
    b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 6 0 R >> /XObject << /X1 5 0 R >> >> >>',
    b'<< /Length %d >>\nstream\n' % (len(text)+7) + text + b' /X1 Do\nendstream',
    b'<< /Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X1 5 0 R >> >> /Length 6 >>\nstream\n/X1 Do\nendstream',
    font]), 'wb')
c = zlib.compressobj(9); z = c.compress(text + b' ')
for _ in range(2048): z += c.compress(b' ' * (1 << 20))
z += c.flush()
put('pdf-bomb.pdf', pdf([cat, pages,
    b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    b'<< /Length %d /Filter /FlateDecode >>\nstream\n' % len(z) + z + b'\nendstream', font]), 'wb')
s = 'The actors exploited CVE-2023-4966 on 203.0.113.9 and ran vssadmin delete shadows /all /quiet. '
put('text-10mb.txt', s * (10 * 1024 * 1024 // len(s)))
put('text-50mb.txt', s * (50 * 1024 * 1024 // len(s)))
put('deep.yml', 'title: deep\nlogsource:\n  product: windows\ndetection:\n  sel: ' + '['*100000 + ']'*100000 + '\n  condition: sel\n')
put('bad.yml', 'title: [unclosed\n')
put('events.jsonl', '{"EventID": 1}\n')
put('query.txt', 'a' * 100000)
import gzip, json
event = json.dumps({"EventID": 1, "Image": "C:\\Windows\\System32\\evil.exe",
                    "CommandLine": "evil.exe -x " + "A" * 120, "UtcTime": "2026-01-01 00:00:00"}) + "\n"
with gzip.open(os.path.join(w, 'matching-300mb.jsonl.gz'), 'wb', compresslevel=6) as f:
    block = (event * 10000).encode()
    for _ in range(300 * 1024 * 1024 // len(block)): f.write(block)
put('matching-array.json', '[' + ','.join([event.strip()] * 200000) + ']')
put('evil.yml', "title: evil image\nid: 1d0c7a2e-0000-4000-8000-00000000000a\nlevel: high\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    Image|endswith: '\\evil.exe'\n  condition: sel\n")
put('huge-re.yml', "title: huge regex\nid: 1d0c7a2e-0000-4000-8000-00000000000c\nlogsource:\n  product: windows\n  category: process_creation\ndetection:\n  sel:\n    CommandLine|re: '(?s)(.{1,2000}X){1,5}'\n  condition: sel\n")
put('long-field.jsonl', json.dumps({"EventID": 1, "CommandLine": "A" * 1000000}) + "\n")
sample = os.path.join(os.environ.get('CTIFORGE_DATA', '../shared/data'), 'evtx/EVTX-ATTACK-SAMPLES/Defense Evasion/DE_1102_security_log_cleared.evtx')
if os.path.exists(sample):
    b = bytearray(open(sample, 'rb').read())
    s = 4096 + 65536 + 512 + 64
    for i in range(4096): b[s + i] = i * 7 % 251
    put('damaged.evtx', bytes(b), 'wb')
PY
probe() {
  local name="$1"; shift
  local status=0
  /usr/bin/time -f "%e %M" -o "$work/time" timeout 300 "$@" >/dev/null 2>"$work/err" || status=$?
  read -r seconds kib < <(tail -1 "$work/time")
  printf '| %s | %s | %s s | %s MiB |\n' "$name" "$status" "$seconds" "$((kib / 1024))"
}
echo "| input | exit | time | peak memory |"
echo "|---|---|---|---|"
for f in html-deep.html html-unclosed.html pdf-self-form.pdf pdf-bomb.pdf text-10mb.txt text-50mb.txt; do
  probe "analyze $f" "$binary" analyze "$work/$f" -o "$work/out-$f" --format json
done
probe "sigma check deep.yml (100,000 levels)" "$binary" sigma check "$work/deep.yml"
probe "hunt with no rule loaded" "$binary" hunt --rules "$work/bad.yml" "$work/events.jsonl"
probe "kb lookup of a 100 KB query" "$binary" kb lookup "$(cat "$work/query.txt")"
hunt=("$binary" hunt --format jsonl --logsource windows::process_creation)
probe "hunt 300 MB of matching events (1.2 MB gzip)" "${hunt[@]}" -r "$work/evil.yml" "$work/matching-300mb.jsonl.gz"
probe "hunt a 48 MB JSON array of matching events" "${hunt[@]}" -r "$work/evil.yml" "$work/matching-array.json"
probe "hunt a regex (?s)(.{1,2000}X){1,5} over a 1 MB field" "${hunt[@]}" -r "$work/huge-re.yml" "$work/long-field.jsonl"
[ -f "$work/damaged.evtx" ] && probe "hunt an EVTX with a damaged chunk" "$binary" hunt -r "$work/evil.yml" "$work/damaged.evtx"
true
