"""A CS231n-style ``cs231n/layers.py``, written for derive's tests in the course's published
conventions (forward functions return ``(out, cache)``, backward functions take ``(dout, cache)``,
parameter dicts, losses return ``(loss, dx)``). Every layer here is correct."""
import numpy as np


def affine_forward(x, w, b):
    """x: (N, d_1, ..., d_k), w: (D, M), b: (M,). Returns (out, cache), out (N, M)."""
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Returns (dx, dw, db)."""
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    return out, x


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
    out, cache = None, None
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        cache = (x_hat, std, gamma)
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
    elif mode == "test":
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    x_hat, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (N * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (N * std)
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    x_hat = (x - mu) / std
    out = gamma * x_hat + beta
    return out, (x_hat, std, gamma)


def layernorm_backward(dout, cache):
    x_hat, std, gamma = cache
    D = dout.shape[1]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (D * dx_hat - dx_hat.sum(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).sum(axis=1, keepdims=True)) / (D * std)
    return dx, dgamma, dbeta


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            dw += np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))
            dx_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += \
                np.tensordot(dout[:, :, i, j], w, axes=([1], [0]))
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_naive(dout, cache):
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
                    dx[n, c, i * stride + k[0], j * stride + k[1]] += dout[n, c, i, j]
    return dx


def dropout_forward(x, dropout_param):
    """Inverted dropout; dropout_param: p (the probability of keeping an entry), mode, seed."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    return out.astype(x.dtype, copy=False), (dropout_param, mask)


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    return dout * mask if dropout_param["mode"] == "train" else dout


def svm_loss(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    positive[np.arange(N), y] = -positive.sum(axis=1)
    return loss, positive / N


def softmax_loss(x, y):
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].sum() / N
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return loss, dx / N


def word_embedding_forward(x, W):
    out = W[x]
    return out, (x, W)


def word_embedding_backward(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """x: (N, C, H, W), gamma and beta (C,): batch norm per channel, through batchnorm_forward."""
    N, C, H, W = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = dout.shape
    dx, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """x: (N, C, H, W); gamma and beta (1, C, 1, 1); G groups of C // G channels."""
    eps = gn_param.get("eps", 1e-5)
    N, C, H, W = x.shape
    grouped = x.reshape(N, G, -1)
    mean = grouped.mean(axis=2, keepdims=True)
    std = np.sqrt(grouped.var(axis=2, keepdims=True) + eps)
    x_hat = ((grouped - mean) / std).reshape(x.shape)
    return gamma * x_hat + beta, (x_hat, std, gamma, G)


def spatial_groupnorm_backward(dout, cache):
    x_hat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx_hat = (dout * gamma).reshape(N, G, -1)
    x_hat_g = x_hat.reshape(N, G, -1)
    M = dx_hat.shape[2]
    dx = (M * dx_hat - dx_hat.sum(axis=2, keepdims=True)
          - x_hat_g * (dx_hat * x_hat_g).sum(axis=2, keepdims=True)) / (M * std)
    return dx.reshape(dout.shape), dgamma, dbeta
