"""CSV dialect detection that copes with files where csv.Sniffer guesses wrong."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any

# Candidates in order of preference when two fit a sample equally well.
DELIMITERS = (",", ";", "\t", ":", "|")
DELIMITER_NAMES = {
    ",": "comma",
    ";": "semicolon",
    "\t": "tab",
    ":": "colon",
    "|": "pipe",
}
MAX_SAMPLE_RECORDS = 500
# A delimiter whose records agree almost as often as the best one's still
# competes on field count, so a few ragged rows do not decide the delimiter.
CONSISTENCY_SLACK = 0.1


@dataclass(frozen=True, slots=True)
class Dialect:
    """The delimiter and quoting rules of a delimited text file, with the reason."""

    delimiter: str
    quotechar: str = '"'
    skipinitialspace: bool = False
    escapechar: str | None = None
    reason: str = ""

    def reader_options(self) -> dict[str, Any]:
        """Return keyword arguments for :func:`csv.reader`."""
        return {
            "delimiter": self.delimiter,
            "quotechar": self.quotechar,
            "skipinitialspace": self.skipinitialspace,
            "escapechar": self.escapechar,
            "doublequote": True,
            "strict": False,
        }

    @property
    def delimiter_name(self) -> str:
        """The delimiter as a word (comma, semicolon, tab, colon, pipe)."""
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


@dataclass(frozen=True, slots=True)
class _Fit:
    delimiter: str
    consistency: float
    fields: int
    # The sample's non-empty records as read with the reader options of
    # Dialect(delimiter): those the fit read, then the rest lazily.
    records: Iterator[list[str]] | None = None


def detect_dialect(
    sample: str, complete: bool, delimiter: str | None = None
) -> Dialect:
    """Detect the dialect of ``sample``, the first part of a delimited file.

    ``complete`` is true when the sample is the whole file; when it is not,
    its last record may be cut and is left out. A given ``delimiter`` skips
    delimiter detection.
    """
    return read_dialect(sample, complete, delimiter)[0]


def read_dialect(
    sample: str, complete: bool, delimiter: str | None = None
) -> tuple[Dialect, Iterator[list[str]] | None]:
    """Detect the dialect of ``sample`` and return it with the sample's records.

    The records are the non-empty ones that :func:`csv.reader` yields with
    the dialect's reader options, taken from the parse that chose the
    delimiter. They are None when no such parse matches the dialect: for a
    given delimiter, a single column, or quoting after spaces or backslashes.
    """
    records: Iterator[list[str]] | None = None
    if delimiter is not None:
        reason = f"{DELIMITER_NAMES.get(delimiter, repr(delimiter))} by file type"
    else:
        fit, reason = _detect_delimiter(sample, complete)
        delimiter, records = fit.delimiter, fit.records
    skip_space = _quotes_follow_space(sample, delimiter)
    escape = "\\" if _has_backslash_quotes(sample, delimiter) else None
    if skip_space:
        reason += "; quoted fields start after a space"
        records = None
    if escape:
        reason += "; quotes escaped with backslashes"
        records = None
    return Dialect(delimiter, '"', skip_space, escape, reason), records


def _detect_delimiter(sample: str, complete: bool) -> tuple[_Fit, str]:
    fits = [_fit(sample, complete, delimiter) for delimiter in DELIMITERS]
    usable = [fit for fit in fits if fit.fields > 1]
    if not usable:
        return _Fit(",", 0.0, 1), "one column; no candidate delimiter splits the lines"
    best = max(fit.consistency for fit in usable)
    close = [fit for fit in usable if fit.consistency >= best - CONSISTENCY_SLACK]
    chosen = max(close, key=lambda fit: (fit.fields, -DELIMITERS.index(fit.delimiter)))
    name = DELIMITER_NAMES[chosen.delimiter]
    share = round(chosen.consistency * 100)
    return chosen, f"{name}: {share}% of sampled records have {chosen.fields} fields"


def _fit(sample: str, complete: bool, delimiter: str) -> _Fit:
    if delimiter not in sample:
        # Every record is one field, so this delimiter cannot be chosen.
        return _Fit(delimiter, 1.0, 1)
    stream = io.StringIO(sample, newline="")
    reader = csv.reader(stream, **Dialect(delimiter).reader_options())
    records: list[list[str]] = []
    try:
        for record in reader:
            if record:
                records.append(record)
            if len(records) > MAX_SAMPLE_RECORDS:
                break
    except csv.Error:
        return _Fit(delimiter, 0.0, 0)
    rest = chain(records, filter(None, reader))
    counts = list(map(len, records))
    if not complete and len(counts) > 1:
        counts.pop()
    if not counts:
        return _Fit(delimiter, 0.0, 0, rest)
    fields, agreeing = Counter(counts).most_common(1)[0]
    return _Fit(delimiter, agreeing / len(counts), fields, rest)


def _quotes_follow_space(sample: str, delimiter: str) -> bool:
    spaced = len(re.findall(re.escape(delimiter) + r' +"', sample))
    tight = len(re.findall(re.escape(delimiter) + r'"', sample))
    return spaced > 0 and spaced > tight


def _has_backslash_quotes(sample: str, delimiter: str) -> bool:
    # A backslash before a quote that does not end the field is an escape;
    # '"C:\dir\",' is a Windows path ending in a backslash, not an escape.
    pattern = r'\\"(?![' + re.escape(delimiter) + r"\r\n]|$)"
    return re.search(pattern, sample, flags=re.MULTILINE) is not None
