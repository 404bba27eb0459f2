#!/usr/bin/env python3
"""Baseline for `ctiforge attack eval`: TF-IDF over word 1-2-grams + one-vs-rest logistic
regression (scikit-learn), trained and scored with the same folds and metrics as ctiforge.

The split is ctiforge's own (`ctiforge attack eval --export FILE`): a report's fold is
int.from_bytes(sha256(report)[:4], 'big') % folds. Each fold's model trains on the rows of
tram/train.jsonl (report sentences, bootstrap rows, single-label spans) except the fold's
report sentences, the TRAM spans cut from its reports, and every row that near-copies one of
the fold's held-out sentences (TRAM's bootstrap rows repeat many of them). Scores use the TRAM
label space; macro averages run over labels with gold support. Two variants are written:
scikit-learn's default decision (probability >= 0.5) and thresholds chosen on the other folds
(nested), exactly as ctiforge chooses its own.

Usage:
  target/release/ctiforge attack eval --from ../shared/data --export /tmp/tram-split.jsonl
  bench/.venv/bin/python bench/attack_baseline.py /tmp/tram-split.jsonl > bench/results/attack_baseline.json
"""
import json
import sys
from collections import defaultdict

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

TRAM_ORIGINS = ("tram-report-sentence", "tram-bootstrap", "tram-single-label")


def counts_to_metrics(counts):
    tp = sum(c[0] for c in counts)
    fp = sum(c[1] for c in counts)
    fn = sum(c[2] for c in counts)

    def prf(tp, fp, fn):
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
        return p, r, f

    supported = [prf(*c) for c in counts if c[0] + c[2] > 0]
    macro = [sum(x[i] for x in supported) / len(supported) if supported else 0.0 for i in range(3)]
    return {"micro": list(prf(tp, fp, fn)), "macro": macro}


def tally(pred, gold, counts):
    for p in pred:
        counts[p][0 if p in gold else 1] += 1
    for g in gold - pred:
        counts[g][2] += 1


def sentence_counts(items, threshold, n):
    counts = [[0, 0, 0] for _ in range(n)]
    for probs, golds in items:
        for row, gold in zip(probs, golds):
            tally(set(np.nonzero(row >= threshold)[0]), gold, counts)
    return counts


def document_counts(items, threshold, n):
    counts = [[0, 0, 0] for _ in range(n)]
    for probs, golds in items:
        pred = set(np.nonzero(probs.max(axis=0) >= threshold)[0]) if len(probs) else set()
        tally(pred, set().union(*golds) if golds else set(), counts)
    return counts


def objective(counts):
    m = counts_to_metrics(counts)
    return (m["micro"][2] + m["macro"][2]) / 2


def main():
    lines = open(sys.argv[1])
    header = json.loads(next(lines))
    FOLDS = header["folds"]
    labels = header["labels"]
    rows = [r for r in map(json.loads, lines) if r["origin"] in TRAM_ORIGINS]
    index = {l: i for i, l in enumerate(labels)}
    n = len(labels)
    mlb = MultiLabelBinarizer(classes=list(range(n)))

    order = []
    by_report = defaultdict(list)
    for row in rows:
        if row["origin"] == "tram-report-sentence":
            if row["report"] not in by_report:
                order.append(row["report"])
            by_report[row["report"]].append(row)

    per_fold = {}
    for fold in range(FOLDS):
        train = [
            r for r in rows
            if not (r["origin"] != "tram-bootstrap" and r["fold"] == fold) and fold not in r["left_out_of"]
        ]
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        x = vectorizer.fit_transform([r["text"] for r in train])
        y = mlb.fit_transform([[index[l] for l in r["labels"] if l in index] for r in train])
        model = OneVsRestClassifier(LogisticRegression(max_iter=1000), n_jobs=2).fit(x, y)
        items = []
        for report in order:
            if by_report[report][0]["fold"] != fold:
                continue
            sentences = by_report[report]
            probs = model.predict_proba(vectorizer.transform([s["text"] for s in sentences]))
            golds = [set(index[l] for l in s["labels"] if l in index) for s in sentences]
            items.append((probs, golds))
        per_fold[fold] = items
        print(f"fold {fold + 1}/{FOLDS} done", file=sys.stderr)

    grid = [round(0.05 * i, 2) for i in range(2, 19)]
    out = {}
    for variant in ("default", "tuned"):
        s_counts = [[0, 0, 0] for _ in range(n)]
        d_counts = [[0, 0, 0] for _ in range(n)]
        for fold in range(FOLDS):
            if variant == "default":
                ts = td = 0.5
            else:
                tune = [it for f, items in per_fold.items() if f != fold for it in items]
                ts = max(grid, key=lambda t: counts_to_metrics(sentence_counts(tune, t, n))["micro"][2])
                td = max(grid, key=lambda t: objective(document_counts(tune, t, n)))
            for acc, fresh in ((s_counts, sentence_counts(per_fold[fold], ts, n)),
                               (d_counts, document_counts(per_fold[fold], td, n))):
                for a, b in zip(acc, fresh):
                    for i in range(3):
                        a[i] += b[i]
        out[variant] = {
            "name": "TF-IDF+LR " + ("(p>=0.5)" if variant == "default" else "(tuned)"),
            "sentence": counts_to_metrics(s_counts),
            "document": counts_to_metrics(d_counts),
        }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
