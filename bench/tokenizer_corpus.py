#!/usr/bin/python3
"""Deterministic tokenizer-bench corpus: a JSON list of documents, >= 10 MB.

Documents (0.5-6 KB) mix English-like prose (Zipf-distributed words built from
syllables, so the vocabulary is large and BPE caches are exercised honestly),
code, numbers and dates, and lines of the hard multilingual fixture corpus
(tests/fixtures/tokenizers/corpus.txt: accents, CJK, emoji, RTL, whitespace runs).

  /usr/bin/python3 bench/tokenizer_corpus.py OUT.json [--mb 12] [--seed 1]
"""
import argparse
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "tests", "fixtures", "tokenizers", "corpus.txt")

SYLLABLES = ("ka ri to na mi so lu ve de ra ti on en er an in st th ch qu pre con ex ing ed ly al "
             "tion ment ness able ous ive ize bra cle dro fla gri plo sto tru wha").split()
COMMON = ("the of and to a in is it that was for on are as with his they at be this from I have or by "
          "one had not but what all were when we there can an your which their said if do will each "
          "about how up out them then she many some so these would other into has more her two like").split()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=12.0)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    fixture_lines = [l for l in open(FIXTURE, encoding="utf-8").read().split("\n") if l.strip()]
    lexicon = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(30000)]
    cum, acc = [], 0.0
    for i in range(len(lexicon)):
        acc += 1.0 / (i + 10)
        cum.append(acc)
    punct = [".", ".", ".", ",", ",", ";", ":", "!", "?"]

    def sentence():
        n = rng.randint(4, 22)
        words = []
        for _ in range(n):
            r = rng.random()
            if r < 0.45:
                w = rng.choice(COMMON)
            elif r < 0.95:
                w = rng.choices(lexicon, cum_weights=cum)[0]
            else:
                w = str(rng.randint(0, 10 ** rng.randint(1, 7)))
            if rng.random() < 0.08:
                w = w.capitalize()
            words.append(w)
            if rng.random() < 0.07:
                words[-1] += ","
        words[0] = words[0].capitalize()
        return " ".join(words) + rng.choice(punct)

    def code():
        name = rng.choice(lexicon)
        return (f"def {name}_{rng.randint(0, 99)}(x, y={rng.randint(0, 9)}):\n"
                f"    # {sentence()}\n    return x * {rng.random():.4f} + y  # {rng.choice(lexicon)}\n")

    docs, total, limit = [], 0, int(a.mb * 1e6)
    while total < limit:
        target = rng.randint(500, 6000)
        parts, size = [], 0
        while size < target:
            r = rng.random()
            if r < 0.75:
                p = " ".join(sentence() for _ in range(rng.randint(1, 6)))
            elif r < 0.87:
                p = code()
            else:
                p = "\n".join(rng.choice(fixture_lines) for _ in range(rng.randint(1, 4)))
            parts.append(p)
            size += len(p.encode("utf-8")) + 2
        doc = "\n\n".join(parts)
        docs.append(doc)
        total += len(doc.encode("utf-8"))
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(docs, f, ensure_ascii=False)
    print(f"{len(docs)} documents, {total / 1e6:.2f} MB -> {a.out}")


if __name__ == "__main__":
    main()
