"""Beam search and the decoding controls on a tiny decoder whose probabilities are written out, so
the right answers can be worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from models.captioning.search import DecodeOptions, _banned_ngram_tokens, beam_search, greedy, process_logits

BOS, EOS = 0, 1


class TableDecoder:
    """Next-token log-probabilities looked up by the sequence so far (default: uniform-ish)."""

    def __init__(self, table: dict[tuple, dict[int, float]], vocab: int = 5):
        self.table = table
        self.vocab = vocab

    class State:
        def __init__(self, rows):
            self.rows = rows

        def reorder(self, index):
            self.rows = [list(self.rows[i]) for i in index.tolist()]

    def start(self, images, capacity):
        return self.State([[]])

    def step(self, state, tokens):
        out = torch.full((len(tokens), self.vocab), -50.0)
        for r, t in enumerate(tokens.tolist()):
            state.rows[r] = state.rows[r] + [t]
            for tok, p in self.table.get(tuple(state.rows[r]), {}).items():
                out[r, tok] = math.log(p)
        return out


# greedy takes 2 (0.6) then is stuck with 0.1s; beam finds 3 (0.4) then 1 (0.9): 0.36 > 0.06
TABLE = {
    (BOS,): {2: 0.6, 3: 0.4},
    (BOS, 2): {1: 0.1, 2: 0.1, 3: 0.1, 4: 0.1},
    (BOS, 3): {1: 0.9, 4: 0.1},
    (BOS, 2, 2): {1: 1.0}, (BOS, 2, 3): {1: 1.0}, (BOS, 2, 4): {1: 1.0}, (BOS, 3, 4): {1: 1.0},
}
X = torch.zeros(1, 3, 4, 4)


def test_beam_finds_the_better_sequence_greedy_misses():
    assert greedy(TableDecoder(TABLE), X, BOS, EOS, DecodeOptions(max_len=5))[:2] == [BOS, 2]
    assert beam_search(TableDecoder(TABLE), X, BOS, EOS, DecodeOptions(max_len=5, beam_size=2)) == [BOS, 3, EOS]


def test_length_penalty_changes_the_winner():
    # short: [2, EOS] p = 0.5 ; long: [3, 4, 4, EOS] p = 0.45 * 0.9 * 0.9 * 0.9 = 0.328
    table = {(BOS,): {1: 0.05, 2: 0.5, 3: 0.45}, (BOS, 2): {1: 1.0}, (BOS, 3): {4: 0.9, 1: 0.1},
             (BOS, 3, 4): {4: 0.9, 1: 0.1}, (BOS, 3, 4, 4): {1: 0.9, 4: 0.1}}
    short = beam_search(TableDecoder(table), X, BOS, EOS, DecodeOptions(max_len=6, beam_size=3, length_penalty=0.0))
    assert short == [BOS, 2, EOS]  # log 0.5 = -0.69 > log 0.328 = -1.11
    # normalised by new tokens: -0.69 / 2 = -0.35 < -1.11 / 4 = -0.28
    long = beam_search(TableDecoder(table), X, BOS, EOS, DecodeOptions(max_len=6, beam_size=3, length_penalty=1.0))
    assert long == [BOS, 3, 4, 4, EOS]


def test_repetition_penalty_is_ctrl_style():
    logits = torch.tensor([[2.0, -2.0, 1.0, 3.0]])
    out = process_logits(logits, [[0, 1]], eos=3, opts=DecodeOptions(repetition_penalty=2.0))
    assert out.tolist() == [[1.0, -4.0, 1.0, 3.0]]
    assert logits.tolist() == [[2.0, -2.0, 1.0, 3.0]]  # input untouched


def test_no_repeat_ngram_bans_exactly_the_completions():
    assert _banned_ngram_tokens([5, 6, 7, 5, 6], 3) == {7}
    assert _banned_ngram_tokens([5, 6, 5, 8, 5], 2) == {6, 8}
    assert _banned_ngram_tokens([5, 6], 3) == set()
    out = process_logits(torch.zeros(1, 10), [[5, 6, 7, 5, 6]], eos=1, opts=DecodeOptions(no_repeat_ngram_size=3))
    assert out[0, 7] == float("-inf") and torch.isfinite(out[0, [0, 1, 2, 3, 4, 5, 6, 8, 9]]).all()


def test_min_length_bans_eos_until_reached():
    opts = DecodeOptions(min_length=2)
    assert process_logits(torch.zeros(1, 3), [[BOS, 2]], eos=EOS, opts=opts)[0, EOS] == float("-inf")
    assert process_logits(torch.zeros(1, 3), [[BOS, 2, 2]], eos=EOS, opts=opts)[0, EOS] == 0.0


def test_bad_options_are_loupe_errors():
    from models.captioning.search import generate
    from models.errors import LoupeError

    with pytest.raises(LoupeError, match="beam_size"):
        generate(TableDecoder(TABLE), X, BOS, EOS, DecodeOptions(beam_size=0))
