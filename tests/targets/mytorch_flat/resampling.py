"""HW2P1-style ``mytorch/resampling.py``, imported by its neighbours by bare name."""
import numpy as np


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
