"""Byte mutations of real model files: shared by the property test and the by-hand fuzzer."""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted(
    p
    for p in [
        ROOT / "samples" / "or.hdf",
        ROOT / "samples" / "xor.h5",
        *(ROOT / "tests" / "fixtures").glob("keras3/seq_dense_keras.keras"),
        *(ROOT / "tests" / "fixtures").glob("keras2/dense_nobias_weights.h5"),
    ]
    if p.exists()
)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Flip, overwrite, cut, duplicate or delete a few bytes, as damage or a forger would."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if not out:  # cut to nothing: nothing left to change
            break
        kind, at = rng.randrange(5), rng.randrange(len(out))
        if kind == 0:
            out[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            out[at : at + 4] = rng.randbytes(4)
        elif kind == 2:
            del out[at:]
        elif kind == 3:
            out[at:at] = out[at : at + rng.randint(1, 64)]
        else:
            del out[at : at + rng.randint(1, 64)]
    return bytes(out)


def mutant(salt: int, folder: Path) -> tuple[Path, Path]:
    """(seed file, mutated copy written into folder) for one salt; the same salt, the same bytes."""
    seed = SEEDS[salt % len(SEEDS)]
    target = folder / f"mutant{seed.suffix}"
    target.write_bytes(mutate(seed.read_bytes(), random.Random(salt)))
    return seed, target
