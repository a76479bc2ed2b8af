"""The captioner's WordPiece tokenizer, built from a local vocabulary and checked.

transformers 5 silently ignores `BertTokenizer(vocab_file=...)` (it builds a 5-token vocabulary), so
the file is passed as `vocab=`; the result is checked against the file's line count, the [CLS]/[SEP]
ids the card uses and, when known, the embedding size of the weights.
"""

from __future__ import annotations

from pathlib import Path

from models.errors import ModelSpecError

CLS_ID = 101
SEP_ID = 102


def _vocab_file(path: Path) -> Path:
    if path.is_dir():
        candidate = path / "vocab.txt"
        if not candidate.is_file():
            raise ModelSpecError(f"{path}: tokenizer folder has no vocab.txt")
        return candidate
    return path


def load_tokenizer(path, expected_size: int | None = None):
    """A `BertTokenizer` from `vocab.txt` (or a folder holding one), checked."""
    if path is None:
        raise ModelSpecError("the captioner needs its vocabulary: pass vocab=PATH "
                             "(bert-base-uncased vocab.txt or a tokenizer folder)")
    path = Path(path)
    if not path.exists():
        raise ModelSpecError(f"{path}: vocabulary file not found")
    vocab_file = _vocab_file(path)
    try:
        lines = vocab_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelSpecError(f"{vocab_file}: cannot read the vocabulary ({exc})") from exc
    n_lines = len(lines)
    if expected_size is not None and n_lines != expected_size:
        raise ModelSpecError(
            f"{vocab_file}: vocabulary has {n_lines} lines but the captioner's weights expect "
            f"{expected_size} (bert-base-uncased has 30522)")

    from transformers import BertTokenizer

    tok = BertTokenizer(vocab=str(vocab_file))
    if tok.vocab_size != n_lines:
        raise ModelSpecError(
            f"{vocab_file}: tokenizer has {tok.vocab_size} entries but the file has {n_lines} lines "
            "(duplicate or blank lines?)")
    if tok.cls_token_id != CLS_ID or tok.sep_token_id != SEP_ID:
        raise ModelSpecError(
            f"{vocab_file}: [CLS]/[SEP] have ids {tok.cls_token_id}/{tok.sep_token_id}, "
            f"the captioner needs {CLS_ID}/{SEP_ID} (bert-base-uncased)")
    return tok
