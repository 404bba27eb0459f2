#!/usr/bin/env python3
"""Rule-by-rule comparison of `ctiforge sigma convert` with pySigma's backends.

Usage:
  sigma_parity.py --ctiforge BIN --rules DIR [DIR...] --target T [--pipeline P] [--json OUT]

Run it with the Python that has pySigma and the backend installed (bench/sigma-parity.sh
makes the virtual environments). For each rule both converters see, the queries are
compared three ways:

  exact    equal after collapsing whitespace;
  tokens   equal as multisets of tokens once parentheses are dropped and and/or/not are
           lower-cased (this forgives grouping, ordering and spacing, and nothing else);
  tree     equal as boolean trees: each query is parsed in its dialect (precedence of
           NOT over AND over OR, Splunk's and Lucene's implicit AND, IN-lists and
           `field:(a OR b)` as ORs, pipes after the search kept in order), associative
           operators flattened and operands sorted. Unlike `tokens`, this sees grouping and
           what a NOT covers: `A AND (B OR C)` is not `(A AND B) OR C`;
  documented  equal once pySigma's form is rewritten into ours where ours differs by
           design (DOCUMENTED below; BENCHMARKS.md gives the reasons);
  differ   anything else.

`agreement` counts exact and tree matches (the headline and the CI floor);
`agreement_tokens` keeps the looser token match as a second column.

Rules that only one side converts are counted apart. A sample of differences is printed
for inspection.
"""

import argparse
import collections
import json
import re
import subprocess
import sys
import time

TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|[^\s()"\']+')
KEYWORDS = {"and", "or", "not"}


def backend_for(target):
    if target == "splunk":
        from sigma.backends.splunk import SplunkBackend
        return SplunkBackend
    if target == "lucene":
        from sigma.backends.elasticsearch import LuceneBackend
        return LuceneBackend
    if target == "esql":
        from sigma.backends.elasticsearch import ESQLBackend
        return ESQLBackend
    if target == "eql":
        from sigma.backends.elasticsearch import EqlBackend
        return EqlBackend
    if target == "kusto":
        from sigma.backends.kusto import KustoBackend
        return KustoBackend
    if target == "logscale":
        from sigma.backends.crowdstrike import LogScaleBackend
        return LogScaleBackend
    if target == "sql":
        from sigma.backends.sqlite import sqliteBackend
        return sqliteBackend
    if target == "aql":
        from sigma.backends.QRadarAQL import QRadarAQLBackend
        return QRadarAQLBackend
    raise SystemExit(f"no pySigma backend for {target}")


def normalize(query):
    return " ".join(query.split())


# A list written as one test, per target: the opening (field captured), how each member is
# written again as its own test, and the separator between members.
LISTS = {
    "splunk": (r'("[^"]+"|[\w.@-]+) IN \(', "{f}={v}", " OR "),
    "lucene": (r'([\w.@-]+):\(', "{f}:{v}", " OR "),
    "esql": (r'([\w.@`-]+) in \(', "{f}=={v}", " or "),
    "eql": (r'([\w.@`-]+) (?:like~|in~|:) \(', "{f}:{v}", " or "),
    "kusto": (r'([\w.@\[\]\'-]+) in~ \(', "{f} =~ {v}", " or "),
    "sql": (r'([\w."-]+) IN \(', "{f}={v}", " OR "),
    "aql": (r'([\w."-]+) IN \(', "{f}={v}", " OR "),
    "logscale": (r'^$', "", ""),
}
MEMBER = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\']|\'\')*\'|(?:\\.|[^,\s()])+')


def expand_lists(query, target):
    """Writes `field IN (a, b)` as `field=a OR field=b` in the target's syntax."""
    opener, member, separator = LISTS[target]
    pattern = re.compile(opener)
    out, position = [], 0
    while True:
        found = pattern.search(query, position)
        if not found:
            out.append(query[position:])
            return "".join(out)
        start = found.end()
        # Just past the list's closing parenthesis: the first one that closes more than it
        # opened (an unclosed list runs to the end, its last character dropped).
        closing = (k for k, c, depth in unquoted(query, start) if c == ")" and depth < 0)
        i = next(closing, len(query) - 1) + 1
        inner = query[start : i - 1]
        members = [m for m in MEMBER.findall(inner) if m.upper() != "OR"]
        out.append(query[position : found.start()])
        out.append("(" + separator.join(member.format(f=found.group(1), v=m) for m in members) + ")")
        position = i


def unquote_fields(query, target):
    """Field-name quoting differs where pySigma leaves a name bare that the language needs
    quoted (EQL backticks, Kusto ['name']); it is compared without it."""
    if target == "eql":
        return re.sub(r"`([^`]*)`", r"\1", query)
    if target == "kusto":
        query = re.sub(r"\['([^']*)'\]", r"\1", query)
        return re.sub(r"''?([\w.@-]+)''?", r"\1", query)
    if target == "sql":
        query = re.sub(r"`([^`]*)`", r"\1", query)
    if target in ("aql", "sql"):
        return re.sub(r'"([\w .@-]+)"(?=\s*(?:=|LIKE|ILIKE|IN|IS|MATCHES|IMATCHES|GLOB|REGEXP|<|>|!))', r"\1", query)
    return query


def sql_equals_as_like(match):
    value = match.group(2).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{match.group(1)} LIKE '{value}' ESCAPE '\\'"


# Differences that are ours by design (BENCHMARKS.md explains each); `--documented` rewrites
# pySigma's form into ours before comparing, and the result is reported separately.
def kusto_numbers(match):
    numbers = ", ".join(re.findall(r"\d+", match.group(2)))
    return f"{match.group(1)} in ({numbers})"


DOCUMENTED = {
    # Sigma matches case-insensitively; SQLite's `=` does not, its LIKE does (ASCII).
    "sql": [(re.compile(r"([\w.`\"-]+)='((?:[^']|'')*)'"), sql_equals_as_like)],
    # Numbers (event ids) are compared as numbers, not as case-insensitive strings.
    "kusto": [
        (re.compile(r'([\w.]+) in~ \(((?:"\d+"(?:, )?)+)\)'), kusto_numbers),
        # microsoft_xdr: `contains '\Services\'` becomes pySigma's `endswith "\Services*"` (the
        # trailing backslash read as escaping a star, which KQL's endswith takes literally);
        # ours keeps `contains "\Services\\"`.
        (re.compile(r'(\w+) endswith "((?:[^"\\]|\\.)*)\*"'), r'\1 contains "\2\\\\"'),
        # A keyword (no field): pySigma writes the bare string, which is not a KQL predicate;
        # ours searches every column (`* contains "x"`).
        (re.compile(r'(where |\(| or | and )"((?:[^"\\]|\\.)*)"(?= or |\)|$| and )'),
         r'\1* contains "\2"'),
        # An IPv6 network tested with ipv4_is_in_range (never true); ours uses ipv6_is_in_range.
        (re.compile(r'ipv4_is_in_range\((\w+), "([0-9a-fA-F]*:[0-9a-fA-F:]*/\d+)"\)'),
         r'ipv6_is_in_range(\1, "\2")'),
    ],
    # QRadar: Sigma matches case-insensitively; pySigma's QRadar backend lower-cases the
    # property (not the value) for LIKE and compares exact values with a case-sensitive `=`.
    # Ours uses AQL's ILIKE for both.
    "aql": [
        (re.compile(r"IN\((('\d+'(?:, )?)+)\)"), lambda m: "IN (" + m.group(1).replace("'", "") + ")"),
        # Lists of strings, compared with a case-sensitive IN by pySigma, are ILIKE tests in ours.
        (re.compile(r"(\"[^\"]+\"|[\w.-]+) IN\(('(?:[^']|'')*'(?:, '(?:[^']|'')*')*)\)"),
         lambda m: "(" + " OR ".join(f"{m.group(1)} ILIKE {v}" for v in re.findall(r"'(?:[^']|'')*'", m.group(2))) + ")"),
        (re.compile(r"\bIN\("), "IN ("),
        (re.compile(r'LOWER\(("[^"]+"|[\w.-]+|UTF8\(payload\))\) LIKE \''), r"\1 ILIKE '"),
        (re.compile(r'("[^"]+"|[\w.-]+)=\'((?:[^\']|\'\')*)\''), r"\1 ILIKE '\2'"),
    ],
    # ecs_windows: Sysmon's Initiated "true"/"false" as ECS network.direction values; pySigma
    # maps only a YAML boolean and passes the string rules write unchanged.
    "lucene": [
        (re.compile(r'network\.direction:true\b'), "network.direction:egress"),
        (re.compile(r'network\.direction:false\b'), "network.direction:ingress"),
    ],
}


def zeek_log_fields(query):
    """pySigma's `zeek.*.field` (a field name with a wildcard, which Lucene reads as a literal
    star) as the field of the rule's own log, `zeek.<log>.field`."""
    log = re.search(r"event\.dataset:zeek\.(\w+)", query)
    if not log:
        return query
    return re.sub(r"zeek\.\\\*\.(\w+):", lambda m: f"zeek.{log.group(1)}.{m.group(1)}:", query)


# The same, for one pipeline: where ours names the field Elastic's integration writes and
# pySigma's leaves a name no event has (BENCHMARKS.md lists each).
ZEEK = [
    # The conn log is the integration's `zeek.connection` dataset.
    (re.compile(r"event\.dataset:zeek\.conn\b"), "event.dataset:zeek.connection"),
    # The connection's ends are source.* and destination.* in every log.
    *[(re.compile(rf"(?<![\w.-]){re.escape(theirs)}(?![\w.-])"), ours) for theirs, ours in [
        ("id.orig_h", "source.ip"), ("id.orig_p", "source.port"),
        ("id.resp_h", "destination.ip"), ("id.resp_p", "destination.port"),
        # Web-server log names pySigma leaves unmapped in the http log (it maps the proxy
        # log's names for the same things).
        ("cs-uri-query", "url.query"), ("cs-uri-stem", "url.original"),
        ("cs-user-agent", "user_agent.original"), ("cs-username", "url.username"),
    ]],
    # The http log's user_agent, which pySigma writes with wildcards.
    (re.compile(r"zeek\.\\\*user_agent\\\*:"), "user_agent.original:"),
]
# The audit event's own names, which SigmaHQ's Kubernetes rules use: pySigma's ecs_kubernetes
# leaves them at the top level, where the integration has no such field; ours places them
# under kubernetes.audit.
K8S_AUDIT_NAME = re.compile(
    r"(?<![\w.-])(objectRef\.\w+|requestURI|userAgent|responseStatus\.\w+|user\.username"
    r"|user\.groups|sourceIPs|stage|level|annotations|auditID|apiVersion)(?=:)")


def k8s_audit_names(query):
    if "kubernetes.audit.kind:Event" not in query:
        return query
    return K8S_AUDIT_NAME.sub(r"kubernetes.audit.\1", query)


# qradar-aql-fields: pySigma's QRadar pipeline joins properties with CONCAT but quotes their
# names as string literals, so the test reads a constant: `CONCAT('file directory', '/',
# filename)` for file paths (ours: the filename property), and for `Hashes` a CONCAT of the
# literals 'MD5=', 'MD5 Hash '... (ours: the hash's own property, as for `md5`, `Imphash`).
QRADAR_HASH_PROPERTY = {"MD5": "MD5 Hash", "SHA1": "SHA1 Hash", "SHA256": "SHA256 Hash",
                        "IMPHASH": "IMP Hash"}


def qradar_hashes(match):
    algo, value = match.group(1).upper(), match.group(2)
    return f'"{QRADAR_HASH_PROPERTY.get(algo, algo)}" ILIKE \'{value}%\''


QRADAR = [
    (re.compile(r"CONCAT\('file directory', '/', filename\)"), "filename"),
    (re.compile(r"LOWER\(CONCAT\('MD5=', [^)]*\)\) LIKE '%(\w+)=(\w+)%'"), qradar_hashes),
    # A value without letters: LIKE and ILIKE select the same events.
    (re.compile(r"(\"[^\"]+\"|[\w.-]+) LIKE '([^a-zA-Z']*)'"), r"\1 ILIKE '\2'"),
]
DOCUMENTED_PIPELINE = {"ecs_zeek_beats": ZEEK, "ecs_zeek_corelight": ZEEK,
                       "qradar-aql-fields": QRADAR}
DOCUMENTED_PIPELINE_FUNCTIONS = {
    "ecs_zeek_beats": zeek_log_fields,
    "ecs_zeek_corelight": zeek_log_fields,
    "ecs_kubernetes": k8s_audit_names,
}


def documented(query, target, pipeline=None):
    # The pipeline's first: the target's rewrite a form the pipeline's still need to read.
    for pattern, replacement in DOCUMENTED_PIPELINE.get(pipeline, []) + DOCUMENTED.get(target, []):
        query = pattern.sub(replacement, query)
    if pipeline in DOCUMENTED_PIPELINE_FUNCTIONS:
        query = DOCUMENTED_PIPELINE_FUNCTIONS[pipeline](query)
    return query


def tokens(query, target):
    out = []
    for tok in TOKEN.findall(expand_lists(unquote_fields(query, target), target)):
        low = tok.lower()
        out.append(low if low in KEYWORDS else tok)
    return sorted(out)


# Boolean trees -------------------------------------------------------------------------------

# A term: a quoted string, a parenthesis, or a run of other characters (backslash escapes
# included) that may end in a quoted value (`"cs-uri-query"="*x*"`, `Image="a b"`). In Lucene
# a single quote is an ordinary character.
QUOTED = r'"(?:[^"\\]|\\.)*"'
SINGLE = r"'(?:[^'\\]|\\.|'')*'"
TREE_TOKEN = {
    "default": re.compile(
        rf'(?:{QUOTED}|{SINGLE})(?:[^\s()"\']+(?:{QUOTED}|{SINGLE})?)?|\(|\)'
        rf'|(?:\\.|[^\s()"\'])+(?:{QUOTED}|{SINGLE})?'
    ),
    "lucene": re.compile(rf'{QUOTED}|\(|\)|(?:\\.|[^\s()"])+(?:{QUOTED})?'),
}
# Lucene and Splunk join terms without an operator (an implicit AND); Kusto and the SQL-like
# languages write `field op value` as separate words, which form one comparison.
IMPLICIT_AND = {"splunk", "lucene"}


class Unparsable(Exception):
    pass


def unquoted(query, start=0):
    """(position, character, depth) for each character of `query` from `start` that is outside
    quoted strings and not escaped; depth counts the parentheses open before it (a closing one
    counts as closed)."""
    depth, quote, i = 0, None, start
    while i < len(query):
        c = query[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "\\":
            i += 1
        else:
            if c == ")":
                depth -= 1
            yield i, c, depth
            if c == "(":
                depth += 1
        i += 1


def split_pipes(query):
    """The query's parts at top-level `|` (outside quotes and parentheses)."""
    cuts = [i for i, c, depth in unquoted(query) if c == "|" and depth == 0]
    bounds = zip([-1] + cuts, cuts + [len(query)])
    return [query[a + 1 : b].strip() for a, b in bounds]


def parse_tree(text, target):
    tokens = TREE_TOKEN.get(target, TREE_TOKEN["default"]).findall(text)
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def keyword(tok):
        return tok is not None and tok.lower() in ("and", "or", "not")

    # Splunk evaluates OR before AND (its documented order: parentheses, NOT, OR, AND), so
    # `a b OR c` is `a AND (b OR c)`; the other languages evaluate AND first.
    outer, inner = ("and", "or") if target == "splunk" else ("or", "and")

    def joins(tok, op):
        if tok is None or tok == ")":
            return False
        if tok.lower() == op:
            return True
        # An implicit AND: the next term follows without an operator.
        return op == "and" and target in IMPLICIT_AND and tok.lower() not in ("and", "or")

    def parse_level(op, below):
        operands = [below()]
        while joins(peek(), op):
            if peek().lower() == op:
                take()
            operands.append(below())
        return (op, operands) if len(operands) > 1 else operands[0]

    def parse_or():
        return parse_level(outer, lambda: parse_level(inner, parse_not))

    def parse_not():
        tok = peek()
        if tok is not None and tok.lower() == "not":
            take()
            return ("not", [parse_not()])
        return parse_atom()

    def parse_atom():
        tok = peek()
        if tok is None:
            raise Unparsable("unexpected end")
        if tok == "(":
            take()
            inner = parse_or() if peek() != ")" else ("empty", [])
            if peek() != ")":
                raise Unparsable("unbalanced parenthesis")
            take()
            return inner
        if tok == ")":
            raise Unparsable("unexpected )")
        words = [take()]
        if target not in IMPLICIT_AND:
            # `field op value`, and lists or calls such as `field in (1, 2)`.
            while peek() is not None and peek() != ")" and not keyword(peek()):
                if peek() == "(":
                    depth = 0
                    while True:
                        tok = take()
                        words.append(tok)
                        depth += {"(": 1, ")": -1}.get(tok, 0)
                        if depth == 0 or peek() is None:
                            break
                else:
                    words.append(take())
        return ("leaf", " ".join(words))

    tree = parse_or() if tokens else ("empty", [])
    if position != len(tokens):
        raise Unparsable(f"stopped at {tokens[position]!r}")
    return tree


def canonical(tree):
    """Flattens nested ANDs and ORs, sorts operands, and writes the tree as one string."""
    kind, body = tree
    if kind == "leaf":
        # A bare keyword is the same quoted or not (`0`, `"0"`).
        if "=" not in body and ":" not in body and len(body) > 1 and body[0] == body[-1] == '"':
            return body[1:-1]
        return body
    if kind == "empty":
        return "()"
    children = [canonical(child) for child in body]
    if kind == "not":
        # NOT NOT x is x.
        if body[0][0] == "not":
            return canonical(body[0][1][0])
        return f"NOT[{children[0]}]"
    flat = []
    for child, node in zip(children, body):
        if node[0] == kind:
            flat.extend(canonical_parts(node, kind))
        else:
            flat.append(child)
    return f"{kind.upper()}[{', '.join(sorted(flat))}]"


def canonical_parts(node, kind):
    out = []
    for child in node[1]:
        if child[0] == kind:
            out.extend(canonical_parts(child, kind))
        else:
            out.append(canonical(child))
    return out


def lower_ilike(node):
    """AQL's ILIKE ignores case, so `f ILIKE 'ABC'` and `f ILIKE 'abc'` are the same test."""
    kind, body = node
    if kind == "leaf":
        return (kind, body.lower() if " ILIKE " in body else body)
    if kind == "empty":
        return node
    return (kind, [lower_ilike(child) for child in body])


def tree(query, target):
    """The query as a canonical tree, or None when it cannot be parsed."""
    if target == "aql":
        # Both converters write the same frame; compare the condition.
        query = re.sub(r"^\s*SELECT \* FROM events WHERE\s+", "", query, flags=re.I)
    prepared = expand_lists(unquote_fields(query, target), target)
    # Lucene has no pipes (`\|` is an escaped character in a value).
    parts = [prepared] if target == "lucene" else split_pipes(prepared)
    searches, rest = [parts[0]], []
    for part in parts[1:]:
        # Splunk: a later `| search` filters like the first search; where a condition stands
        # does not change what matches.
        if target == "splunk" and part.lower().startswith("search "):
            searches.append(part[len("search "):])
        else:
            rest.append(" ".join(part.split()))
    if target == "kusto" and len(parts) > 1 and parts[1].lower().startswith("where "):
        # A pipeline's table, then the condition: compare the table as a word and the
        # condition as a tree.
        table, condition = " ".join(parts[0].split()), parts[1][len("where "):]
        try:
            return [table, canonical(parse_tree(condition, target))] + [
                " ".join(p.split()) for p in parts[2:]
            ]
        except Unparsable:
            return None
    try:
        trees = [parse_tree(s, target) for s in searches if s.strip()]
    except Unparsable:
        return None
    head = trees[0] if len(trees) == 1 else ("and", trees)
    if target == "aql":
        head = lower_ilike(head)
    # Filters that only drop events (`| regex`, `| where`) may come in any order.
    filters = sorted(p for p in rest if p.split(" ", 1)[0].lower() in ("regex", "where"))
    others = [p for p in rest if p.split(" ", 1)[0].lower() not in ("regex", "where")]
    return [canonical(head) if trees else "()"] + others + filters


def pysigma_queries(paths, target, pipeline):
    from sigma.collection import SigmaCollection
    from sigma.rule import SigmaRule

    backend_class = backend_for(target)
    if pipeline:
        from sigma.plugins import InstalledSigmaPlugins
        plugins = InstalledSigmaPlugins.autodiscover()
        resolver = plugins.get_pipeline_resolver()
        backend = backend_class(processing_pipeline=resolver.resolve([pipeline]))
    else:
        backend = backend_class()
    started = time.perf_counter()
    collection = SigmaCollection.load_ruleset(paths, collect_errors=True)
    out = {}
    for rule in collection.rules:
        if not isinstance(rule, SigmaRule) or rule.id is None:
            continue
        try:
            queries = backend.convert_rule(rule)
            out[str(rule.id)] = ("ok", "\n".join(str(q) for q in queries))
        except Exception as error:  # pySigma raises many exception types per rule
            out[str(rule.id)] = ("error", f"{type(error).__name__}: {error}")
    return out, time.perf_counter() - started


def ctiforge_queries(binary, paths, target, pipeline):
    command = [binary, "sigma", "convert", "--target", target, "--format", "jsonl"]
    if pipeline:
        command += ["--pipeline", pipeline]
    started = time.perf_counter()
    done = subprocess.run(command + paths, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    out = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        if record["kind"] != "rule" or record["id"] is None:
            continue
        if record["query"] is not None:
            out[record["id"]] = ("ok", record["query"])
        else:
            out[record["id"]] = ("error", record["error"])
    return out, elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ctiforge", required=True)
    parser.add_argument("--rules", nargs="+", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--pipeline")
    parser.add_argument("--json")
    parser.add_argument("--samples", type=int, default=12)
    args = parser.parse_args()

    theirs, their_time = pysigma_queries(args.rules, args.target, args.pipeline)
    ours, our_time = ctiforge_queries(args.ctiforge, args.rules, args.target, args.pipeline)

    counts = collections.Counter()
    samples = collections.defaultdict(list)
    for rule_id in sorted(set(theirs) | set(ours)):
        t = theirs.get(rule_id, ("missing", ""))
        o = ours.get(rule_id, ("missing", ""))
        if t[0] == "ok" and o[0] == "ok":
            their_tree, our_tree = tree(t[1], args.target), tree(o[1], args.target)
            same_tokens = tokens(t[1], args.target) == tokens(o[1], args.target)
            if normalize(t[1]) == normalize(o[1]):
                kind = "exact"
            elif their_tree is not None and their_tree == our_tree:
                kind = "tree"
            elif tree(documented(t[1], args.target, args.pipeline), args.target) == our_tree and our_tree:
                kind = "documented"
            else:
                kind = "differ"
            if kind in ("exact", "tree") or same_tokens:
                counts["tokens_loose"] += 1
            if their_tree is None or our_tree is None:
                counts["unparsable"] += 1
        elif t[0] == "ok":
            kind = "only_pysigma"
        elif o[0] == "ok":
            kind = "only_ctiforge"
        else:
            kind = "neither"
        counts[kind] += 1
        if kind in ("differ", "only_pysigma", "only_ctiforge"):
            samples[kind].append({"id": rule_id, "pysigma": t[1], "ctiforge": o[1]})

    both = counts["exact"] + counts["tree"] + counts["documented"] + counts["differ"]
    result = {
        "target": args.target,
        "pipeline": args.pipeline,
        "rules": len(set(theirs) | set(ours)),
        "both_converted": both,
        "exact": counts["exact"],
        "tree": counts["tree"],
        "documented": counts["documented"],
        "differ": counts["differ"],
        "only_pysigma": counts["only_pysigma"],
        "only_ctiforge": counts["only_ctiforge"],
        "neither": counts["neither"],
        "unparsable": counts["unparsable"],
        "agreement": round((counts["exact"] + counts["tree"]) / both, 4) if both else None,
        "agreement_tokens": round(counts["tokens_loose"] / both, 4) if both else None,
        "agreement_with_documented": round(
            (counts["exact"] + counts["tree"] + counts["documented"]) / both, 4
        ) if both else None,
        "pysigma_seconds": round(their_time, 3),
        "ctiforge_seconds": round(our_time, 3),
    }
    print(json.dumps(result, indent=2))
    for kind, items in samples.items():
        print(f"\n## {kind}: {len(items)}", file=sys.stderr)
        for item in items[: args.samples]:
            print(f"- {item['id']}\n  pysigma : {item['pysigma'][:400]}\n  ctiforge: {item['ctiforge'][:400]}", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": result, "differences": samples}, f, indent=1)


if __name__ == "__main__":
    main()
