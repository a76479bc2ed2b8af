"""What the quiz shows after an answer: the expert boxes over the learner's marks (hits, misses
and false marks in their own colours and words) and the score and case text as HTML."""

from __future__ import annotations

import html

from desktop.ui.teaching.film_view import FALSE, HIT, MISS, FilmView


def draw_reveal(view: FilmView, expert, learner, score, image_id: int) -> None:
    """Expert boxes and learner marks of one image, coloured by the score's pairs."""
    hit_expert = {i: v for i, _j, v in score.pairs}
    hit_learner = {j: v for _i, j, v in score.pairs}
    view.expert.clear()
    view.marks.clear()
    for i, m in enumerate(expert):
        if m.image != image_id:
            continue
        if i in hit_expert:
            view.add_outline((m.x, m.y, m.w, m.h), HIT, m.label, width=2.5)
        else:
            view.add_outline((m.x, m.y, m.w, m.h), MISS, f"{m.label}: missed", width=2.5)
    for j, m in enumerate(learner):
        if m.image != image_id:
            continue
        if j in hit_learner:
            item = view.add_outline((m.x, m.y, m.w, m.h), HIT, None, dashed=True, layer=view.marks)
            item.set_tag(f"yours: IoU {hit_learner[j]:.2f}", HIT)
            item.tag.setPos(item.rect().bottomLeft())
            item.tag.moveBy(0, item.tag.boundingRect().height())
        else:
            item = view.add_outline((m.x, m.y, m.w, m.h), FALSE, f"yours: {m.label}, false mark", dashed=True,
                                    layer=view.marks)


def score_html(score) -> str:
    e = score.expert_boxes
    if e:
        boxes = (f"<b>{score.hits} of {e}</b> finding{'s' if e != 1 else ''} found"
                 f" &nbsp;·&nbsp; {score.misses} missed &nbsp;·&nbsp; {score.false_marks} false mark"
                 f"{'s' if score.false_marks != 1 else ''}")
        if score.mean_iou is not None:
            boxes += f"<br>Mean overlap (IoU) of the hits: <b>{score.mean_iou:.2f}</b>"
    elif score.learner_marks:
        boxes = f"This case has no expert boxes: {score.learner_marks} false mark{'s' if score.learner_marks != 1 else ''}"
    else:
        boxes = "This case has no expert boxes, and you marked none."
    lines = [boxes]
    if score.per_label and len(score.per_label) > 1:
        rows = "".join(f"<li>{html.escape(lab)}: {v.hits}/{v.expert} found"
                       + (f", {v.false_marks} false" if v.false_marks else "") + "</li>"
                       for lab, v in score.per_label.items())
        lines.append(f"<ul style='margin-top:2px'>{rows}</ul>")
    given = html.escape(score.diagnosis_given.strip() or "(none)")
    if score.diagnosis_correct is True:
        lines.append(f"Diagnosis: <b style='color:{HIT}'>right</b> ({given})")
    elif score.diagnosis_correct is False:
        lines.append(f"Diagnosis: <b style='color:{FALSE}'>wrong</b>: you answered {given}; the answer is "
                     f"<b>{html.escape(score.diagnosis_expected)}</b>")
    else:
        lines.append("This case has no diagnosis to score.")
    return "<br>".join(lines)


def case_html(case) -> str:
    parts = []
    for title, value in (("Diagnosis", case.diagnosis), ("Findings", case.findings),
                         ("Differential", "; ".join(case.differential)), ("Discussion", case.discussion)):
        if value and value.strip():
            text = html.escape(value.strip()).replace("\n", "<br>")
            parts.append(f"<p style='margin:4px 0'><b>{title}</b><br>{text}</p>")
    return "".join(parts) or "<p><i>The educator wrote no findings for this case.</i></p>"


def legend_html() -> str:
    return (f"<span style='color:{HIT}'>■</span> found &nbsp; <span style='color:{MISS}'>■</span> missed &nbsp; "
            f"<span style='color:{FALSE}'>■</span> false mark &nbsp; (dashed: your marks)")
