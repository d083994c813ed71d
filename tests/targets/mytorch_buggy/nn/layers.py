"""11-785-style layers with one classic mistake each, written as subclasses of the correct ``mytorch``
ones (their constructors and forwards inherited): derive must FAIL exactly these four."""
import numpy as np

from mytorch.nn import activation, conv, linear, loss


class Linear(linear.Linear):
    def backward(self, dLdZ):
        """Mistake: dLdW = A.T @ dLdZ, shape (in, out) where W is (out, in)."""
        self.dLdW = self.A.T @ dLdZ
        self.dLdb = dLdZ.T @ self.Ones
        return dLdZ @ self.W


class Sigmoid(activation.Sigmoid):
    def backward(self, dLdA):
        """Mistake: dA/dZ taken as A, not A - A**2."""
        return dLdA * self.A


class MSELoss(loss.MSELoss):
    def backward(self):
        """Mistake: the factor 2 is missing."""
        return (self.A - self.Y) / (self.N * self.C)


class Conv1d(conv.Conv1d):
    def backward(self, dLdZ):
        """Mistake: the padding is not cropped off dLdA."""
        return self.conv1d_stride1.backward(self.downsample1d.backward(dLdZ))


class CrossEntropyLoss(loss.CrossEntropyLoss):
    def backward(self):
        """Mistake: the 1/N of the mean is missing."""
        return self.softmax - self.Y
