"""Greedy decoding (the card's tokens) and beam search with the usual controls.

Both run on `IncrementalDecoder`. Greedy with default options is exactly the card's loop: start at
[CLS], append the argmax of each step's logits, stop after [SEP] or `max_len` new tokens.
`greedy_batch` decodes several images together (one weight pass per step serves them all).
Controls (greedy and beam): `repetition_penalty` (CTRL-style: positive logits of tokens already
generated are divided by it, negative ones multiplied), `no_repeat_ngram_size` (a token that would
repeat an n-gram is banned), `min_length` ([SEP] banned before that many new tokens). Beam search
adds `length_penalty` (finished scores are sum of log-probabilities / new_tokens ** length_penalty).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

NEG_INF = float("-inf")


@dataclass
class DecodeOptions:
    max_len: int = 80
    beam_size: int = 1
    length_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    repetition_penalty: float = 1.0
    min_length: int = 0

    def validate(self) -> None:
        from models.errors import LoupeError

        if self.max_len < 1 or self.beam_size < 1:
            raise LoupeError(f"max_len and beam_size must be >= 1 (got {self.max_len}, {self.beam_size})")
        if self.repetition_penalty <= 0:
            raise LoupeError(f"repetition_penalty must be > 0 (got {self.repetition_penalty})")


def _banned_ngram_tokens(seq: list[int], n: int) -> set[int]:
    if n <= 0 or len(seq) < n:
        return set()
    prefix = tuple(seq[len(seq) - n + 1:]) if n > 1 else ()
    banned = set()
    for i in range(len(seq) - n + 1):
        if tuple(seq[i:i + n - 1]) == prefix:
            banned.add(seq[i + n - 1])
    return banned


def process_logits(logits: torch.Tensor, seqs: list[list[int]], eos: int, opts: DecodeOptions) -> torch.Tensor:
    """Apply the controls to (B, V) logits of the next token after each of `seqs`."""
    if opts.repetition_penalty != 1.0:
        logits = logits.clone()
        for row, seq in enumerate(seqs):
            idx = torch.tensor(sorted(set(seq)), device=logits.device)
            vals = logits[row, idx]
            logits[row, idx] = torch.where(vals < 0, vals * opts.repetition_penalty,
                                           vals / opts.repetition_penalty)
    if opts.min_length and len(seqs[0]) - 1 < opts.min_length:
        logits = logits.clone()
        logits[:, eos] = NEG_INF
    if opts.no_repeat_ngram_size > 0:
        for row, seq in enumerate(seqs):
            banned = _banned_ngram_tokens(seq, opts.no_repeat_ngram_size)
            if banned:
                logits[row, list(banned)] = NEG_INF
    return logits


def _plain(opts: DecodeOptions) -> bool:
    return opts.repetition_penalty == 1.0 and not opts.min_length and opts.no_repeat_ngram_size <= 0


@torch.no_grad()
def greedy(decoder, images: torch.Tensor, bos: int, eos: int, opts: DecodeOptions) -> list[int]:
    state = decoder.start(images, opts.max_len)
    tokens = [bos]
    last = torch.tensor([bos], device=images.device)
    for _ in range(opts.max_len):
        logits = decoder.step(state, last)
        if not _plain(opts):
            logits = process_logits(logits, [tokens], eos, opts)
        last = logits.argmax(dim=-1)
        tokens.append(int(last))
        if tokens[-1] == eos:
            break
    return tokens


# A batch row whose best two logits come closer than this (relative to the best) leaves the batch and
# is decoded alone: batched and one-row products round differently (measured: up to 3e-5 on logits
# of ~20, i.e. 1.5e-6 relative), so only such a near-tie could give the batch another token.
NEAR_TIE = 5e-5


@torch.no_grad()
def greedy_batch(decoder, images: torch.Tensor, bos: int, eos: int, opts: DecodeOptions) -> list[list[int]]:
    """Greedy decoding of a batch of images at once: each step streams the decoder's weights once for
    every image still going (an image that reached [SEP] leaves the batch). Every image gets exactly
    the tokens `greedy` gives it alone: a row that meets a near-tie (`NEAR_TIE`) is decoded again
    alone, so float rounding of batched products never changes a caption."""
    if images.shape[0] == 1:
        return [greedy(decoder, images, bos, eos, opts)]
    state = decoder.start(images, opts.max_len)
    seqs = [[bos] for _ in range(images.shape[0])]
    alone: list[int] = []  # images to decode alone
    rows = list(range(images.shape[0]))  # image of each row of `state`
    last = torch.full((len(rows),), bos, dtype=torch.long, device=images.device)
    for _ in range(opts.max_len):
        logits = decoder.step(state, last)
        if not _plain(opts):
            logits = process_logits(logits, [seqs[i] for i in rows], eos, opts)
        top = logits.topk(2, dim=-1).values
        close = ((top[:, 0] - top[:, 1]) <= NEAR_TIE * top[:, 0].abs().clamp(min=1.0)).tolist()
        last = logits.argmax(dim=-1)
        going = []
        for row, (i, tok) in enumerate(zip(rows, last.tolist())):
            if close[row]:
                alone.append(i)
                continue
            seqs[i].append(tok)
            if tok != eos:
                going.append(row)
        if not going:
            break
        if len(going) < len(rows):
            index = torch.tensor(going, device=images.device)
            state.keep(index)
            last = last.index_select(0, index)
            rows = [rows[r] for r in going]
    for i in alone:
        seqs[i] = greedy(decoder, images[i:i + 1], bos, eos, opts)
    return seqs


@torch.no_grad()
def beam_search(decoder, images: torch.Tensor, bos: int, eos: int, opts: DecodeOptions) -> list[int]:
    k = opts.beam_size
    state = decoder.start(images, opts.max_len)
    state.reorder(torch.zeros(k, dtype=torch.long, device=images.device))
    seqs = [[bos] for _ in range(k)]
    scores = torch.full((k,), NEG_INF, device=images.device)
    scores[0] = 0.0  # all beams start identical: expand only the first
    finished: list[tuple[float, list[int]]] = []

    def norm(score: float, n_new: int) -> float:
        return score / (max(n_new, 1) ** opts.length_penalty)

    for step in range(opts.max_len):
        last = torch.tensor([s[-1] for s in seqs], device=images.device)
        logits = process_logits(decoder.step(state, last), seqs, eos, opts)
        logp = torch.log_softmax(logits.float(), dim=-1) + scores[:, None]
        vocab = logp.shape[-1]
        top_v, top_i = logp.view(-1).topk(2 * k)
        alive: list[tuple[float, int, list[int]]] = []
        for v, i in zip(top_v.tolist(), top_i.tolist()):
            if v == NEG_INF:
                break
            beam, tok = divmod(i, vocab)
            seq = seqs[beam] + [tok]
            if tok == eos:
                finished.append((norm(v, step + 1), seq))
            else:
                alive.append((v, beam, seq))
            if len(alive) == k:
                break
        if not alive:
            break
        finished.sort(key=lambda f: -f[0])
        finished = finished[:k]
        if len(finished) >= k and finished[-1][0] >= norm(alive[0][0], step + 1):
            break  # no live hypothesis can still beat the k finished ones (length_penalty >= 0)
        while len(alive) < k:  # fewer live candidates than beams: pad with a dead copy
            alive.append((NEG_INF, alive[0][1], alive[0][2]))
        state.reorder(torch.tensor([a[1] for a in alive], device=images.device))
        seqs = [a[2] for a in alive]
        scores = torch.tensor([a[0] for a in alive], device=images.device)
    else:
        for s, seq in zip(scores.tolist(), seqs):
            if s != NEG_INF:
                finished.append((norm(s, opts.max_len), seq))
    if not finished:  # every hypothesis was cut short by `alive` running out
        return seqs[0]
    return max(finished, key=lambda f: f[0])[1]


def generate(decoder, images: torch.Tensor, bos: int, eos: int, opts: DecodeOptions) -> list[int]:
    opts.validate()
    if opts.beam_size == 1:
        return greedy(decoder, images, bos, eos, opts)
    return beam_search(decoder, images, bos, eos, opts)


def generate_batch(decoder, images: torch.Tensor, bos: int, eos: int, opts: DecodeOptions) -> list[list[int]]:
    """Token ids for each of a batch of images: greedy decodes them together; beam search (whose k
    hypotheses already share each step's weight pass) runs image by image."""
    opts.validate()
    if opts.beam_size == 1:
        return greedy_batch(decoder, images, bos, eos, opts)
    return [beam_search(decoder, images[i:i + 1], bos, eos, opts) for i in range(images.shape[0])]
