"""Mutants of convolution and pooling backward functions, one classic mistake each."""

from __future__ import annotations

import numpy as np

from numeric import convolution as C

from .zoo import mutant


def _conv2d_params(weight, stride, padding, dilation):
    return dict(k=weight.shape[2:], stride=(stride, stride), padding=(padding, padding),
                dilation=(dilation, dilation))


def _conv2d_rest(grad, x, weight, bias, stride, padding, dilation):
    p = dict(stride=stride, padding=padding, dilation=dilation)
    return C.conv2d_grad_weight(grad, x, weight, bias, **p), C.conv2d_grad_bias(grad, x, weight, bias, **p)


@mutant("convolution", "conv2d", "crops the padded gradient from the corner, not from the padding")
def conv2d_padding_not_cropped(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    p = _conv2d_params(weight, stride, padding, dilation)
    dcols = np.einsum("nfyx,fcuv->ncuvyx", grad, weight)
    shape = np.shape(x)
    dxp = np.zeros(shape[:2] + (shape[2] + 2 * padding, shape[3] + 2 * padding))
    for u, v, (rows, cols) in C._windows(shape, **p):
        dxp[:, :, rows, cols] += dcols[:, :, u, v]
    return (dxp[:, :, :shape[2], :shape[3]],) + _conv2d_rest(grad, x, weight, bias, stride, padding, dilation)


@mutant("convolution", "conv2d", "crops the padding with dx_pad[:, :, p:-p, p:-p]: empty when p = 0")
def conv2d_unpad_empty_at_zero(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    p = _conv2d_params(weight, stride, padding, dilation)
    dcols = np.einsum("nfyx,fcuv->ncuvyx", grad, weight)
    shape = np.shape(x)
    dxp = np.zeros(shape[:2] + (shape[2] + 2 * padding, shape[3] + 2 * padding))
    for u, v, (rows, cols) in C._windows(shape, **p):
        dxp[:, :, rows, cols] += dcols[:, :, u, v]
    return (dxp[:, :, padding:-padding, padding:-padding],) + \
        _conv2d_rest(grad, x, weight, bias, stride, padding, dilation)


@mutant("convolution", "conv2d", "spreads G with the kernel unflipped (convolution where it should correlate)")
def conv2d_unflipped_kernel(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    p = _conv2d_params(weight, stride, padding, dilation)
    dcols = np.einsum("nfyx,fcuv->ncuvyx", grad, weight[:, :, ::-1, ::-1])
    return (C._col2im(dcols, np.shape(x), **p),) + _conv2d_rest(grad, x, weight, bias, stride, padding, dilation)


@mutant("convolution", "conv1d", "swaps stride and dilation in the backward")
def conv1d_stride_as_dilation(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    p = dict(stride=dilation, padding=padding, dilation=stride)
    q = dict(stride=stride, padding=padding, dilation=dilation)
    try:
        dx = C.conv1d_grad_x(grad, x, weight, bias, **p)
    except ValueError:
        dx = np.zeros(np.shape(x))
    if dx.shape != np.shape(x):
        dx = np.zeros(np.shape(x))
    return dx, C.conv1d_grad_weight(grad, x, weight, bias, **q), C.conv1d_grad_bias(grad, x, weight, bias, **q)


def _conv_transpose1d_rest(grad, x, weight, bias, stride, padding, dilation):
    p = dict(stride=stride, padding=padding, dilation=dilation)
    return (C.conv_transpose1d_grad_weight(grad, x, weight, bias, **p),
            C.conv_transpose1d_grad_bias(grad, x, weight, bias, **p))


@mutant("convolution", "conv_transpose1d", "gathers G with the kernel flipped (a transposed conv taken for a "
                                           "convolution with the flipped kernel, once too often)")
def conv_transpose1d_flipped_kernel(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    dx = C.conv_transpose1d_grad_x(grad, x, np.asarray(weight)[:, :, ::-1], bias, stride, padding, dilation)
    return (dx,) + _conv_transpose1d_rest(grad, x, weight, bias, stride, padding, dilation)


@mutant("convolution", "conv_transpose1d", "reads G's window without the padding offset (the crop forgotten)")
def conv_transpose1d_padding_forgotten(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    g = np.asarray(grad)
    gp = np.pad(g, ((0, 0), (0, 0), (0, 2 * int(padding))))  # the padding put at the end, not split at both
    dx = C.conv_transpose1d_grad_x(gp, x, weight, bias, stride, 0, dilation)[..., :np.shape(x)[2]]
    return (dx,) + _conv_transpose1d_rest(grad, x, weight, bias, stride, padding, dilation)


@mutant("pooling", "avg_pool2d", "overwrites where windows overlap instead of accumulating")
def avg_pool2d_overwrites_overlaps(grad, x, kernel=2, stride=2, padding=0):
    p = dict(k=(kernel, kernel), stride=(stride, stride), padding=(padding, padding), dilation=(1, 1))
    shape = np.shape(x)
    dxp = np.zeros(shape[:2] + (shape[2] + 2 * padding, shape[3] + 2 * padding))
    for _u, _v, (rows, cols) in C._windows(shape, **p):
        dxp[:, :, rows, cols] = np.asarray(grad) / kernel ** 2
    return dxp[:, :, padding:padding + shape[2], padding:padding + shape[3]]


@mutant("pooling", "avg_pool2d", "divides by the window's entries inside the input (count_include_pad=False)")
def avg_pool2d_excludes_padding(grad, x, kernel=2, stride=2, padding=0):
    shape = np.shape(x)
    inside = C.avg_pool2d_forward(np.ones(shape), kernel, stride, padding) * kernel ** 2
    return C.avg_pool2d_grad_x(np.asarray(grad) * kernel ** 2 / inside, x, kernel, stride, padding)


def _max_pool2d_windows(grad, x, kernel, stride):
    """Each window's slices of ``x`` and the one-hot of its largest entry (no ties: drawn continuous)."""
    p = dict(k=(kernel, kernel), stride=(stride, stride), padding=(0, 0), dilation=(1, 1))
    cols = C._im2col(np.asarray(x), **p)
    top = cols == cols.max(axis=(2, 3), keepdims=True)
    return p, top * np.asarray(grad)[:, :, None, None]


@mutant("pooling", "max_pool2d", "overwrites where windows overlap instead of accumulating")
def max_pool2d_overwrites_overlaps(grad, x, kernel=2, stride=2):
    p, dcols = _max_pool2d_windows(grad, x, kernel, stride)
    dx = np.zeros(np.shape(x))
    for u, v, (rows, cols) in C._windows(np.shape(x), **p):
        hit = dcols[:, :, u, v] != 0
        dx[:, :, rows, cols] = np.where(hit, dcols[:, :, u, v], dx[:, :, rows, cols])
    return dx


@mutant("pooling", "max_pool2d", "reads the window's argmax with its two offsets swapped")
def max_pool2d_transposed_argmax(grad, x, kernel=2, stride=2):
    p, dcols = _max_pool2d_windows(grad, x, kernel, stride)
    return C._col2im(np.swapaxes(dcols, 2, 3), np.shape(x), **p)


@mutant("pooling", "max_pool2d", "pads with zeros, not -inf: a border window whose entries are all negative "
                                 "gives its G to the padding, and no entry gets it")
def max_pool2d_zero_padding(grad, x, kernel=2, stride=2, padding=0):
    p = dict(k=(kernel, kernel), stride=(stride, stride), padding=(padding, padding), dilation=(1, 1))
    cols = C._im2col(np.asarray(x), **p)  # zeros in the padding
    top = cols == cols.max(axis=(2, 3), keepdims=True)
    return C._col2im(top * np.asarray(grad)[:, :, None, None], np.shape(x), **p)


@mutant("pooling", "max_pool2d", "indexes the windows from the padded image's corner but forgets to crop: the "
                                 "gradient lands padding entries up and to the left")
def max_pool2d_padding_not_cropped(grad, x, kernel=2, stride=2, padding=0):
    full = C.max_pool2d_grad_x(grad, x, kernel, stride, padding)
    return np.pad(full, ((0, 0), (0, 0), (0, padding), (0, padding)))[:, :, padding:, padding:]


@mutant("convolution", "conv2d", "with groups, dW of every group reads the channels of group 0 (the channel offset "
                                 "of its group forgotten)")
def conv2d_groups_read_group_zero(grad, x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    p = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    x = np.asarray(x)
    x0 = np.concatenate([x[:, :np.shape(weight)[1]]] * groups, axis=1)
    return (C.conv2d_grad_x(grad, x, weight, bias, **p), C.conv2d_grad_weight(grad, x0, weight, bias, **p),
            C.conv2d_grad_bias(grad, x, weight, bias, **p))


@mutant("convolution", "conv1d", "with groups, dX spreads G through every filter onto every channel (groups "
                                 "ignored in the backward: the weight tiled over the groups)")
def conv1d_groups_ignored_in_dx(grad, x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    p = dict(stride=stride, padding=padding, dilation=dilation)
    tiled = np.concatenate([np.asarray(weight)] * groups, axis=1)
    return (C.conv1d_grad_x(grad, x, tiled, bias, **p),
            C.conv1d_grad_weight(grad, x, weight, bias, groups=groups, **p),
            C.conv1d_grad_bias(grad, x, weight, bias, groups=groups, **p))
