"""Quiz scoring on planted learner marks, against IoUs worked out by hand (decision 0141)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop.core.teaching.scoring import Mark, diagnosis_correct, iou, match, score_case


def strip(label, x0, x1, image=0):
    """A box 10 px tall from x0 to x1 at y 0..10: IoU of two strips is overlap / union of the x spans."""
    return Mark(label, x0, 0, x1 - x0, 10, image)


def test_iou_by_hand():
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (0, 0, 10, 20)) == pytest.approx(0.5)
    assert iou((0, 0, 10, 10), (10, 0, 10, 10)) == 0.0  # touching edges share no area
    assert iou((0, 0, 10, 10), (2, 2, 5, 5)) == pytest.approx(25 / 100)


def test_optimal_matching_differs_from_greedy():
    # E1 [10,20], E2 [13,23]; L1 [11,21], L2 [8,18]
    # IoU(E1,L1) = 9/11 = 0.818 (the best single pair), IoU(E2,L1) = 8/12, IoU(E1,L2) = 8/12,
    # IoU(E2,L2) = 5/15 < 0.5. Greedy takes E1-L1 and leaves E2 with no partner: 1 hit.
    # The largest total is E1-L2 + E2-L1 = 4/3 > 9/11: 2 hits, mean IoU 2/3.
    expert = [strip("Nodule", 10, 20), strip("Nodule", 13, 23)]
    learner = [strip("Nodule", 11, 21), strip("Nodule", 8, 18)]
    assert iou(expert[0], learner[0]) == pytest.approx(9 / 11)
    assert iou(expert[1], learner[1]) == pytest.approx(5 / 15)
    assert sorted(match(expert, learner)) == [(0, 1, pytest.approx(8 / 12)), (1, 0, pytest.approx(8 / 12))]
    s = score_case(expert, learner)
    assert (s.hits, s.misses, s.false_marks) == (2, 0, 0)
    assert s.mean_iou == pytest.approx(2 / 3)


def test_two_labels_a_false_mark_a_miss_and_a_wrong_label():
    expert = [strip("Nodule", 10, 20), strip("Nodule", 13, 23),
              Mark("Mass", 100, 100, 20, 20),          # hit by L3: overlap 15x20 = 300, union 500 -> 0.6
              Mark("Effusion", 200, 0, 30, 30)]        # missed: the learner put a Mass there
    learner = [strip("Nodule", 11, 21), strip("Nodule", 8, 18),
               Mark("Mass", 105, 100, 20, 20),
               Mark("Mass", 300, 300, 10, 10),          # false: nothing there
               Mark("Mass", 200, 0, 30, 30)]            # false: right place, wrong label
    s = score_case(expert, learner, "Metastases", "  metastases ")
    assert (s.expert_boxes, s.learner_marks) == (4, 5)
    assert (s.hits, s.misses, s.false_marks) == (3, 1, 2)
    assert s.mean_iou == pytest.approx((2 / 3 + 2 / 3 + 0.6) / 3)
    assert s.diagnosis_correct is True
    nodule, mass, effusion = s.per_label["Nodule"], s.per_label["Mass"], s.per_label["Effusion"]
    assert (nodule.expert, nodule.learner, nodule.hits, nodule.misses, nodule.false_marks) == (2, 2, 2, 0, 0)
    assert (mass.expert, mass.learner, mass.hits, mass.misses, mass.false_marks) == (1, 3, 1, 0, 2)
    assert (effusion.expert, effusion.learner, effusion.hits, effusion.misses) == (1, 0, 0, 1)
    assert mass.iou_sum == pytest.approx(0.6) and effusion.hit_rate == 0.0 and nodule.hit_rate == 1.0
    assert s.learner_iou() == {0: pytest.approx(2 / 3), 1: pytest.approx(2 / 3), 2: pytest.approx(0.6)}


def test_empty_answer_misses_everything():
    expert = [Mark("Nodule", 0, 0, 10, 10), Mark("Mass", 50, 50, 10, 10)]
    s = score_case(expert, [], "Nodule", "")
    assert (s.hits, s.misses, s.false_marks, s.mean_iou) == (0, 2, 0, None)
    assert s.diagnosis_correct is False


def test_threshold_is_inclusive_and_below_it_is_no_hit():
    at_half = score_case([Mark("A", 0, 0, 10, 10)], [Mark("A", 0, 0, 10, 20)])
    assert (at_half.hits, at_half.mean_iou) == (1, pytest.approx(0.5))
    below = score_case([Mark("A", 0, 0, 10, 10)], [Mark("A", 0, 0, 10, 21)])  # 100/210
    assert (below.hits, below.misses, below.false_marks) == (0, 1, 1)


def test_boxes_on_different_images_of_a_case_never_match():
    s = score_case([Mark("A", 0, 0, 10, 10, image=1)], [Mark("A", 0, 0, 10, 10, image=2)])
    assert (s.hits, s.misses, s.false_marks) == (0, 1, 1)


def test_one_learner_mark_hits_one_expert_box_only():
    expert = [Mark("A", 0, 0, 10, 10), Mark("A", 1, 0, 10, 10)]
    s = score_case(expert, [Mark("A", 0, 0, 10, 10)])
    assert (s.hits, s.misses, s.false_marks) == (1, 1, 0)
    assert s.mean_iou == pytest.approx(1.0)  # the exact box, not its neighbour (IoU 9/11)


@pytest.mark.parametrize("expected, given, result", [
    ("Pneumothorax", "pneumothorax", True), ("Pneumothorax", "  PNEUMOTHORAX\n", True),
    ("Right  upper lobe collapse", "right upper lobe collapse", True),
    ("Pneumothorax", "Pneumonia", False), ("Pneumothorax", "", False), ("", "anything", None),
])
def test_diagnosis_is_compared_trimmed_and_ignoring_case(expected, given, result):
    assert diagnosis_correct(expected, given) is result


boxes = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30), st.integers(4, 20), st.integers(4, 20)),
                 min_size=0, max_size=4)


@given(boxes, boxes)
def test_matching_gives_the_largest_total_iou_of_any_one_to_one_pairing(expert, learner):
    # the reference: every injective pairing, by brute force, pairs below 0.5 not allowed
    pairs = match(expert, learner)
    best = 0.0
    small, large, flip = (expert, learner, False) if len(expert) <= len(learner) else (learner, expert, True)
    for perm in itertools.permutations(range(len(large)), len(small)):
        total = 0.0
        for i, j in enumerate(perm):
            v = iou(small[i], large[j]) if not flip else iou(large[j], small[i])
            total += v if v >= 0.5 else 0.0
        best = max(best, total)
    assert sum(v for _i, _j, v in pairs) == pytest.approx(best)
    assert all(v >= 0.5 for _i, _j, v in pairs)
    assert len({i for i, _j, _v in pairs}) == len(pairs) == len({j for _i, j, _v in pairs})
