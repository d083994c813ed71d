"""The CS231n-style layers of ``layers.py`` with one classic mistake in each of six backward functions
(the rest imported correct): derive must FAIL exactly these six."""
import numpy as np

from layers import (affine_forward, batchnorm_forward, conv_forward_naive, layernorm_backward,  # noqa: F401
                    layernorm_forward, max_pool_forward_naive, relu_forward, softmax_loss, word_embedding_backward,
                    word_embedding_forward)


def affine_backward(dout, cache):
    """Mistake: dx is left (N, D), not reshaped back to x's shape."""
    x, w, b = cache
    return dout.dot(w.T), x.reshape(x.shape[0], -1).T.dot(dout), dout.sum(axis=0)


def relu_backward(dout, cache):
    """Mistake: writes into dout (the upstream gradient) instead of a copy."""
    dout[cache <= 0] = 0
    return dout


def batchnorm_backward(dout, cache):
    """Mistake: dgamma and dbeta keep the batch axis, shape (1, D)."""
    x_hat, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0, keepdims=True)
    dgamma = (dout * x_hat).sum(axis=0, keepdims=True)
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (N * std)
    return dx, dgamma, dbeta


def conv_backward_naive(dout, cache):
    """Mistake: the unpad slice [p:-p] is empty when p = 0."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dw += np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))
            dx_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    return dx_pad[:, :, pad:-pad, pad:-pad], dw, dout.sum(axis=(0, 2, 3))


def max_pool_backward_naive(dout, cache):
    """Mistake: `=` where overlapping windows need `+=`."""
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    k = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + k[0], j * stride + k[1]] = dout[n, c, i, j]
    return dx


def dropout_forward(x, dropout_param):
    p = dropout_param["p"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = np.random.rand(*x.shape) < p
    return x * mask / p, (dropout_param, mask)


def dropout_backward(dout, cache):
    """Mistake: the mask is kept as booleans, and the backward forgets the forward's 1 / p."""
    _, mask = cache
    return dout * mask
