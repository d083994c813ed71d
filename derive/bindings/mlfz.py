"""mlfz: its Tensor engine lives in ``mlfz.nn.tensor`` (``backward()`` seeds ones; discovery finds its steps)."""

from ..targets.binding import Binding

binding = Binding("mlfz.nn.tensor", name="mlfz", tensor="Tensor", ops={"mse_loss": "mean_squared_error"})
