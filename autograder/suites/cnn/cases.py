"""The geometries the CNN suites test, grouped by what each group varies.

One group is one check per entry point (the function, and the layer's
forward and backward), so a submission that lacks one feature loses only
the checks of that feature: "stride" varies an int stride alone with every
other parameter at its default, "pairs" varies two or more together, and
"defaults" leaves every parameter out or passes its default value.

Sizes are chosen so that no mistake hides (COVERAGE.md, generated from the
suites by bench/suite_coverage.py, shows what is covered; tests/test_coverage.py keeps
it so):
- N, C, F, H, W, KH, KW (and the pooling window) are pairwise distinct, and
  so are H_out and W_out, unless the case is square on purpose: a swapped
  or transposed axis then changes a shape. A window side equal to x's is
  allowed where it is the edge tested (a window exactly as long as x).
- Stride and padding values differ from each other within a call.
- Wherever a stride is above 1, an axis has a quotient (size + 2p - k) / s
  whose floor differs from its ceil, round-half-even and round-half-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

class _Omit:
    def __repr__(self):
        return "OMIT"


OMIT = _Omit()  # a parameter left out of the call, so the function's default applies


@dataclass(frozen=True)
class Conv:
    """A convolution: x (N, C, H, W), w (F, C, KH, KW); stride and padding as passed (OMIT: left out)."""

    N: int
    C: int
    H: int
    W: int
    F: int
    KH: int
    KW: int
    stride: object = OMIT
    padding: object = OMIT
    integer: bool = False  # x, w and b are integer arrays (dout, an upstream gradient, stays float)

    @property
    def kernel_size(self):
        """What Conv2d receives: an int for a square kernel, else a pair."""
        return self.KH if self.KH == self.KW else (self.KH, self.KW)

    def kwargs(self) -> dict:
        return {k: v for k, v in (("stride", self.stride), ("padding", self.padding)) if v is not OMIT}

    def effective(self):
        """(stride, padding) as the reference needs them (defaults filled in)."""
        return (1 if self.stride is OMIT else self.stride), (0 if self.padding is OMIT else self.padding)

    def shown(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.kwargs().items()]
        return ", ".join(parts)

    def arrays(self, rng):
        """x, w, b: integers (small, of both signs) when `integer`, else standard normal floats."""
        if self.integer:
            return (rng.integers(-9, 10, (self.N, self.C, self.H, self.W)),
                    rng.integers(-3, 4, (self.F, self.C, self.KH, self.KW)), rng.integers(-5, 6, self.F))
        return (rng.standard_normal((self.N, self.C, self.H, self.W)),
                rng.standard_normal((self.F, self.C, self.KH, self.KW)), rng.standard_normal(self.F))



@dataclass(frozen=True)
class Pool:
    """A max pooling: x (N, C, H, W); pool_size and stride as passed (OMIT: left out)."""

    N: int
    C: int
    H: int
    W: int
    pool_size: object = OMIT
    stride: object = OMIT  # OMIT leaves it out; None passes None explicitly
    integer: bool = False  # x holds distinct integers, so no window has a tie

    def args(self) -> tuple:
        return () if self.pool_size is OMIT else (self.pool_size,)

    def kwargs(self) -> dict:
        return {} if self.stride is OMIT else {"stride": self.stride}

    def effective(self):
        """(pool_size, stride) as the reference needs them (defaults filled in)."""
        return (2 if self.pool_size is OMIT else self.pool_size), (None if self.stride is OMIT else self.stride)

    def shown(self) -> str:
        parts = [repr(a) for a in self.args()] + [f"stride={v!r}" for v in self.kwargs().values()]
        return ", ".join(parts)

    def x(self, rng):
        """Distinct values (no window ties): shuffled integers, or floats at least 0.15 apart."""
        size = self.N * self.C * self.H * self.W
        order = rng.permutation(size).reshape(self.N, self.C, self.H, self.W)
        if self.integer:
            return order - size // 2
        return (order - size / 2) * 0.25 + rng.uniform(-0.05, 0.05, size=order.shape)


# Convolution -------------------------------------------------------------
CONV = {
    "defaults": [
        Conv(2, 3, 7, 9, 4, 5, 5),
        Conv(3, 2, 6, 8, 5, 4, 4, stride=1, padding=0),
        Conv(4, 5, 9, 6, 2, 3, 3, stride=(1, 1), padding=(0, 0)),
    ],
    "stride": [
        Conv(2, 3, 10, 13, 4, 5, 5, stride=3),          # 5/3 and 8/3
        Conv(3, 2, 8, 11, 5, 4, 4, stride=2),           # 4/2 and 7/2
    ],
    "stride pair": [
        Conv(2, 4, 8, 13, 3, 5, 5, stride=(2, 3)),      # 3/2 and 8/3
        Conv(3, 2, 13, 6, 4, 5, 5, stride=(3, 1)),      # 8/3
    ],
    "padding": [
        Conv(2, 3, 6, 7, 5, 4, 4, padding=2),
        Conv(3, 4, 9, 8, 2, 5, 5, padding=3),
    ],
    "padding pair": [
        Conv(2, 3, 8, 7, 4, 5, 5, padding=(2, 3)),
        Conv(3, 2, 6, 9, 5, 4, 4, padding=(3, 0)),
    ],
    "kernel": [
        Conv(3, 5, 7, 10, 6, 2, 4),
        Conv(2, 4, 8, 7, 6, 5, 3),
    ],
    "integer": [
        Conv(2, 3, 6, 8, 4, 5, 5, integer=True),
        Conv(3, 2, 7, 6, 4, 5, 5, stride=1, padding=0, integer=True),
    ],
    "pairs": [
        Conv(2, 3, 10, 13, 4, 5, 5, stride=2, padding=1),                 # 7/2
        Conv(2, 4, 11, 8, 3, 5, 5, stride=(3, 2), padding=(1, 0)),        # 8/3 and 3/2
        Conv(4, 5, 7, 13, 6, 3, 2, stride=(1, 3)),                        # 11/3
        Conv(3, 5, 7, 8, 6, 4, 2, padding=(0, 3)),
        Conv(2, 5, 8, 9, 6, 3, 4, stride=2, padding=(1, 3), integer=True),  # 7/2 and 11/2
        Conv(4, 3, 10, 8, 6, 5, 2, stride=(2, 3), padding=(1, 0)),        # 7/2
        Conv(3, 2, 9, 11, 4, 5, 5, stride=3, padding=2, integer=True),    # 8/3 and 10/3
    ],
    "edges": [
        Conv(2, 4, 6, 7, 5, 1, 3),                           # a kernel side of 1
        Conv(3, 4, 5, 8, 2, 1, 1, stride=2),                 # a 1x1 kernel; 4/2 and 7/2
        Conv(2, 3, 6, 7, 5, 4, 1, stride=3),                 # one output row: 2/3 floors to 0
        Conv(2, 4, 3, 7, 6, 5, 8, padding=(2, 3)),           # a kernel larger than x, fits thanks to padding
        Conv(2, 3, 4, 10, 5, 1, 6),                          # a kernel wider than x is tall
        Conv(2, 3, 1, 5, 4, 7, 6, padding=(3, 2)),           # a 1-row x, kernel 7, padding 3: fits exactly, one row
        Conv(2, 3, 5, 10, 6, 4, 7, stride=(6, 2)),           # a stride longer than x is tall: one row; 1/6 and 3/2
    ],
}

# Pooling -----------------------------------------------------------------
POOL = {
    "defaults": [
        Pool(3, 4, 6, 9),                                    # 4/2 and 7/2
        Pool(4, 3, 9, 10, pool_size=2, stride=None),         # 7/2
        Pool(5, 3, 7, 4, pool_size=(2, 2), stride=None),     # 5/2 (round-half-up and ceil disagree with floor)
    ],
    "window": [
        Pool(2, 4, 8, 11, pool_size=3),                      # 5/3 and 8/3
        Pool(3, 2, 10, 7, pool_size=4),                      # 6/4 and 3/4
    ],
    "window shape": [
        Pool(4, 5, 8, 7, pool_size=(3, 2)),                  # 5/3 and 5/2
        Pool(3, 5, 7, 10, pool_size=(2, 4)),                 # 5/2 and 6/4
    ],
    "stride": [
        Pool(3, 4, 5, 7, stride=1),
        Pool(5, 4, 10, 7, stride=3),                         # 8/3 and 5/3
    ],
    "stride pair": [
        Pool(4, 5, 6, 10, stride=(1, 3)),                    # 8/3
        Pool(3, 4, 10, 6, stride=(3, 1)),                    # 8/3
    ],
    "integer": [
        Pool(3, 5, 8, 7, integer=True),
        Pool(4, 3, 7, 5, pool_size=2, stride=None, integer=True),
    ],
    "pairs": [
        Pool(2, 4, 10, 8, pool_size=3, stride=2),            # 7/2
        Pool(4, 5, 7, 10, pool_size=(2, 3), stride=(1, 2)),  # 7/2
        Pool(4, 5, 7, 8, pool_size=(3, 2), stride=1),
        Pool(4, 5, 10, 7, pool_size=3, stride=(2, 1)),       # 7/2
        Pool(5, 4, 9, 7, pool_size=(2, 3), stride=(2, 1), integer=True),  # 7/2
        Pool(4, 5, 10, 9, pool_size=(3, 2), stride=(2, 3)),  # 7/2 and 7/3
    ],
    "edges": [
        Pool(2, 4, 5, 10, pool_size=(1, 3)),                 # a window side of 1; 7/3
        Pool(2, 4, 5, 7, pool_size=3, stride=(3, 1)),        # one output row: 2/3 floors to 0
        Pool(3, 4, 5, 8, stride=(7, 3)),                     # a stride longer than x is tall
        Pool(3, 5, 4, 9, pool_size=(2, 6)),                  # a window wider than x is tall; 3/6
        Pool(4, 6, 7, 3, pool_size=(5, 2), stride=1),        # a window taller than x is wide
        Pool(2, 5, 3, 9, pool_size=(3, 4)),                  # a window as tall as x: one row; 5/4
    ],
}

# Which parameters each group varies, for the coverage table's design column.
CONV_GROUPS = tuple(CONV)
POOL_GROUPS = tuple(POOL)


def group_title(group: str) -> str:
    return {
        "defaults": "with every parameter left out or passed at its default",
        "stride": "with an int stride alone (padding 0, square kernel)",
        "stride pair": "with a (height, width) stride pair alone",
        "padding": "with an int padding alone (stride 1, square kernel)",
        "padding pair": "with a (height, width) padding pair alone, one side possibly 0",
        "kernel": "with a non-square kernel alone (stride 1, padding 0)",
        "integer": "with integer inputs alone",
        "pairs": "with several non-default parameters together",
        "edges": "on edge geometries",
        "window": "with an int window other than 2 alone (stride left to default)",
        "window shape": "with a non-square window alone (stride left to default)",
    }[group]


def distinct_floats(rng, shape, gap=0.25):
    """Values at least 0.15 apart (a shuffled grid plus jitter), so no pooling window ties."""
    size = int(np.prod(shape))
    return rng.permutation(size).reshape(shape) * gap + rng.uniform(-0.05, 0.05, size=shape)
