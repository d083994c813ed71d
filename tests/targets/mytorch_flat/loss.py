"""An 11-785-style MSELoss written the handout's way, ``ones.T @ se @ ones``: the loss is a (1, 1) array."""
import numpy as np


class MSELoss:
    def forward(self, A, Y):
        self.A, self.Y = A, Y
        N, C = A.shape
        se = (A - Y) * (A - Y)
        return np.ones((N, 1)).T @ se @ np.ones((C, 1)) / (N * C)

    def backward(self):
        N, C = self.A.shape
        return 2 * (self.A - self.Y) / (N * C)
