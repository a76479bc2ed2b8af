"""Caption quality against reference reports: BLEU (sacrebleu), ROUGE-L and CIDEr-D.

ROUGE-L and CIDEr-D follow the coco-caption definitions (Lin 2004 with beta = 1.2, best precision
and recall over the references; Vedantam et al. 2015, CIDEr-D: n = 1..4, tf-idf over the corpus's
references, clipped, Gaussian length penalty with sigma 6, times 10). Texts are lowercased and split
into runs of letters and digits (coco-caption's PTB tokenizer also drops punctuation).
"""

from __future__ import annotations

import math
import re
from collections import Counter

_WORD = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    return _WORD.findall(text.lower())


# -- BLEU ------------------------------------------------------------------------------------------
def bleu(hypotheses: list[str], references: list[list[str]]) -> float:
    """Corpus BLEU-4 (0..100) by sacrebleu; `references[i]` are the references of hypothesis i."""
    import sacrebleu

    if not hypotheses:
        return 0.0
    n_streams = max(len(r) for r in references)
    streams = [[refs[j] if j < len(refs) else None for refs in references] for j in range(n_streams)]
    return float(sacrebleu.corpus_bleu(hypotheses, streams).score)


# -- ROUGE-L ---------------------------------------------------------------------------------------
def lcs_length(a: list[str], b: list[str]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, 1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


def rouge_l_sentence(hypothesis: str, references: list[str], beta: float = 1.2) -> float:
    hyp = tokenize(hypothesis)
    if not hyp or not references:
        return 0.0
    precs, recs = [], []
    for ref in references:
        r = tokenize(ref)
        lcs = lcs_length(hyp, r)
        precs.append(lcs / len(hyp))
        recs.append(lcs / len(r) if r else 0.0)
    p, r = max(precs), max(recs)
    if p == 0 or r == 0:
        return 0.0
    return ((1 + beta ** 2) * p * r) / (r + beta ** 2 * p)


def rouge_l(hypotheses: list[str], references: list[list[str]]) -> float:
    """Mean sentence ROUGE-L F (0..1)."""
    if not hypotheses:
        return 0.0
    return sum(rouge_l_sentence(h, r) for h, r in zip(hypotheses, references)) / len(hypotheses)


# -- CIDEr-D ---------------------------------------------------------------------------------------
def _ngrams(words: list[str], n_max: int = 4) -> Counter:
    c: Counter = Counter()
    for n in range(1, n_max + 1):
        for i in range(len(words) - n + 1):
            c[tuple(words[i:i + n])] += 1
    return c


def _vector(counts: Counter, df: Counter, log_n_docs: float, n_max: int):
    vec = [dict() for _ in range(n_max)]
    norm = [0.0] * n_max
    length = 0
    for gram, tf in counts.items():
        n = len(gram) - 1
        weight = tf * (log_n_docs - math.log(max(1.0, df[gram])))
        vec[n][gram] = weight
        norm[n] += weight ** 2
        if n == 1:  # coco-caption counts bigrams as the length (kept for comparable numbers)
            length += tf
    return vec, [math.sqrt(v) for v in norm], length


def _sim(h, r, n_max: int, sigma: float) -> list[float]:
    (vh, nh, lh), (vr, nr, lr) = h, r
    delta = float(lh - lr)
    out = []
    for n in range(n_max):
        val = sum(min(w, vr[n].get(g, 0.0)) * vr[n].get(g, 0.0) for g, w in vh[n].items())
        if nh[n] != 0 and nr[n] != 0:
            val /= nh[n] * nr[n]
        out.append(val * math.exp(-(delta ** 2) / (2 * sigma ** 2)))
    return out


def cider_scores(hypotheses: list[str], references: list[list[str]], n_max: int = 4,
                 sigma: float = 6.0) -> list[float]:
    """CIDEr-D of each hypothesis; document frequencies come from all the references given."""
    ref_counts = [[_ngrams(tokenize(r), n_max) for r in refs] for refs in references]
    df: Counter = Counter()
    for counts in ref_counts:
        for gram in set(g for c in counts for g in c):
            df[gram] += 1
    log_n = math.log(float(len(references))) if references else 0.0
    scores = []
    for hyp, counts in zip(hypotheses, ref_counts):
        hv = _vector(_ngrams(tokenize(hyp), n_max), df, log_n, n_max)
        total = [0.0] * n_max
        for rc in counts:
            for i, s in enumerate(_sim(hv, _vector(rc, df, log_n, n_max), n_max, sigma)):
                total[i] += s
        mean_n = sum(total) / n_max
        scores.append(mean_n / max(len(counts), 1) * 10.0)
    return scores


def cider(hypotheses: list[str], references: list[list[str]]) -> float:
    s = cider_scores(hypotheses, references)
    return sum(s) / len(s) if s else 0.0


def caption_metrics(hypotheses: list[str], references: list[list[str]]) -> dict[str, float]:
    """{"bleu": 0..100, "rouge_l": 0..1, "cider": 0..10, "n": count} over a corpus."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} captions but {len(references)} reference lists")
    return {"bleu": bleu(hypotheses, references), "rouge_l": rouge_l(hypotheses, references),
            "cider": cider(hypotheses, references), "n": len(hypotheses)}
