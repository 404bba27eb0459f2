#!/usr/bin/env python3
"""Baseline for `ctiforge attack eval-domains`: TF-IDF over word 1-2-grams + one-vs-rest
logistic regression (scikit-learn), on exactly the split ctiforge uses.

The split comes from `ctiforge attack eval-domains --export FILE`: every training text with its
labels and the folds that leave it out (held-out texts and their near-copies), and each
held-out text as tested (technique names, ids and actor names removed) with its fold, domain,
source and gold technique. For each fold the baseline trains on the texts that fold keeps and
scores the fold's held-out texts in their domain's technique space: each text alone, and each
source's texts of a domain together (a technique's probability in a document is its highest in
any of the texts). A predicted parent of the gold sub-technique counts neither way, as in
ctiforge. Two variants: probability >= 0.5, and a threshold per domain chosen on the other
folds (nested).

Usage:
  target/release/ctiforge attack eval-domains --from ../shared/data --export /tmp/split.jsonl
  bench/.venv/bin/python bench/attack_domain_baseline.py /tmp/split.jsonl > bench/results/attack_domain_baseline.json
"""
import json
import sys
from collections import defaultdict

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer


def parent(technique):
    return technique.rsplit(".", 1)[0] if technique.count(".") == (2 if technique.startswith("AML.") else 1) else None


def score(predicted, gold, counts):
    implied = {parent(g) for g in gold} - {None}
    predicted = {p for p in predicted if p in gold or p not in implied}
    counts[0] += len(predicted & gold)
    counts[1] += len(predicted - gold)
    counts[2] += len(gold - predicted)


def prf(counts):
    tp, fp, fn = counts
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return [p, r, f]


def main():
    lines = open(sys.argv[1])
    header = json.loads(next(lines))
    folds = header["folds"]
    in_domain = {d: set(ids) for d, ids in header["domains"].items()}
    rows = [json.loads(line) for line in lines]

    # per fold: list of (domain, source, gold, {technique: probability})
    predictions = {}
    for fold in range(folds):
        train = [r for r in rows if fold not in r["left_out_of"] and r["labels"]]
        negatives = [r for r in rows if fold not in r["left_out_of"] and not r["labels"]]
        train += negatives
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x = vectorizer.fit_transform([r["text"] for r in train])
        mlb = MultiLabelBinarizer()
        y = mlb.fit_transform([r["labels"] for r in train])
        model = OneVsRestClassifier(LogisticRegression(solver="liblinear"), n_jobs=1).fit(x, y)
        tests = [r["test"] for r in rows if "test" in r and r["test"]["fold"] == fold]
        probs = model.predict_proba(vectorizer.transform([t["text"] for t in tests]))
        classes = list(mlb.classes_)
        out = []
        for t, row in zip(tests, probs):
            keep = in_domain[t["domain"]]
            top = {classes[i]: float(row[i]) for i in np.nonzero(row >= 0.05)[0] if classes[i] in keep}
            out.append((t["domain"], t["source"], t["gold"], top))
        predictions[fold] = out
        print(f"fold {fold + 1}/{folds}: {len(train)} training texts, {len(tests)} held out", file=sys.stderr)

    def counts_at(items, threshold):
        text = defaultdict(lambda: [0, 0, 0])
        doc = defaultdict(lambda: [0, 0, 0])
        documents = defaultdict(lambda: (set(), defaultdict(float)))
        for domain, source, gold, probs in items:
            score({t for t, p in probs.items() if p >= threshold}, {gold}, text[domain])
            golds, best = documents[(domain, source)]
            golds.add(gold)
            for t, p in probs.items():
                best[t] = max(best[t], p)
        for (domain, _), (golds, best) in documents.items():
            score({t for t, p in best.items() if p >= threshold}, golds, doc[domain])
        return text, doc

    grid = [round(0.05 * i, 2) for i in range(2, 19)]
    result = {}
    for variant in ("default", "tuned"):
        text_total = defaultdict(lambda: [0, 0, 0])
        doc_total = defaultdict(lambda: [0, 0, 0])
        for fold in range(folds):
            domains = {d for d, *_ in predictions[fold]}
            for domain in domains:
                mine = [p for p in predictions[fold] if p[0] == domain]
                if variant == "default":
                    t_text = t_doc = 0.5
                else:
                    others = [p for f in range(folds) if f != fold for p in predictions[f] if p[0] == domain]
                    t_text = max(grid, key=lambda t: prf(counts_at(others, t)[0][domain])[2])
                    t_doc = max(grid, key=lambda t: prf(counts_at(others, t)[1][domain])[2])
                text, _ = counts_at(mine, t_text)
                _, doc = counts_at(mine, t_doc)
                for i in range(3):
                    text_total[domain][i] += text[domain][i]
                    doc_total[domain][i] += doc[domain][i]
        result[variant] = {
            "name": "TF-IDF+LR " + ("(p>=0.5)" if variant == "default" else "(tuned)"),
            "domains": {d: {"text": prf(text_total[d]), "document": prf(doc_total[d])} for d in text_total},
        }
    json.dump(result["tuned"], sys.stdout, indent=1)
    print()
    json.dump(result["default"], sys.stderr, indent=1)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
