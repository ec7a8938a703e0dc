"""APIs that course notebooks call and current libraries removed: given back in the kernel, and
noted (by name) for the report."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from shim_support import run_with_shims

from grader.grading import _missing_package, _shim_note
from grader.i18n import text_of


def test_numpy_aliases_work_as_they_did(tmp_path: Path) -> None:
    out, log = run_with_shims("""
        import numpy as np
        a = np.array([1.5, 2.5], dtype=np.float)
        print(a.dtype, np.int(3.7), np.object, np.NaN != np.NaN, np.Inf, np.asscalar(np.array([7])),
              np.product([2, 3]), np.float_ is np.float64, np.in1d([[1, 5]], [5]).tolist(), np.trapz([1, 1]))
        try:
            np.no_such_thing
        except AttributeError:
            print("still raises")
    """, tmp_path)
    assert out.split() == ["float64", "3", "<class", "'object'>", "True", "inf", "7", "6", "True",
                           "[False,", "True]", "1.0", "still", "raises"]
    assert log == "compat:numpy_alias\n"


def test_matplotlib_get_cmap_and_old_seaborn_styles(tmp_path: Path) -> None:
    out, log = run_with_shims("""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib import cm
        plt.style.use('seaborn-whitegrid')
        print(cm.get_cmap('viridis').name, cm.get_cmap('viridis', 5).N, plt.cm.get_cmap('jet').name)
    """, tmp_path)
    assert out.split() == ["viridis", "5", "jet"]
    assert sorted(log.split()) == ["compat:get_cmap", "compat:seaborn_style"]


def test_pandas_append_and_iteritems(tmp_path: Path) -> None:
    out, log = run_with_shims("""
        import pandas as pd
        df = pd.DataFrame({'x': [1], 'y': [2]})
        df = df.append({'x': 3, 'y': 4}, ignore_index=True)
        df = df.append(pd.DataFrame({'x': [5], 'y': [6]}), ignore_index=True)
        s = pd.Series([1]).append(pd.Series([2]), ignore_index=True)
        print(df['x'].tolist(), s.tolist(), [k for k, _ in df.iteritems()])
    """, tmp_path)
    assert out.strip() == "[1, 3, 5] [1, 2] ['x', 'y']"
    assert sorted(log.split()) == ["compat:pandas_append", "compat:pandas_iteritems"]


def test_scipy_misc_derivative(tmp_path: Path) -> None:
    out, log = run_with_shims("""
        import math
        from scipy.misc import derivative
        print(round(derivative(math.sin, 1.0, dx=1e-5), 6), round(derivative(lambda x: x**3, 2.0, dx=1e-3, n=2, order=5), 4))
    """, tmp_path)
    assert out.split() == [str(round(math.cos(1.0), 6)), "12.0"]
    assert log == "compat:scipy_derivative\n"


def test_sklearn_plot_functions(tmp_path: Path) -> None:
    out, log = run_with_shims("""
        import matplotlib
        matplotlib.use("Agg")
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import plot_confusion_matrix
        X, y = [[0], [1], [2], [3]], [0, 0, 1, 1]
        shown = plot_confusion_matrix(LogisticRegression().fit(X, y), X, y)
        print(type(shown).__name__)
    """, tmp_path)
    assert out.strip() == "ConfusionMatrixDisplay"
    assert log == "compat:sklearn_plot\n"


def test_nothing_is_noted_when_nothing_old_is_used(tmp_path: Path) -> None:
    _, log = run_with_shims("import numpy as np, pandas as pd\nprint(np.float64(1), pd.DataFrame().shape)", tmp_path)
    assert log == ""


@pytest.mark.parametrize(("line", "lang", "expected"), [
    ("compat:get_cmap", "ru", "matplotlib.cm.get_cmap удалён в matplotlib 3.9"),
    ("compat:pandas_append", "en", "DataFrame.append and Series.append were removed in pandas 2.0"),
    ("keras: fit_generator -> fit", "en", "Offline: keras: fit_generator -> fit"),
])
def test_shim_notes_are_worded_in_the_reports_language(line: str, lang: str, expected: str) -> None:
    assert text_of(_shim_note(line), lang).startswith(expected)


def test_a_missing_package_is_named() -> None:
    assert _missing_package("No module named 'skorch.net'") == "skorch"
    assert _missing_package("something else") is None


@pytest.mark.kernel
def test_a_notebook_runs_on_past_a_missing_package_and_an_old_api(tmp_path: Path) -> None:
    import nbformat

    from grader.grading import _run_notes
    from grader.run.runner import RunRequest, run_submission
    from grader.sandbox import get_sandbox

    work = tmp_path / "student"
    work.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in (
        "import numpy as np\nx = np.float(2)", "import skorch_not_installed_here\ny = 1", "z = x * 2\nprint(z)")]
    entry = work / "task.ipynb"
    nbformat.write(nb, str(entry))
    run = run_submission(RunRequest(entry=entry, files=(entry,), files_root=work, timeout_s=60),
                         get_sandbox("auto", fallback=True), tmp_path / "out")
    assert [c.status for c in run.cells] == ["ok", "error", "ok"]
    notes = [text_of(n, "en") for n in _run_notes(run, 60)]
    assert any("the package skorch_not_installed_here is not installed" in n and n.startswith("Cell 2") for n in notes)
    assert any(n.startswith("The work uses aliases numpy no longer has") for n in notes)
