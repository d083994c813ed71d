"""Homework as it is handed in: each course API loads with the natural command and gets the right
verdicts. The fixtures in tests/targets/<course>/ are written here, in each course's published
conventions: a correct solution, and one with a classic mistake per function."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import derive
from derive.isolation import load_target

HERE = os.path.join(os.path.dirname(__file__), "targets")


def check_all(path, *extra, examples=60):
    r = subprocess.run([sys.executable, "-m", "derive.check", "all", "--target", path, "--format", "json",
                        "--examples", str(examples), "--seed", "0", "--no-database", *extra],
                       capture_output=True, text=True, timeout=600, cwd=os.path.dirname(path))
    data = json.loads(r.stdout)
    return r, {o["op"]: o for o in data["ops"] if o["status"] != "skipped"}


CS231N_OPS = {"affine", "relu", "batch_norm", "layer_norm", "conv2d", "max_pool2d", "embedding", "cross_entropy",
              "svm_loss", "batch_norm2d", "group_norm", "dropout"}


def test_a_cs231n_layers_file_loads_as_cache_pairs_and_passes():
    target = load_target(os.path.join(HERE, "cs231n", "layers.py"))
    assert target.style == "cache-pairs" and "conv_forward_naive" in target.describe()
    r, ops = check_all(os.path.join(HERE, "cs231n", "layers.py"))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert set(ops) == CS231N_OPS and all(o["status"] == "pass" and o["examples"] == 60 for o in ops.values())
    assert "conv2d: checked conv_forward_naive / conv_backward_naive" in ops["conv2d"]["notes"]
    assert "cross_entropy: checked softmax_loss" in ops["cross_entropy"]["notes"]
    # gamma (1, C, 1, 1) in, dgamma (1, C, 1, 1) out: read in group_norm's layout, (C,)
    assert "group_norm: checked spatial_groupnorm_forward / spatial_groupnorm_backward" in ops["group_norm"]["notes"]


def test_a_cs231n_rnn_layers_file_passes_lstm_step_with_one_gradient_per_output():
    r, ops = check_all(os.path.join(HERE, "cs231n", "rnn_layers.py"), examples=40)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    assert set(ops) == {"rnn_step", "lstm_step", "embedding", "temporal_affine", "temporal_softmax_loss"}
    assert all(o["status"] == "pass" and o["examples"] == 40 for o in ops.values()), ops
    assert "lstm_step: checked lstm_step_forward / lstm_step_backward" in ops["lstm_step"]["notes"]


RNN_BUGS = {  # op: words of its failure, the mistake in rnn_layers_buggy.py
    "rnn_step": "dl/dx[",
    "lstm_step": "dl/d",
    "temporal_affine": "dl/db: gradient has shape",
    "temporal_softmax_loss": "dl/dx[",
}


def test_each_classic_cs231n_rnn_mistake_fails_and_nothing_else():
    r, ops = check_all(os.path.join(HERE, "cs231n", "rnn_layers_buggy.py"), examples=40)
    assert r.returncode == 1
    assert {n for n, o in ops.items() if o["status"] == "fail"} == set(RNN_BUGS), {n: o["status"] for n, o in ops.items()}
    for name, words in RNN_BUGS.items():
        assert words in ops[name]["failures"][0]["message"], ops[name]["failures"][0]
    assert ops["embedding"]["status"] == "pass"


def test_lstm_steps_missing_dnext_c_is_real_by_central_differences():
    """The buggy LSTM step's FAIL confirmed through the file's own forward: dprev_c must carry dnext_c * f."""
    sys.path.insert(0, os.path.join(HERE, "cs231n"))
    try:
        import rnn_layers_buggy as buggy
    finally:
        sys.path.pop(0)
    rng = np.random.default_rng(0)
    N, D, H = 2, 3, 2
    args = [rng.normal(size=s) for s in ((N, D), (N, H), (N, H), (D, 4 * H), (H, 4 * H), (4 * H,))]
    dh, dc = rng.normal(size=(N, H)), rng.normal(size=(N, H))

    def loss(prev_c):
        h, c, _ = buggy.lstm_step_forward(args[0], args[1], prev_c, *args[3:])
        return np.sum(h * dh) + np.sum(c * dc)

    fd = np.zeros((N, H))
    for idx in np.ndindex(N, H):
        e = np.zeros((N, H))
        e[idx] = 1e-6
        fd[idx] = (loss(args[2] + e) - loss(args[2] - e)) / 2e-6
    _, _, cache = buggy.lstm_step_forward(*args)
    got = buggy.lstm_step_backward(dh, dc, cache)[2]
    assert not np.allclose(got, fd, atol=1e-6)
    report = derive.check("lstm_step", target=buggy, shapes=[s.shape for s in args], examples=5, database=None)
    assert report.status == "fail"


BUGS = {  # op: words of its failure, the mistake in layers_buggy.py
    "affine": "dl/dx: gradient has shape",
    "relu": "modified the upstream gradient G in place",
    "batch_norm": "dl/dweight: gradient has shape (1, ",
    "conv2d": "dl/dX: gradient has shape (1, 1, 0, 0)",
    "max_pool2d": "dl/dX[",
    "dropout": "dl/dX[",
}


def test_each_classic_cs231n_mistake_fails_and_nothing_else():
    r, ops = check_all(os.path.join(HERE, "cs231n", "layers_buggy.py"), examples=100)
    assert r.returncode == 1
    failed = {name for name, o in ops.items() if o["status"] == "fail"}
    assert failed == set(BUGS), {n: o["status"] for n, o in ops.items()}
    for name, words in BUGS.items():
        assert words in ops[name]["failures"][0]["message"], ops[name]["failures"][0]
    assert "reshape the gradient back to the input's shape (x.shape)" in ops["affine"]["failures"][0]["diagnosis"]
    # dgamma (1, D): the sum was done, its axis kept; said so, not "un-broadcast over the wrong axes"
    assert "a sum with keepdims=True" in ops["batch_norm"]["failures"][0]["diagnosis"]
    assert {o["status"] for n, o in ops.items() if n not in BUGS} == {"pass"}


def test_max_pool_overwrite_is_found_where_windows_overlap():
    sys.path.insert(0, os.path.join(HERE, "cs231n"))
    try:
        import layers_buggy
    finally:
        sys.path.pop(0)
    report = derive.check("max_pool2d", target=layers_buggy, shapes=[(1, 1, 3, 3)],
                          params={"kernel": 2, "stride": 1})
    assert report.status == "fail"
    # the same case with central differences through the file's own forward: the failure is real
    x = np.random.default_rng(0).normal(size=(1, 1, 3, 3))
    x[0, 0, 1, 1] = 5.0  # the centre wins all four windows
    dout = np.random.default_rng(1).normal(size=(1, 1, 2, 2))
    param = {"pool_height": 2, "pool_width": 2, "stride": 1}
    fd = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        e = np.zeros_like(x)
        e[idx] = 1e-6
        fd[idx] = (np.sum(dout * layers_buggy.max_pool_forward_naive(x + e, param)[0])
                   - np.sum(dout * layers_buggy.max_pool_forward_naive(x - e, param)[0])) / 2e-6
    _, cache = layers_buggy.max_pool_forward_naive(x, param)
    assert not np.allclose(layers_buggy.max_pool_backward_naive(dout, cache), fd, atol=1e-6)


def test_a_loss_that_forgets_the_mean_fails_as_a_scalar_vjp(tmp_path):
    (tmp_path / "layers.py").write_text(
        "import numpy as np\n\n\n"
        "def softmax_loss(x, y):\n"
        "    p = np.exp(x - x.max(axis=1, keepdims=True))\n"
        "    p /= p.sum(axis=1, keepdims=True)\n"
        "    loss = -np.log(p[np.arange(len(y)), y]).mean()\n"
        "    p[np.arange(len(y)), y] -= 1\n"
        "    return loss, p  # forgot / N\n")
    r, ops = check_all(str(tmp_path / "layers.py"))
    assert r.returncode == 1 and ops["cross_entropy"]["status"] == "fail"
    assert "1/N" in (ops["cross_entropy"]["failures"][0]["diagnosis"] or "") or \
        "factor" in (ops["cross_entropy"]["failures"][0]["diagnosis"] or ""), ops["cross_entropy"]["failures"][0]


def test_a_forward_without_its_cache_is_one_clear_message(tmp_path):
    (tmp_path / "layers.py").write_text(
        "import numpy as np\n\n\n"
        "def relu_forward(x):\n"
        "    return np.maximum(0, x)\n\n\n"
        "def relu_backward(dout, cache):\n"
        "    return dout * (cache > 0)\n")
    r, ops = check_all(str(tmp_path / "layers.py"))
    assert r.returncode == 1
    assert "relu_forward returned ndarray, not (out, cache)" in ops["relu"]["failures"][0]["message"]


def test_each_function_class_is_called_the_way_its_own_forward_wants():
    """One file, two protocols: Add and Neg take anything, Mul and Exp insist on the file's Tensor.
    Settling one way for the whole file had read the correct Mul and Exp as FAIL on every case."""
    r, ops = check_all(os.path.join(HERE, "tensor_checking_classes.py"), examples=30)
    assert r.returncode == 0, r.stdout[-3000:]
    assert {n: o["status"] for n, o in ops.items()} == dict.fromkeys(["add", "multiply", "exp", "negative"], "pass")


def test_a_forward_that_refuses_what_derive_passes_is_a_protocol_error_not_a_fail(tmp_path):
    (tmp_path / "functions.py").write_text(
        "import numpy as np\n\n\n"
        "class Exp:\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        raise TypeError(f'Exp needs a mylib.Tensor, got {type(x).__name__}')\n\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad_output):\n"
        "        return grad_output\n")
    report = derive.check("exp", target=str(tmp_path / "functions.py"), examples=10, seed=0, database=None)
    assert report.status == "error" and not report.failures
    assert "cannot be called the way derive tried" in report.message and "protocol mismatch" in report.message
    assert "Exp needs a mylib.Tensor, got ndarray" in report.message


def test_a_typo_in_a_forward_is_still_the_students_fail():
    report = derive.check("exp", target=os.path.join(HERE, "hostile", "typo_tensor.py"), examples=10, seed=0,
                          database=None)
    assert report.status == "fail" and "has no attribute 'vlaue'" in report.failures[0].message


# ---- CMU 11-785 mytorch: layer objects with state ------------------------------------------------

def check_package(name, examples=60):
    r = subprocess.run([sys.executable, "-m", "derive.check", "all", "--target", name, "--format", "json",
                        "--examples", str(examples), "--seed", "0", "--no-database"],
                       capture_output=True, text=True, timeout=600, cwd=HERE)
    data = json.loads(r.stdout)
    return r, {o["op"]: o for o in data["ops"] if o["status"] != "skipped"}


MYTORCH_OPS = {"linear", "relu", "sigmoid", "tanh", "softmax", "mse_loss", "cross_entropy", "batch_norm", "conv1d",
               "identity", "downsample1d"}  # Identity activation; Downsample1d, Conv1d's striding helper


def test_an_11785_mytorch_package_loads_its_layers_and_passes():
    """Linear(in, out) with W (out, in) and b (out, 1) set after construction, backward(dLdZ) storing
    dLdW and dLdb; activations; MSELoss whose backward() takes no G; BatchNorm1d with BW (1, D) and
    its own eps; a Conv1d keeping W on its inner Conv1d_stride1."""
    r, ops = check_package("mytorch")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
    assert set(ops) == MYTORCH_OPS and {o["status"] for o in ops.values()} == {"pass"}
    assert all(o["examples"] == 60 for o in ops.values()), {n: o["examples"] for n, o in ops.items()}
    assert "MSELoss treats target as a constant (its backward returns no gradient for it)" in ops["mse_loss"]["notes"]
    assert any("Softmax runs on 2-D inputs only" in k for k in ops["softmax"]["skip_reasons"])


MYTORCH_BUGS = {
    "linear": "dl/dweight: gradient has shape (1, 2), input has shape (2, 1)",
    "sigmoid": "dl/dX",
    "mse_loss": "expected 2*G*pred[0,0] - 2*G*target[0,0], got G*pred[0,0] - G*target[0,0]",
    "conv1d": "dl/dX: gradient has shape",
    "cross_entropy": "dl/dlogits",  # one-hot labels, the 1/N missing
}


def test_each_classic_11785_mistake_fails_through_an_inherited_layer():
    r, ops = check_package("mytorch_buggy", examples=100)
    assert r.returncode == 1
    assert {n: o["status"] for n, o in ops.items()} == dict.fromkeys(MYTORCH_BUGS, "fail")
    for name, words in MYTORCH_BUGS.items():
        assert words in ops[name]["failures"][0]["message"], ops[name]["failures"][0]




@pytest.mark.parametrize("spelled", ["mytorch", "mytorch/"])
def test_a_mytorch_with_no_init_files_is_checked_whole(tmp_path, spelled):
    """Handed in as folders of modules with no ``__init__.py`` (as HW2P1's ``mytorch/nn/`` often is):
    every layer below is found, by the folder's name or its path, and each classic mistake still fails."""
    import shutil
    for name in ("mytorch", "mytorch_buggy"):
        shutil.copytree(os.path.join(HERE, name), tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        for init in (tmp_path / name).rglob("__init__.py"):
            init.unlink()
    run = lambda target: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "derive.check", "all", "--target", target, "--format", "json", "--examples", "60",
         "--seed", "0", "--no-database"], capture_output=True, text=True, timeout=600, cwd=tmp_path)
    r = run(spelled)
    ops = {o["op"]: o for o in json.loads(r.stdout)["ops"] if o["status"] != "skipped"}
    assert r.returncode == 0 and set(ops) == MYTORCH_OPS and {o["status"] for o in ops.values()} == {"pass"}, \
        r.stdout[-2000:] + r.stderr
    r = run(spelled.replace("mytorch", "mytorch_buggy"))
    ops = {o["op"]: o for o in json.loads(r.stdout)["ops"] if o["status"] != "skipped"}
    assert {n: o["status"] for n, o in ops.items()} == dict.fromkeys(MYTORCH_BUGS, "fail")


def test_a_folder_of_modules_that_disagree_is_one_clear_error():
    """A folder with no ``__init__.py`` holding two definitions of one name (layers.py and its
    layers_buggy.py twin) does not say which is meant: one line, exit 2, never a silent pick."""
    r = subprocess.run([sys.executable, "-m", "derive.check", "affine", "--target", "cs231n"],
                       capture_output=True, text=True, timeout=600, cwd=HERE)
    assert r.returncode == 2 and "both define affine_backward: name the file to check" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_a_submodule_that_cannot_be_imported_is_said_once_in_the_run_line():
    r = subprocess.run([sys.executable, "-m", "derive.check", "conv1d", "relu", "--target", "mytorch_flat",
                        "--examples", "5", "--seed", "0", "--no-database"], capture_output=True, text=True,
                       timeout=600, cwd=HERE)
    last = r.stdout.strip().splitlines()[-1]
    assert last.startswith("1 passed, 0 failed, 1 skipped") and "not imported, its ops skipped: mytorch_flat.broken " \
        "(ModuleNotFoundError: No module named 'a_module_that_does_not_exist')" in last, r.stdout

def test_hw2p1s_flat_layout_loads_with_its_bare_imports_and_a_one_entry_loss():
    """mytorch/Conv1d.py holds the class Conv1d (the module must not shadow it) and imports resampling by
    bare name; MSELoss returns ones.T @ se @ ones, a (1, 1) array; a submodule that cannot be imported is
    named where an op is skipped, never dropped in silence."""
    r = subprocess.run([sys.executable, "-m", "derive.check", "conv1d", "mse_loss", "relu", "--target",
                        "mytorch_flat", "--format", "json", "--examples", "30", "--seed", "0", "--no-database"],
                       capture_output=True, text=True, timeout=600, cwd=HERE)
    ops = {o["op"]: o for o in json.loads(r.stdout)["ops"]}
    assert ops["conv1d"]["status"] == "pass" and ops["mse_loss"]["status"] == "pass", r.stdout[-3000:]
    assert "the forward gives the scalar mse_loss as an array of shape (1, 1)" in ops["mse_loss"]["notes"]
    assert ops["relu"]["status"] == "skipped"
    assert "mytorch_flat.broken could not be imported: ModuleNotFoundError" in ops["relu"]["message"]


DROPOUT_2016 = """import numpy as np


def dropout_forward(x, dropout_param):
    p = dropout_param['p']  # 2016: the probability of dropping an entry
    np.random.seed(dropout_param['seed'])
    mask = (np.random.rand(*x.shape) >= p) / (1 - p)
    return x * mask, (dropout_param, mask)


def dropout_backward(dout, cache):
    return dout * cache[1]
"""


def test_cs231ns_dropout_draws_its_own_mask_and_is_checked_against_it():
    """The mask comes from dropout_param['seed']: derive reads it back from the output (X is drawn
    nonzero) and checks the backward against that mask, and its keep rate over the whole run."""
    report = derive.check("dropout", target=os.path.join(HERE, "cs231n", "layers.py"), examples=60, seed=0,
                          database=None)
    assert report.status == "pass" and report.examples == 60, report
    assert "dropout: checked dropout_forward / dropout_backward" in report.notes


def test_the_2016_drop_probability_convention_is_told_at_load_and_passes(tmp_path):
    (tmp_path / "layers.py").write_text(DROPOUT_2016)
    report = derive.check("dropout", target=str(tmp_path / "layers.py"), examples=60, seed=0, database=None)
    assert report.status == "pass", report
    assert any("CS231n's 2016 convention" in n for n in report.notes), report.notes


def test_a_dropout_that_never_scales_differs_and_is_never_a_fail(tmp_path):
    """Dropout scaled at test time (out = x * mask) is another op than inverted dropout: its forward
    differs, and its (consistent) backward is not blamed."""
    (tmp_path / "layers.py").write_text(DROPOUT_2016.replace("/ (1 - p)", ""))
    report = derive.check("dropout", target=str(tmp_path / "layers.py"), examples=60, seed=0, database=None)
    assert report.status == "differs" and report.forward_cases > 0, report


@pytest.mark.parametrize("threshold, keeps", [("-1", "all"), ("2", "none")])
def test_a_dropout_that_keeps_all_or_nothing_differs_over_the_whole_run(tmp_path, threshold, keeps):
    """Keeping every entry (scaled), or none with a backward of zeros, agrees with itself on each
    example; only the count of kept entries over the run shows that it is not dropout.  Keeping none
    is the hostile one: without the count it would pass."""
    (tmp_path / "layers.py").write_text(DROPOUT_2016.replace(">= p", f">= {threshold}"))
    report = derive.check("dropout", target=str(tmp_path / "layers.py"), examples=100, seed=0, database=None)
    assert report.status == "differs" and report.forward_cases == 0, report
    assert "over the whole run" in report.verdict()
    message = report.forward[0].message
    kept, total = (int(n.replace(",", "")) for n in message.split("True on ")[1].split(" entries")[0].split(" of "))
    assert total > 100 and kept == (total if keeps == "all" else 0), message


def test_a_dropout_mask_drawn_on_too_few_entries_is_no_pass():
    report = derive.check("dropout", target=os.path.join(HERE, "cs231n", "layers.py"), shapes=[(2, 3), (2, 3)],
                          params={"p": 0.5}, database=None)
    assert report.status == "error" and "too few to tell it from one that keeps none" in report.message, report


MICROGRAD_OPS = {"add", "multiply", "subtract", "divide", "negative", "exp", "tanh", "relu", "power_scalar", "sum",
                 "mean", "matmul", "transpose", "reshape", "split"}


def test_a_micrograd_value_engine_is_checked_on_arrays_of_values():
    """micrograd's Value holds one float: each input becomes an array of Values, x ** 3 is its
    power_scalar, and x ** Value, which it refuses, is a protocol error, never a FAIL."""
    target = load_target(os.path.join(HERE, "micrograd", "engine.py"))
    assert "arrays of Value, one number each" in target.describe()
    # a Value per entry is slow Python: a generous call limit, so that a loaded machine cannot fail it
    r, ops = check_all(os.path.join(HERE, "micrograd", "engine.py"), "--timeout", "60", examples=30)
    assert MICROGRAD_OPS <= {n for n, o in ops.items() if o["status"] == "pass"}, {n: o["status"] for n, o in ops.items()}
    assert {n for n, o in ops.items() if o["status"] == "fail"} == set()
    assert ops["power"]["status"] == "error" and "cannot be called the way derive tried" in ops["power"]["message"]
    assert "only supporting int/float powers" in ops["power"]["message"]


def _with_mistakes(folder, tmp_path, file, mistakes):
    """A copy of the fixture ``folder`` in ``tmp_path`` with each ``(correct, wrong)`` text of ``file`` replaced."""
    import shutil
    copy = tmp_path / os.path.basename(folder)
    shutil.copytree(os.path.join(HERE, folder), copy, ignore=shutil.ignore_patterns("__pycache__"))
    text = (copy / file).read_text()
    for correct, wrong in mistakes:
        assert correct in text, correct
        text = text.replace(correct, wrong)
    (copy / file).write_text(text)
    return str(copy)


def test_a_micrograd_engine_with_the_classic_mistakes_fails_where_they_are(tmp_path):
    folder = _with_mistakes("micrograd", tmp_path, "engine.py", [
        # = for += : wrong once a Value is used twice (a broadcast factor, a matrix product)
        ("self.grad += other.data * out.grad\n            other.grad += self.data * out.grad",
         "self.grad = other.data * out.grad\n            other.grad = self.data * out.grad"),
        ("self.grad += (1 - t ** 2) * out.grad", "self.grad += (1 - t) * out.grad"),
        ("self.grad += (other * self.data ** (other - 1)) * out.grad",
         "self.grad += (other * self.data ** other) * out.grad")])
    path = os.path.join(folder, "engine.py")
    verdicts = {op: derive.check(op, target=path, examples=60, seed=0, database=None, timeout=60).status
                for op in ("multiply", "matmul", "tanh", "power_scalar", "exp", "add", "relu")}
    assert verdicts == {"multiply": "fail", "matmul": "fail", "tanh": "fail", "power_scalar": "fail",
                        "exp": "pass", "add": "pass", "relu": "pass"}


MINITORCH_OPS = {"add", "subtract", "multiply", "divide", "negative", "transpose", "reshape", "exp", "log",
                 "sigmoid", "relu", "less", "equal", "greater"}


def test_a_minitorch_package_is_checked_through_its_tensor_not_its_scalar_classes():
    """Its Scalar Function classes win the shared names, and a Tensor Function's backward returns the
    broadcast shape (the engine sums it back): checked through the Tensor, a correct one passes."""
    target = load_target(os.path.join(HERE, "minitorch_like"))
    assert "its Function classes reached through Tensor's operators and methods" in target.describe()
    assert "backward(grad_output=Tensor(G))" in target.describe()
    r, ops = check_all(os.path.join(HERE, "minitorch_like"), examples=30)
    assert {n: o["status"] for n, o in ops.items() if n in MINITORCH_OPS} == dict.fromkeys(MINITORCH_OPS, "pass")
    assert {n for n, o in ops.items() if o["status"] == "fail"} == set()
    assert ops["matmul"]["status"] == "differs"  # MiniTorch multiplies 2-D operands only


@pytest.mark.parametrize("backward, status", [
    ("np.broadcast_to(grad_output._storage, shape)", "pass"),
    # the first entry of G spread everywhere (one value per reduced row forgotten)
    ("np.full(shape, grad_output._storage.flat[0])", "fail")])
def test_a_minitorch_sum_over_a_dim_keeps_it_and_is_checked_so(tmp_path, backward, status):
    """MiniTorch's sum(dim) keeps the reduced axis: checked on the cases that keep one, never SKIP."""
    folder = _with_mistakes("minitorch_like", tmp_path, "tensor_functions.py", [
        ("return _t(np.broadcast_to(grad_output._storage, shape)), 0.0", f"return _t({backward}), 0.0")])
    report = derive.check("sum", target=folder, examples=40, seed=0, database=None)
    assert report.status == status, report
    assert report.examples > 0 and "keeps one reduced axis" in report.skipped_why()


def test_a_minitorch_comparison_is_reached_through_its_operator_and_checked(tmp_path):
    """MiniTorch spells lt/eq/gt only as ``<``, ``==``, ``>``: a backward that passes G on FAILs."""
    folder = _with_mistakes("minitorch_like", tmp_path, "tensor_functions.py", [
        ("return _t(np.zeros(grad_output.shape)), _t(np.zeros(grad_output.shape))\n\n\nclass EQ",
         "return grad_output, grad_output\n\n\nclass EQ")])
    reports = {op: derive.check(op, target=folder, examples=40, seed=0, database=None)
               for op in ("less", "greater", "equal")}
    assert {op: r.status for op, r in reports.items()} == {"less": "fail", "greater": "fail", "equal": "pass"}
    assert "operator <" in str(reports["less"]) and reports["equal"].examples == 40


def test_a_minitorch_view_that_infers_no_minus_one_gets_its_shapes_in_full():
    """MiniTorch's ``view`` asserts the sizes multiply out, so ``-1`` is written out for it: those
    cases are checked, not reported as a different forward."""
    folder = os.path.join(HERE, "minitorch_like")
    assert "reshape does not infer a -1 size" in load_target(folder).describe()
    report = derive.check("reshape", target=folder, examples=60, seed=0, database=None)
    assert report.status == "pass" and report.examples == 60, report


MINITORCH_SCALAR_OPS = {"add", "subtract", "multiply", "divide", "negative", "exp", "log", "sigmoid", "relu",
                        "reciprocal", "less", "equal", "greater"}


def test_minitorch_module_one_scalars_are_checked_entry_by_entry():
    """MiniTorch's module-1 Scalar holds one number and keeps its gradient in ``derivative``: its file
    is a target of its own, driven on arrays of Scalars, and the package's run says so."""
    package = os.path.join(HERE, "minitorch_like")
    assert "its Scalar classes (one number each) are not checked here: --target " in load_target(package).describe()
    file = os.path.join(package, "scalar.py")
    assert "arrays of Scalar, one number each" in load_target(file).describe()
    r, ops = check_all(file, examples=30)
    assert {n: o["status"] for n, o in ops.items() if n in MINITORCH_SCALAR_OPS} == \
        dict.fromkeys(MINITORCH_SCALAR_OPS, "pass")
    assert {n for n, o in ops.items() if o["status"] in ("fail", "differs", "error")} == set()


def test_minitorch_scalar_backwards_that_apply_d_output_twice_fail(tmp_path):
    """The classic module-1 slip: ``d_output * sigmoid_back(a, d_output)``, G applied twice."""
    folder = _with_mistakes("minitorch_like", tmp_path, "scalar.py", [
        ("return out * (1.0 - out) * d_output", "return d_output * out * (1.0 - out) * d_output"),
        ("return d_output if a > 0 else 0.0", "return d_output * d_output if a > 0 else 0.0")])
    file = os.path.join(folder, "scalar.py")
    verdicts = {op: derive.check(op, target=file, examples=40, seed=0, database=None).status
                for op in ("sigmoid", "relu", "exp", "multiply")}
    assert verdicts == {"sigmoid": "fail", "relu": "fail", "exp": "pass", "multiply": "pass"}


def test_a_module_one_minitorch_package_is_its_scalars(tmp_path):
    """A module-1 repository has no Tensor yet: the package itself is checked through its Scalar."""
    folder = _with_mistakes("minitorch_like", tmp_path, "__init__.py", [
        ("from .tensor import Tensor, tensor  # noqa: F401\nfrom .tensor_functions import *  # noqa: F401,F403\n", "")])
    for name in ("tensor.py", "tensor_functions.py"):
        os.remove(os.path.join(folder, name))
    assert "arrays of Scalar, one number each" in load_target(folder).describe()
    report = derive.check("sigmoid", target=folder, examples=30, seed=0, database=None)
    assert report.status == "pass" and report.examples == 30, report


def test_a_minitorch_exp_that_ignores_its_upstream_gradient_fails(tmp_path):
    folder = _with_mistakes("minitorch_like", tmp_path, "tensor_functions.py", [
        ("return _t(grad_output._storage * out)", "return _t(out)")])
    verdicts = {op: derive.check(op, target=folder, examples=40, seed=0, database=None).status
                for op in ("exp", "multiply", "sigmoid")}
    assert verdicts == {"exp": "fail", "multiply": "pass", "sigmoid": "pass"}


def test_a_shape_is_passed_the_way_the_method_takes_it():
    from derive.catalog.registry import get_op

    class SizesApart:  # MiniTorch, needle: reshape(*shape)
        def __init__(self, a):
            self.a = np.asarray(a)

        def reshape(self, *shape):
            assert all(isinstance(n, int) for n in shape), shape
            return SizesApart(self.a.reshape(shape))

    out = get_op("reshape").call(None, SizesApart(np.arange(6.0)), shape=(3, -1))
    assert out.a.shape == (3, 2)
    assert get_op("reshape").call(None, np.arange(6.0), shape=(2, 3)).shape == (2, 3)  # NumPy's takes the tuple


@pytest.mark.parametrize("factor, status", [("1.0", "pass"), ("2.0", "fail")])
def test_a_forward_without_a_parameter_at_its_default_is_checked_not_skipped(tmp_path, factor, status):
    # Sum.forward(ctx, x, axis=None) names no keepdims: cases with keepdims=False are checked without it
    (tmp_path / "functions.py").write_text(
        "import numpy as np\n\n\n"
        "class Sum:\n"
        "    @staticmethod\n"
        "    def forward(ctx, x, axis=None):\n"
        "        ctx.shape, ctx.axis = np.shape(x), axis\n"
        "        return np.sum(x, axis=axis)\n\n"
        "    @staticmethod\n"
        "    def backward(ctx, grad):\n"
        "        if ctx.axis is not None:\n"
        "            grad = np.expand_dims(grad, ctx.axis)\n"
        f"        return np.broadcast_to(grad, ctx.shape) * {factor}\n")
    report = derive.check("sum", target=str(tmp_path / "functions.py"), examples=40, seed=0, database=None)
    assert report.status == status, report
    assert report.skipped_cases > 0 and "Sum takes no `keepdims`" in report.skipped_why()


def test_micrograd_variants_seen_in_public_code_load_with_no_false_alarm(tmp_path):
    """Leaves that keep a gradient only when made with requires_grad=True, and a bare assert refusing
    x ** Value: all checked, and the refusal is a protocol error, never a FAIL."""
    folder = _with_mistakes("micrograd", tmp_path, "engine.py", [
        ('def __init__(self, data, _children=(), _op=""):\n        self.data = data',
         'def __init__(self, data, _children=(), _op="", requires_grad=False):\n'
         '        self.requires_grad = requires_grad\n        self.data = data'),
        ("        for v in reversed(topo):\n            v._backward()\n",
         "        for v in reversed(topo):\n            v._backward()\n"
         "        for v in topo:\n            if not v._prev and not v.requires_grad:\n                v.grad = 0\n"),
        ('assert isinstance(other, (int, float)), "only supporting int/float powers for now"',
         "assert isinstance(other, (int, float))")])
    path = os.path.join(folder, "engine.py")
    reports = {op: derive.check(op, target=path, examples=30, seed=0, database=None, timeout=60)
               for op in ("multiply", "tanh", "power_scalar", "power")}
    assert {op: r.status for op, r in reports.items()} == {"multiply": "pass", "tanh": "pass", "power_scalar": "pass",
                                                          "power": "error"}
    assert "cannot be called the way derive tried: forward raised AssertionError" in reports["power"].message


NEEDLE_OPS = ("add", "subtract", "multiply", "divide", "power", "negative", "matmul", "transpose", "reshape",
              "broadcast_to", "sum", "exp", "log", "relu", "power_scalar", "logsumexp", "add_scalar", "mul_scalar",
              "divide_scalar")


def test_a_needle_package_is_checked_through_its_tensor_ops_as_needle_promises_them():
    """grad is only an annotation of needle's Tensor; elementwise ops take equal shapes (an EWiseAdd
    gradient of (out_grad, out_grad) is right), matmul 2-D and batched operands, reductions axes as
    tuples, and transpose swaps two axes: a correct needle passes, and the cases needle never promised
    are skipped, counted."""
    target = load_target(os.path.join(HERE, "needle"))
    assert "its TensorOps (compute/gradient)" in target.describe() and "transpose swaps two axes" in target.describe()
    r, ops = check_all(os.path.join(HERE, "needle"), examples=40)
    assert {n: ops[n]["status"] for n in NEEDLE_OPS} == dict.fromkeys(NEEDLE_OPS, "pass")
    assert set(ops) == set(NEEDLE_OPS) | {"affine"}  # every other op: skipped, the library has none
    assert all(ops[n]["examples"] >= 40 for n in NEEDLE_OPS)



def test_a_needle_whose_tensor_leaves_out_tensor_powers_skips_power(tmp_path):
    """hw1's handout Tensor raises NotImplementedError in ``__pow__`` for a Tensor exponent: the library
    does not offer power, so it is a SKIP that says so, not an ERROR that fails the run."""
    folder = _with_mistakes("needle", tmp_path, "autograd.py", [
        ("return ops.EWisePow()(self, other) if isinstance(other, Tensor) else ops.PowerScalar(other)(self)",
         "if isinstance(other, Tensor):\n            raise NotImplementedError()\n"
         "        return ops.PowerScalar(other)(self)")])
    r = subprocess.run([sys.executable, "-m", "derive.check", "power", "power_scalar", "multiply", "--target",
                        folder, "--format", "json", "--examples", "20", "--seed", "0", "--no-database"],
                       capture_output=True, text=True, timeout=600, cwd=tmp_path)
    ops = {o["op"]: o for o in json.loads(r.stdout)["ops"]}
    assert {n: o["status"] for n, o in ops.items()} == {"power": "skipped", "power_scalar": "pass", "multiply": "pass"}
    assert "not offered" in ops["power"]["message"] and "in __pow__" in ops["power"]["message"]
    assert r.returncode == 0, r.stderr

def test_a_needle_package_with_the_classic_mistakes_fails_where_they_are(tmp_path):
    folder = _with_mistakes("needle", tmp_path, "ops.py", [
        ("return out_grad * node\n", "return node\n"),  # exp ignores G
        ("return out_grad * self.scalar * power_scalar(a, self.scalar - 1)",
         "return out_grad * self.scalar * power_scalar(out_grad, self.scalar - 1)"),  # G to the power, not X
        ("return transpose(out_grad, self.axes)", "return transpose(out_grad)"),  # the axes forgotten
        ("return out_grad / self.scalar", "return out_grad * self.scalar"),  # divide_scalar multiplies
        # the batch axes an operand lacks are not summed back ((2, 3, 4) @ (4, 5): dl/dY of (2, 4, 5))
        ("        return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)", "        return grad_a, grad_b"),
        # an axes tuple read as its first axis (in Summation and LogSumExp alike)
        ("else [a % len(shape) for a in self.axes]", "else [self.axes[0] % len(shape)]")])
    r, ops = check_all(folder, examples=60)
    failed = {n for n, o in ops.items() if o["status"] == "fail"}
    assert failed == {"exp", "power_scalar", "transpose", "matmul", "sum", "logsumexp", "divide_scalar"}
    assert {n: ops[n]["status"] for n in ("add", "multiply", "reshape", "broadcast_to", "log")} == \
        dict.fromkeys(("add", "multiply", "reshape", "broadcast_to", "log"), "pass")


def test_a_needle_matmul_that_sums_only_missing_batch_axes_fails_on_a_size_1_batch_axis(tmp_path):
    """(1, 2, 3) @ (3, 3, 4): NumPy's @ in compute broadcasts the size-1 batch axis, and a gradient that
    sums back only the axes an operand lacks has shape (3, 2, 3). A public needle solution had exactly
    this, and derive used to skip the case as outside needle's promises."""
    folder = _with_mistakes("needle", tmp_path, "ops.py", [
        ("        return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)",
         "        return (summation(grad_a, tuple(range(len(grad_a.shape) - len(a.shape)))) "
         "if len(grad_a.shape) > len(a.shape) else grad_a), "
         "(summation(grad_b, tuple(range(len(grad_b.shape) - len(b.shape)))) "
         "if len(grad_b.shape) > len(b.shape) else grad_b)")])
    report = derive.check("matmul", target=folder, shapes=[(1, 2, 3), (3, 3, 4)], seed=0, database=None)
    fine = derive.check("matmul", target=folder, shapes=[(2, 2, 3), (3, 4)], seed=0, database=None)
    assert report.status == "fail", report.verdict()
    assert "dl/dX: gradient has shape (3, 2, 3), input has shape (1, 2, 3)" in report.failures[0].message
    assert fine.status == "pass", fine.verdict()  # the leading axes it lacks are summed back


def test_no_gradient_for_an_exponent_is_a_constant_and_for_a_matrix_a_claimed_zero(tmp_path):
    """mytorch's Power returns None for its exponent: held constant, said so, and dX still checked. A
    matmul returning None for Y claims dl/dY = 0, which is compared, and fails."""
    (tmp_path / "fns.py").write_text(
        "import numpy as np\n\n\n"
        "def _sum_to(g, shape):\n"
        "    g = g.sum(axis=tuple(range(g.ndim - len(shape))))\n"
        "    return g.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)\n\n\n"
        "def power(grad, x, y):\n"
        "    return _sum_to(grad * y * x ** (y - 1), np.shape(x)), None\n\n\n"
        "def matmul(grad, x, y):\n"
        "    if np.ndim(x) < 2 or np.ndim(y) < 2:\n"
        "        raise NotImplementedError('2-D only')\n"
        "    return grad @ np.swapaxes(y, -1, -2), None\n")
    power = derive.check("power", target=str(tmp_path / "fns.py"), examples=40, seed=0, database=None)
    assert power.status == "pass", power
    assert any("holds Y constant" in n for n in power.notes)
    matmul = derive.check("matmul", target=str(tmp_path / "fns.py"), shapes=[(2, 3), (3, 4)], seed=0,
                          database=None)
    assert matmul.status == "fail" and matmul.failures[0].input == "Y"
    assert "expected" in matmul.failures[0].message and "got 0" in matmul.failures[0].message


def test_a_binding_names_backward_functions_and_classes_in_their_own_styles():
    """ops= in the functions style names the backward function; in the function-class style, the class.
    Neither needs a name matching an op."""
    import types
    lib = types.SimpleNamespace(
        times_backward=lambda grad, x, y: (grad * y, grad * x),
        wrong_times=lambda grad, x, y: (grad * x, grad * y),
        Times=type("Times", (), {"forward": staticmethod(lambda ctx, x, y: (setattr(ctx, "xy", (x, y)), x * y)[1]),
                                 "backward": staticmethod(lambda ctx, grad: (grad * ctx.xy[1], grad * ctx.xy[0]))}))
    for ops, style, status in [({"multiply": lib.times_backward}, "functions", "pass"),
                               ({"multiply": "wrong_times"}, "functions", "fail"),
                               ({"mul": "Times"}, "function-class", "pass")]:
        binding = derive.Binding(lib, name="lib", ops=ops, style=style)
        report = derive.check("multiply", target=binding, shapes=[(2, 3), (2, 3)], seed=0, database=None)
        assert report.status == status, (ops, report)
    skipped = derive.check("exp", target=derive.Binding(lib, name="lib", ops={"multiply": lib.times_backward},
                                                          style="functions"), database=None)
    assert skipped.status == "skipped"


def test_load_time_probes_pass_values_and_a_case_the_api_refuses_does_not_drop_the_op():
    """conv's canonical case keeps stride as a symbol: probed with its default, on shapes that fit. A
    binding refusing the probe's case (sum over axis 1) still has the op's other cases checked."""
    from derive.catalog.registry import get_op
    from derive.targets.spelling import probe_case
    case = probe_case(get_op("conv2d"))
    assert case.params["stride"] == 1 and case.params["padding"] == 0
    get_op("conv2d").forward(*[np.ones(s) for s in case.shapes], **case.params)  # a case conv2d runs on
    import numeric
    binding = derive.Binding(numeric, tensor=numeric.Tensor, name="no-axis",
                             unsupported={"sum": lambda c: "sums over every axis only" if c.params.get("axis") is not None
                                          else False})
    report = derive.check("sum", target=binding, examples=30, seed=0, database=None)
    assert report.status == "pass" and report.examples == 30
    assert report.skipped_cases > 0 and "sums over every axis only" in report.skipped_why()


@pytest.mark.parametrize("negation, status", [("-1.0", "pass"), ("1.0", "differs")])
def test_a_subclass_of_a_course_tensor_is_checked_not_the_functions_it_re_exports(tmp_path, negation, status):
    """``from numeric import *`` re-exports numeric's functions (svm_loss among them, which reads as a
    CS231n pair): the student's own Tensor subclass, with its inherited backward and grad, is checked."""
    (tmp_path / "student.py").write_text(
        "from numeric import *  # noqa: F401,F403\nimport numeric\n\n\n"
        "class MyTensor(numeric.Tensor):\n"
        "    def __neg__(self):\n"
        f"        return self * {negation}\n")
    target = load_target(str(tmp_path / "student.py"))
    assert target.style == "tensor" and "svm_loss" not in target.describe()
    report = derive.check("negative", target=str(tmp_path / "student.py"), examples=20, seed=0, database=None)
    assert report.status == status, report


def test_a_forward_that_is_another_op_is_reported_before_the_error_its_backward_runs_into():
    """A vjp-style binding whose forward reduces (another op) and whose backward then cannot reshape G:
    the forward is compared first, so the report says the forward differs, not that the backward raised."""
    def vjp(fn, xs):
        return fn(*xs), lambda G: (np.reshape(G, np.shape(xs[0])) * np.exp(xs[0]),)
    binding = derive.Binding(np, name="reduces", style="functional", vjp=vjp,
                             ops={"exp": lambda api, x: np.exp(x).sum(axis=-1)})
    report = derive.check("exp", target=binding, shapes=[(3, 4)], seed=0, database=None)
    assert report.status == "differs", report
    assert "raised" not in str(report)


def test_leaves_come_from_the_tensor_factory_when_the_class_wants_its_own_storage():
    """Real MiniTorch builds a Tensor from TensorData, not from an array: leaves are made with
    ``minitorch.tensor(ls, requires_grad=True)``, constants with requires_grad=False."""
    import types
    from derive.targets.leaves import leaf_factories

    class TensorData:
        def __init__(self, values):
            self.values = np.asarray(values, dtype=float)

    class Tensor:
        def __init__(self, data, back=None):
            if not isinstance(data, TensorData):
                raise TypeError("Tensor takes TensorData")
            self.data, self.requires_grad = data, False

    def tensor(ls, requires_grad=False):
        assert isinstance(ls, (list, float)), type(ls)  # MiniTorch's factory takes (nested) lists
        t = Tensor(TensorData(ls))
        t.requires_grad = requires_grad
        return t

    leaf, constant = leaf_factories(Tensor, types.SimpleNamespace(tensor=tensor))
    x, c = leaf(np.arange(6.0).reshape(2, 3)), constant(np.ones(2))
    assert x.requires_grad and not c.requires_grad
    assert np.array_equal(x.data.values, np.arange(6.0).reshape(2, 3))


def test_a_word_embedding_that_unpacks_n_t_from_its_indices_is_checked_not_failed(tmp_path):
    """CS231n's word_embedding_forward(x, W) takes x of shape (N, T): ``N, T = x.shape`` raised on
    every 1-D case derive passed, a false FAIL. The lookups now go in as one row."""
    (tmp_path / "rnn_layers.py").write_text(
        "import numpy as np\n\n\n"
        "def word_embedding_forward(x, W):\n"
        "    N, T = x.shape\n"
        "    out = W[x]\n"
        "    return out, (x, W.shape)\n\n\n"
        "def word_embedding_backward(dout, cache):\n"
        "    x, shape = cache\n"
        "    dW = np.zeros(shape)\n"
        "    np.add.at(dW, x, dout)\n"
        "    return dW\n")
    report = derive.check("embedding", target=str(tmp_path / "rnn_layers.py"), examples=30, seed=0, database=None)
    assert report.status == "pass" and report.examples == 30, report


@pytest.mark.parametrize("backward, status", [
    ("d_output / a", "pass"),
    ("d_output / (a + EPS)", "pass"),  # both are what MiniTorch students write for log(x + EPS)
    ("1.0 / a", "fail"),  # G forgotten
    ("d_output / (a + 0.01)", "fail"),  # a guard a hundred times the forward's is another gradient
    ("d_output * math.log(a)", "fail")])
def test_a_minitorch_log_with_the_course_guard_is_log(tmp_path, backward, status):
    """MiniTorch hands out ``log(x) = math.log(x + EPS)``: that forward is log, with a note, and its
    gradient at X or at X + EPS passes, while a real mistake still FAILs."""
    folder = _with_mistakes("minitorch_like", tmp_path, "scalar.py", [("return d_output / a\n", f"return {backward}\n")])
    report = derive.check("log", target=os.path.join(folder, "scalar.py"), examples=40, seed=0, database=None)
    assert report.status == status, report
    assert any(n.startswith("the forward computes log(X + 1e-06), a guard against the singularity at 0")
               for n in report.notes), report.notes
    if status == "pass":
        assert report.examples == 40 and report.evidence["numeric"] == 40
    else:
        assert report.failures[0].input == "X" and report.failures[0].kind == "value", report
