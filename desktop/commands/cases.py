"""`loupe cases FOLDER [--search WORDS] [--in keywords,diagnosis] [--json]`: the folder's teaching
cases, or those the search finds (the same search as the window's Cases dock: every word, as a
prefix, FTS5 or LIKE; desktop/core/teaching/search.py). One line per case (id, name, images,
diagnosis, keywords), or JSON with every field.

`loupe cases FOLDER --results results.csv`: the quiz results, one row per learner x case (each
learner's last attempt), as Teaching ▸ Quiz Results… ▸ Export CSV writes them; the summary per
case and per finding label goes to stderr.
"""

from __future__ import annotations

import json
import sys


def add_arguments(parser) -> None:
    parser.add_argument("folder", help="the image folder whose teaching cases to list")
    parser.add_argument("--search", default="", help="words every listed case must hold (word prefixes)")
    parser.add_argument("--in", dest="fields", default="",
                        help="search only these fields, comma separated (title, history, findings, diagnosis, "
                             "discussion, differential, keywords)")
    parser.add_argument("--json", action="store_true", help="print the cases as JSON with every field")
    parser.add_argument("--results", metavar="CSV", help="write the quiz results here (CSV) instead")


def run(args) -> int:
    from desktop.core.store import open_store
    from desktop.core.teaching import CaseBook
    from desktop.core.teaching.results import require_results, summarise, write_results_csv

    fields = [f.strip() for f in args.fields.split(",") if f.strip()] or None
    with open_store(args.folder) as store:
        if store.note:
            print(f"loupe cases: {store.note}", file=sys.stderr)
        book = CaseBook(store)
        if args.results:
            require_results(store)
            n = write_results_csv(store, args.results)
            print(f"loupe cases: wrote {n} result row(s) to {args.results}", file=sys.stderr)
            per_case, per_label = summarise(store)
            for c in per_case:
                rate = "-" if c.hit_rate is None else f"{c.hit_rate:.0%}"
                print(f"case {c.case_id} {c.name}: {c.learners} learner(s), findings found {c.hits}/{c.expert_boxes} "
                      f"({rate}), diagnosis right {c.diagnosis_right}/{c.diagnosis_scored}", file=sys.stderr)
            for lab in per_label:
                rate = "-" if lab.hit_rate is None else f"{lab.hit_rate:.0%}"
                print(f"finding {lab.label}: found {lab.hits}/{lab.expert_boxes} ({rate}), "
                      f"{lab.false_marks} false mark(s)", file=sys.stderr)
            return 0
        ids = book.search(args.search, fields) if args.search.strip() else None
        cases = book.cases(ids)
        if args.json:
            out = []
            for c in cases:
                out.append({"id": c.id, "title": c.title, "history": c.history, "findings": c.findings,
                            "diagnosis": c.diagnosis, "discussion": c.discussion,
                            "differential": list(c.differential), "keywords": list(c.keywords),
                            "difficulty": c.difficulty,
                            "images": [str(p.relative_to(store.folder)) for p in book.image_paths(c.id)]})
            print(json.dumps(out, indent=1, ensure_ascii=False))
        else:
            for c in cases:
                images = ", ".join(p.name for p in book.image_paths(c.id))
                keywords = f" [{', '.join(c.keywords)}]" if c.keywords else ""
                print(f"{c.id}\t{c.name()}\t{images}{keywords}")
        if not cases:
            what = f"no teaching case matches {args.search!r}" if args.search.strip() else "no teaching cases yet"
            print(f"loupe cases: {args.folder}: {what}", file=sys.stderr)
    return 0
