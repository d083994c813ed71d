"""MyGrad: a Tensor engine with NumPy's names; activations and losses live in ``mygrad.nnet``."""

from ..targets.binding import Binding

binding = Binding(
    "mygrad", tensor="Tensor", seed="argument",
    ops={
        "sigmoid": "nnet.activations.sigmoid",
        "relu": "nnet.activations.relu",
        "softmax": "nnet.activations.softmax",
        "log_softmax": "nnet.activations.logsoftmax",
        "cross_entropy": "nnet.losses.softmax_crossentropy",
    },
)
