"""CSV detection shortcuts give the results of the cell-by-cell and full rules."""

from __future__ import annotations

import random

import pytest

from sentinel.files._encoding import guess_single_byte


def guess_by_byte(data: bytes) -> str:
    """The single-byte encoding rule, checking one byte at a time."""
    high = [byte for byte in data if byte >= 0x80]
    runs: list[int] = []
    length = 0
    for byte in [*data, 0]:
        if 0xB6 <= byte <= 0xFE:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    letters = sum(runs)
    in_runs = sum(run for run in runs if run > 1)
    greek = letters > 0 and in_runs / letters >= 0.6
    if greek and not {0xAE, 0xD2, 0xFF} & set(high):
        return "iso-8859-7"
    controls = {byte for byte in high if byte < 0xA0}
    if controls and not {0x81, 0x8D, 0x8F, 0x90, 0x9D} & controls:
        return "cp1252"
    return "latin-1"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Αθήνα,Θεσσαλονίκη".encode("iso-8859-7"), "iso-8859-7"),
        ("Année, Nabrežina, €5".encode("cp1252"), "cp1252"),
        ("Année, Zürich".encode("latin-1"), "latin-1"),
        ("Αθήνα".encode("iso-8859-7") + b"\xff", "latin-1"),
    ],
    ids=["greek", "cp1252", "latin-1", "greek-undefined-byte"],
)
def test_guess_single_byte(data: bytes, expected: str) -> None:
    assert guess_single_byte(data).encoding == expected
    assert guess_by_byte(data) == expected


def test_guess_single_byte_random_bytes() -> None:
    rng = random.Random(5)
    for _ in range(3000):
        pool = [rng.randrange(256) for _ in range(rng.randint(1, 6))] + [0x61, 0x20]
        data = bytes(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        assert guess_single_byte(data).encoding == guess_by_byte(data), data
