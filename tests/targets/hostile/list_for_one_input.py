"""A one-input backward that returns its gradient as a nested list: the list is the gradient."""
import numpy as np


def exp(grad, x):
    return (np.asarray(grad) * np.exp(x)).tolist()
