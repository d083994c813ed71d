"""An 11-785-style ``mytorch/nn/conv.py`` (HW2P1 conventions): Conv1d_stride1 and a Conv1d that keeps one
inside it with a Downsample1d. Correct."""
import numpy as np


class Conv1d_stride1:
    def __init__(self, in_channels, out_channels, kernel_size, weight_init_fn=None, bias_init_fn=None):
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.W = np.zeros((out_channels, in_channels, kernel_size)) if weight_init_fn is None else \
            weight_init_fn(out_channels, in_channels, kernel_size)
        self.b = np.zeros(out_channels) if bias_init_fn is None else bias_init_fn(out_channels)
        self.dLdW = np.zeros_like(self.W)
        self.dLdb = np.zeros_like(self.b)

    def forward(self, A):
        self.A = A
        K = self.kernel_size
        out = A.shape[2] - K + 1
        Z = np.zeros((A.shape[0], self.out_channels, out))
        for i in range(out):
            Z[:, :, i] = np.tensordot(A[:, :, i:i + K], self.W, axes=([1, 2], [1, 2])) + self.b
        return Z

    def backward(self, dLdZ):
        K = self.kernel_size
        self.dLdW = np.zeros_like(self.W)
        dLdA = np.zeros_like(self.A)
        for i in range(dLdZ.shape[2]):
            self.dLdW += np.tensordot(dLdZ[:, :, i], self.A[:, :, i:i + K], axes=([0], [0]))
            dLdA[:, :, i:i + K] += np.tensordot(dLdZ[:, :, i], self.W, axes=([1], [0]))
        self.dLdb = dLdZ.sum(axis=(0, 2))
        return dLdA


class Downsample1d:
    def __init__(self, downsampling_factor):
        self.downsampling_factor = downsampling_factor

    def forward(self, A):
        self.width = A.shape[2]
        return A[:, :, ::self.downsampling_factor]

    def backward(self, dLdZ):
        dLdA = np.zeros(dLdZ.shape[:2] + (self.width,))
        dLdA[:, :, ::self.downsampling_factor] = dLdZ
        return dLdA


class Conv1d:
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0, weight_init_fn=None,
                 bias_init_fn=None):
        self.stride, self.pad = stride, padding
        self.conv1d_stride1 = Conv1d_stride1(in_channels, out_channels, kernel_size, weight_init_fn, bias_init_fn)
        self.downsample1d = Downsample1d(stride)

    def forward(self, A):
        A = np.pad(A, ((0, 0), (0, 0), (self.pad, self.pad)))
        return self.downsample1d.forward(self.conv1d_stride1.forward(A))

    def backward(self, dLdZ):
        dLdA = self.conv1d_stride1.backward(self.downsample1d.backward(dLdZ))
        return dLdA[:, :, self.pad:dLdA.shape[2] - self.pad]
