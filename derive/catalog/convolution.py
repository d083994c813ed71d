"""Convolution and pooling, declared by their index formulas (:func:`derive.define`).

Torch's semantics: cross-correlation, ``X`` is (N, C, L) or (N, C, H, W), the
weight (F, C, K) or (F, C, K, K), one stride, padding and dilation for every
spatial axis, zero padding; ``avg_pool2d`` counts the padding in the mean
(torch's ``count_include_pad=True``); ``max_pool2d`` takes no padding (torch pads
with -inf, and a read outside ``X`` here is zero).  A read outside ``X`` is zero, so the
derived gradient of ``X`` crops the padding and skips the positions a stride
never reaches.
"""

from __future__ import annotations

from hypothesis import strategies as hst

from .registry import Case
from .notation import define

_CONV = {"stride": 1, "padding": 0, "dilation": 1}
_GROUPED = {**_CONV, "groups": 1}
_GROUPS = ("C == Cg*groups", "F % groups == 0")
_PER_AXIS = ("stride", "padding", "dilation")  # one value for every spatial axis: (2, 2) to who wants a tuple
_POOL_AXIS = ("kernel", "stride", "padding")


def _conv_case(spatial):
    """Sizes 1 to 4 and stride, padding, dilation near their defaults (widths the stride does not
    divide, padding beyond the kernel's reach), as for any declared op; and ``groups`` 1 (mostly),
    2 or 3, with the channels and filters a multiple of it.  The kernel and dilation are drawn to
    fit the padded width, so every case has an output and none is filtered out."""
    @hst.composite
    def case(draw):
        groups = draw(hst.sampled_from([1, 1, 1, 2, 3]))
        most = 4 if groups == 1 else 2
        Cg, Fg, N = draw(hst.integers(1, most)), draw(hst.integers(1, most)), draw(hst.integers(1, 4))
        widths = tuple(draw(hst.integers(1, 4)) for _ in range(spatial))
        stride, padding = draw(hst.integers(1, 3)), draw(hst.integers(0, 2))
        room = min(widths) + 2 * padding  # the padded width a dilated kernel must fit in
        K = draw(hst.integers(1, min(4, room)))
        dilation = draw(hst.integers(1, 3 if K == 1 else min(3, (room - 1) // (K - 1))))
        params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
        return Case(((N, Cg * groups) + widths, (Fg * groups, Cg) + (K,) * spatial, (Fg * groups,)), params)
    return case


define(
    "Z[n, f, o] = b[f] + sum(c, j: W[f, c, j] * X[n, (f // (F // groups))*Cg + c, stride*o + dilation*j - padding])",
    inputs="X[N, C, L], W[F, Cg, K], b[F]", name="conv1d", params=_GROUPED, fixed=("groups",), per_axis=_PER_AXIS, require=_GROUPS,
    sizes={"o": "(L + 2*padding - dilation*(K - 1) - 1) // stride + 1"}, cases=_conv_case(1),
    doc="Z = conv1d(X, W, b; stride, padding, dilation, groups): cross-correlation, zero padding; filter f "
        "reads the channels of its group")

define(
    "Z[n, f, y, x] = b[f] + sum(c, u, v: W[f, c, u, v]"
    " * X[n, (f // (F // groups))*Cg + c, stride*y + dilation*u - padding, stride*x + dilation*v - padding])",
    inputs="X[N, C, H, L], W[F, Cg, K, K], b[F]", name="conv2d", params=_GROUPED, fixed=("groups",), per_axis=_PER_AXIS,
    require=_GROUPS, cases=_conv_case(2),
    sizes={"y": "(H + 2*padding - dilation*(K - 1) - 1) // stride + 1",
           "x": "(L + 2*padding - dilation*(K - 1) - 1) // stride + 1"},
    doc="Z = conv2d(X, W, b; stride, padding, dilation, groups): square kernels, zero padding; filter f "
        "reads the channels of its group")

define(
    "Z[n, f, o] = b[f] + sum(c, i, j: bracket(stride*i + dilation*j - padding == o) * W[c, f, j] * X[n, c, i])",
    inputs="X[N, C, L], W[C, F, K], b[F]", name="conv_transpose1d", aliases=("deconv1d",), params=_CONV, per_axis=_PER_AXIS,
    require=("(L - 1)*stride + dilation*(K - 1) >= 2*padding",),
    sizes={"o": "(L - 1)*stride - 2*padding + dilation*(K - 1) + 1"},
    doc="Z = conv_transpose1d(X, W, b; stride, padding, dilation): the adjoint of conv1d, W (C_in, C_out, K); "
        "each X entry spreads over a window of Z, the padding crops Z")

define(
    "Z[n, c, y, x] = sum(u, v: X[n, c, stride*y + u - padding, stride*x + v - padding]) / (kernel*kernel)",
    inputs="X[N, C, H, L]", name="avg_pool2d", aliases=("mean_pool2d",),
    params={"kernel": 2, "stride": 2, "padding": 0}, require=("2*padding <= kernel",), per_axis=_POOL_AXIS,
    sizes={"u": "kernel", "v": "kernel", "y": "(H + 2*padding - kernel) // stride + 1",
           "x": "(L + 2*padding - kernel) // stride + 1"},
    doc="Z = avg_pool2d(X; kernel, stride, padding), the padding counted in the mean")


@hst.composite
def max_pool2d_case(draw):
    """Windows that mostly overlap (stride below the kernel), so one entry is often the largest of
    several windows, on images up to four entries wider than the kernel (widths the stride does
    not divide); sometimes stride >= kernel, and a kernel of 1; half the time as much padding as torch
    allows (up to half the kernel), so border windows hold -inf padding and, all their entries
    negative, a zero-padded pool would pick the padding."""
    kernel = draw(hst.sampled_from([2, 3, 1]))
    overlap = kernel > 1 and draw(hst.sampled_from([True, True, False]))  # two of three draws, by construction
    stride = draw(hst.integers(1, kernel - 1)) if overlap else draw(hst.sampled_from([kernel, kernel + 1]))
    padding = draw(hst.integers(0, kernel // 2)) if draw(hst.booleans()) else 0
    N, C = draw(hst.integers(1, 2)), draw(hst.integers(1, 2))
    H, L = draw(hst.integers(kernel, kernel + 4)), draw(hst.integers(kernel, kernel + 4))
    return Case(((N, C, H, L),), {"kernel": kernel, "stride": stride, "padding": padding})


define(
    "Z[n, c, y, x] = max(u, v: X[n, c, stride*y + u - padding, stride*x + v - padding]"
    " + neg_inf_unless(0 <= stride*y + u - padding, stride*y + u - padding < H,"
    " 0 <= stride*x + v - padding, stride*x + v - padding < L))",
    cases=max_pool2d_case, inputs="X[N, C, H, L]", name="max_pool2d",
    params={"kernel": 2, "stride": 2, "padding": 0}, require=("2*padding <= kernel",), per_axis=_POOL_AXIS,
    sizes={"u": "kernel", "v": "kernel", "y": "(H + 2*padding - kernel) // stride + 1",
           "x": "(L + 2*padding - kernel) // stride + 1"},
    doc="Z = max_pool2d(X; kernel, stride, padding), the padding -inf (torch's: it never wins); an entry the "
        "largest of several overlapping windows gets each one's G; drawn without ties (torch gives a tied "
        "window's G to one entry, derive shares it)")
