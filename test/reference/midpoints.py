"""Decimals that a double-rounding conversion gets wrong (for sql/features.sql).

src/pg/common/features.cpp converts a numeric with a significand below 2^63 and a power of ten up to
10^27 by computing in long double (64-bit significand) and rounding to double. Rounding twice is
exact unless the first rounding lands exactly on a midpoint between two doubles; the code detects
that case. This script finds decimals that trigger it: at most 19 significant digits (so the
significand fits in 63 bits), within half a 64-bit ulp of the midpoint M between a double D with
an odd significand and its successor, and just below M. Their correctly rounded double is D; a
conversion that rounds to 64 bits first gets M, and ties-to-even then gives D's successor.

Exact rational arithmetic (fractions) throughout; Python's float() (correctly rounded) confirms
each value. Deterministic (fixed seed). Usage: /usr/bin/python3 test/reference/midpoints.py
"""

import random
import struct
from fractions import Fraction


def ulp64(x):
    """The ulp of a 64-bit-significand number in x's binade (x > 0)."""
    e = x.numerator.bit_length() - x.denominator.bit_length()
    while Fraction(2) ** e > x:
        e -= 1
    while Fraction(2) ** (e + 1) <= x:
        e += 1
    return Fraction(2) ** (e - 63)


def main(count=80, seed=7):
    random.seed(seed)
    out = []
    while len(out) < count:
        d = random.uniform(1, 2) * 10 ** random.randint(-8, 40)
        bits = struct.unpack("<Q", struct.pack("<d", d))[0]
        if bits & 1 == 0:
            continue  # D odd: the tie at M goes to the successor, away from D
        lo = Fraction(d)
        hi = Fraction(struct.unpack("<d", struct.pack("<Q", bits + 1))[0])
        M = (lo + hi) / 2
        # The largest decimal of 19 significant digits (significand < 2^63) below M.
        e10 = len(str(int(M))) - 19 if M >= 1 else -(19 + len(str(int(1 / M))) - 1)
        m = int(M / Fraction(10) ** e10)
        while m >= 2 ** 63:
            m //= 10
            e10 += 1
        v = Fraction(m) * Fraction(10) ** e10
        if v >= M or not -27 <= e10 <= 27 or M - v >= ulp64(M) / 2:
            continue
        digits = str(m)
        if e10 >= 0:
            txt = digits + "0" * e10
        elif len(digits) > -e10:
            txt = digits[:e10] + "." + digits[e10:]
        else:
            txt = "0." + digits.rjust(-e10, "0")
        assert Fraction(txt) == v and float(txt) == d, (txt, d)
        out.append(txt)
    print(",\n".join("('%s')" % t for t in out))


if __name__ == "__main__":
    main()
