"""The hostile corpus: tiny submissions, made in the test, each attacking the grader one way.

Every attack is bounded on its own (a fixed number of forks, bytes, seconds), so that even a
broken sandbox could not take the test machine down: the sandbox is what makes each one end
early, and the tests check that it did.
"""
from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[2]

# A correct Task 1 solution: full marks on every check of the Task 1 rubric.
GOOD_CELLS = (
    "import numpy as np\nimport matplotlib.pyplot as plt",
    "def f(x):\n    return 3 * x**2 - np.sin(x) + np.exp(x) - 5\n\n"
    "def df(x):\n    return 6 * x - np.cos(x) + np.exp(x)",
    "x = 1.5\nlr = 0.05\nxs = [x]\nfor i in range(30):\n    x = x - lr * df(x)\n    xs.append(x)\n"
    "print(xs[-1], f(xs[-1]))",
    "grid = np.linspace(-3, 3, 200)\nplt.plot(grid, f(grid))\nxs_arr = np.array(xs)\n"
    "plt.scatter(xs_arr, f(xs_arr), color='red')\nplt.show()",
    "x = 1.5\nfor i in range(10000):\n    x_new = x - lr * df(x)\n    if abs(f(x_new) - f(x)) < 1e-6:\n"
    "        x = x_new\n        break\n    x = x_new\nprint('steps:', i + 1, 'x* =', x)",
    "def momentum(x, lr=0.05, gamma=0.9, steps=200):\n    v = 0.0\n    pts = [x]\n"
    "    for _ in range(steps):\n        v = gamma * v + lr * df(x)\n        x = x - v\n        pts.append(x)\n"
    "    return pts\n\npts_m = momentum(1.5)\nprint(pts_m[-1])",
    "def nesterov(x, lr=0.05, gamma=0.9, steps=200):\n    v = 0.0\n    pts = [x]\n"
    "    for _ in range(steps):\n        v = gamma * v + lr * df(x - gamma * v)\n        x = x - v\n"
    "        pts.append(x)\n    return pts\n\npts_n = nesterov(1.5)\nprint(pts_n[-1])",
)
AFTER = "print('the cell after the attack ran')"


@dataclass(frozen=True)
class World:
    """What the attacks aim at: paths and values of the grader's side, known only outside."""

    root: Path  # the class folder
    out: Path  # the output folder of the batch
    secret_file: Path  # a file with SECRET in it, placed next to the class folder
    secret: str
    token_var: str  # an environment variable of the grader process holding `token`
    token: str
    port: int  # a TCP server on the host's 127.0.0.1
    marker: str  # a number in the command line of every process an attack leaves behind
    backend: str  # "bwrap" or "plain"
    forged: str = "{}"  # a real probe payload of a good student (JSON): what forgers hand back

    @property
    def other_notebook(self) -> Path:
        return self.root / GOOD[0] / "work.ipynb"


def notebook(cells: tuple[str, ...] | list[str]) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    return nbformat.writes(nb)


def write_notebook(folder: Path, cells: tuple[str, ...] | list[str], name: str = "work.ipynb") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(notebook(cells), encoding="utf-8")


@dataclass(frozen=True)
class Case:
    name: str  # the student's folder name (and student id)
    build: Callable[[Path, World], None]  # writes the student's folder into the class folder
    backends: tuple[str, ...] = ("bwrap",)


def _cells(*cells: str | tuple[str, ...]) -> Callable[[Path, World], None]:
    """A case that is one notebook; cells may mention {marker}, {secret_file}, ... of the World."""
    flat: list[str] = []
    for c in cells:
        flat.extend(c if isinstance(c, tuple) else (c,))

    def build(folder: Path, world: World) -> None:
        values = {
            "marker": world.marker, "secret_file": str(world.secret_file), "out": str(world.out),
            "other_notebook": str(world.other_notebook), "port": world.port, "root": str(world.root),
            "token_var": world.token_var, "own_folder": str(folder),
            "rubric": str(REPO / "rubrics" / "task1.yaml"), "forged": world.forged,
        }
        write_notebook(folder, [c.format(**values) for c in flat])

    return build


# ------------------------------------------------------------------------------------------
# Run-time attacks

ENDLESS_LOOP = _cells("n = 0\nwhile True:\n    n += 1", AFTER)
SLEEP_FOREVER = _cells("import time\ntime.sleep(3600)", AFTER)
SIGINT_IGNORED = _cells(
    "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nend = time.time() + 120\n"
    "while time.time() < end:\n    pass",
    AFTER,
)
MEMORY_BOMB = _cells("hoard = []\nfor _ in range(64):\n    hoard.append(b'x' * (64 * 2**20))", AFTER)
FORK_BOMB = _cells(
    "import os\nchildren = []\ntry:\n    for _ in range(300):\n        pid = os.fork()\n"
    "        if pid == 0:\n            os.execv('/bin/sleep', ['sleep', '{marker}'])\n            os._exit(0)\n"
    "        children.append(pid)\nexcept OSError as exc:\n    print('fork refused after', len(children), exc)",
    AFTER,
)
# Every process forks as it goes (2**8 at most) and then spins; copies leave when time is up.
FORK_BOMB_SPINNING = _cells(
    "import os, time\nme = os.getpid()\nend = time.time() + 60\nfor _ in range(8):\n    try:\n"
    "        os.fork()\n    except OSError:\n        pass\ntry:\n    while time.time() < end:\n        pass\n"
    "finally:\n    if os.getpid() != me:\n        os._exit(0)",
    AFTER,
)
_FILL = "with open({path!r}, 'wb') as fh:\n    for _ in range(300):\n        fh.write(b'\\0' * 2**20)\n        fh.flush()"
DISK_FILLER = _cells(_FILL.format(path="big.bin"), _FILL.format(path="/tmp/big.bin"),
                     _FILL.format(path="/dev/shm/big.bin"), AFTER)
DISK_FILLER_SCRATCH = _cells(_FILL.format(path="big.bin"), AFTER)
PRINT_FLOOD = _cells("import sys\nchunk = 'x' * 2**20\nfor _ in range(100):\n    sys.stdout.write(chunk)", AFTER)
SYS_EXIT = _cells("import sys\nsys.exit(3)", GOOD_CELLS)
OS_EXIT = _cells("import os\nos._exit(1)", GOOD_CELLS)
SEGFAULT = _cells("import ctypes\nctypes.string_at(0)", GOOD_CELLS)
KILL_PARENT = _cells("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)", GOOD_CELLS)
# `kill -9 -1` and friends; only fired where /proc shows a sandbox's handful of processes, so a
# broken sandbox is never asked to kill the whole machine.
KILL_EVERYTHING = _cells(
    "import os, signal\nprocs = [p for p in os.listdir('/proc') if p.isdigit()]\n"
    "assert len(procs) < 20, f'not in a PID namespace: {{len(procs)}} processes visible'\n"
    "for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGKILL):\n"
    "    for target in (os.getppid(), 1):\n        os.kill(target, sig)\n"
    "    try:\n        os.kill(-1, sig)\n    except ProcessLookupError:\n        pass\n"
    "print('sent kill -1 from Python', flush=True)\nos.system('kill -9 -1')  # the shell's kill: the kernel too",
    GOOD_CELLS,
)
DAEMONS = _cells(
    "import subprocess\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)",
    "import os\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
    "        os.execv('/bin/sleep', ['sleep', '{marker}'])\n    os._exit(0)\nos.wait()",
    GOOD_CELLS,
)
OUTBOX_FORGERY = _cells(
    "import os\nspec = [a for a in open(f'/proc/{{os.getppid()}}/cmdline').read().split('\\0') if a.endswith('spec.json')][0]\n"
    "box = os.path.dirname(spec)\nos.symlink({secret_file!r}, os.path.join(box, 'stolen.json'))\n"
    "os.symlink({secret_file!r}, os.path.join(box, 'fig77.png'))\nos.mkfifo(os.path.join(box, 'pipe.json'))\n"
    "print('planted in', box)",
    GOOD_CELLS,
)

# ------------------------------------------------------------------------------------------
# Reading and writing what is not the student's

READ_OUTSIDE = _cells(
    "print(open({other_notebook!r}).read())",
    "print(open({secret_file!r}).read())",
    "import os\nprint(os.listdir({out!r}))",
    "import os\nprint(os.listdir({root!r}))",
    "print(open({rubric!r}).read())",
    GOOD_CELLS,
)
WRITE_OUTSIDE = _cells(
    "open({own_folder!r} + '/planted.txt', 'w').write('x')",
    "open({out!r} + '/planted.txt', 'w').write('x')",
    "import grader_inside, os\nopen(os.path.join(os.path.dirname(grader_inside.__file__), 'planted.py'), 'w').write('x')",
    "import sys, os\nopen(os.path.join(sys.prefix, 'planted.txt'), 'w').write('x')",
    "open('/etc/planted.txt', 'w').write('x')",
    GOOD_CELLS,
)
ENV_SECRETS = _cells(
    "import os\nprint(sorted(os.environ))\nleaked = os.environ.get({token_var!r})\nassert leaked is None, leaked",
    GOOD_CELLS,
)
NETWORK = _cells(
    "import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=3)\nprint(s.recv(64))",
    "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=3)",
    GOOD_CELLS,
)

# ------------------------------------------------------------------------------------------
# Broken or dangerous files (intake)


def _zip_slip(folder: Path, world: World) -> None:
    folder.mkdir(parents=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("work.ipynb", notebook(GOOD_CELLS))
        zf.writestr("../../escaped.txt", "escaped")
    (folder / "work.zip").write_bytes(buf.getvalue())


def _zip_bomb(folder: Path, world: World) -> None:
    folder.mkdir(parents=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("work.ipynb", notebook(GOOD_CELLS))
        zf.writestr("data.bin", b"\0" * (100 * 2**20))  # 100 MB of zeros, about 100 KB packed
    (folder / "work.zip").write_bytes(buf.getvalue())


def _broken_json(folder: Path, world: World) -> None:
    folder.mkdir(parents=True)
    (folder / "work.ipynb").write_text(notebook(GOOD_CELLS)[:200], encoding="utf-8")


def _nbformat3(folder: Path, world: World) -> None:
    folder.mkdir(parents=True)
    cells = [{"cell_type": "code", "input": src, "language": "python", "outputs": [], "metadata": {}}
             for src in GOOD_CELLS]
    nb = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": "work"},
          "worksheets": [{"cells": cells, "metadata": {}}]}
    (folder / "work.ipynb").write_text(json.dumps(nb), encoding="utf-8")


def _not_a_notebook(folder: Path, world: World) -> None:
    folder.mkdir(parents=True)
    (folder / "work.ipynb").write_text(json.dumps({"name": "results", "values": [1, 2, 3]}), encoding="utf-8")


def _binary(folder: Path, world: World) -> None:
    folder.mkdir(parents=True)
    (folder / "work.ipynb").write_bytes(bytes(range(256)) * 64)


def _huge_outputs(folder: Path, world: World) -> None:
    """A correct notebook whose saved outputs weigh about 30 MB (printed lines and an image)."""
    nb = nbformat.reads(notebook(GOOD_CELLS), as_version=4)
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", name="stdout", text="1.0\n" * 2_000_000)]
    nb.cells[3].outputs = [nbformat.v4.new_output(
        "display_data", data={"image/png": "iVBORw0KGgo" + "A" * 10_000_000, "text/plain": "<Figure>"})]
    folder.mkdir(parents=True)
    nbformat.write(nb, str(folder / "work.ipynb"))


# ------------------------------------------------------------------------------------------

GOOD = ("good_a", "Петрова Анна")  # two correct students: the neighbours that must stay intact

BOTH = ("bwrap", "plain")  # run-time attacks whose outcome must not depend on isolation
CASES: dict[str, Case] = {c.name: c for c in (
    Case("endless_loop", ENDLESS_LOOP, BOTH),
    Case("sleep_forever", SLEEP_FOREVER),
    Case("sigint_ignored", SIGINT_IGNORED, BOTH),
    Case("memory_bomb", MEMORY_BOMB, BOTH),
    Case("fork_bomb", FORK_BOMB, BOTH),
    Case("fork_bomb_spinning", FORK_BOMB_SPINNING),
    Case("disk_filler", DISK_FILLER),
    Case("disk_filler_scratch", DISK_FILLER_SCRATCH, ("plain",)),  # plain: /tmp, /dev/shm are the host's
    Case("print_flood", PRINT_FLOOD, BOTH),
    Case("huge_outputs", _huge_outputs),
    Case("sys_exit", SYS_EXIT),
    Case("os_exit", OS_EXIT, BOTH),
    Case("segfault", SEGFAULT),
    Case("kill_parent", KILL_PARENT, BOTH),
    Case("kill_everything", KILL_EVERYTHING),  # never under plain: it would kill the host
    Case("daemons", DAEMONS, BOTH),
    Case("outbox_forgery", OUTBOX_FORGERY, BOTH),
    Case("read_outside", READ_OUTSIDE),  # plain isolates no files and no network
    Case("write_outside", WRITE_OUTSIDE),
    Case("env_secrets", ENV_SECRETS, BOTH),
    Case("network", NETWORK),
    Case("zip_slip", _zip_slip),  # intake: the same whatever runs the code
    Case("zip_bomb", _zip_bomb),
    Case("broken_json", _broken_json),
    Case("nbformat3", _nbformat3),
    Case("not_a_notebook", _not_a_notebook),
    Case("binary", _binary),
)}


def build_class(root: Path, world: World, names: list[str]) -> None:
    """The class folder: the two good students and the named hostile cases."""
    for good in GOOD:
        write_notebook(root / good, GOOD_CELLS)
    for name in names:
        CASES[name].build(root / name, world)


def new_marker() -> str:
    """A number no other process on the machine has in its command line: sleep's argument, in
    seconds, so a process that escaped would still end within 12 minutes."""
    unique = uuid.uuid4().int
    return f"{600 + unique % 100}.{unique // 100 % 10**9:09d}"


# ------------------------------------------------------------------------------------------
# Forgeries: a grade that is not earned (tests/hostile/test_forgery.py)

# Where the run's outbox is (the harness's spec file sits in it): visible to the kernel, which
# shares the harness's user.
_FIND_OUTBOX = "import glob, os\nbox = os.path.dirname(glob.glob('/tmp/scratch-*/spec.json')[0])\n"
_MIME = "'application/vnd.' + 'gra' + 'der.probe+json'"
FORGED_FINISH = _cells(
    "import json, sys, IPython.display\nkernel = sys.modules['grader_inside.probes.kernel']\n"
    "FORGED = json.loads({forged!r})\n"
    "kernel.finish = lambda ns: IPython.display.display({{" + _MIME + ": FORGED}}, raw=True)",
)
# The same, with every name of the grader's built at run time: only the seals can tell.
FORGED_FINISH_HIDDEN = _cells(
    "import json, sys, IPython.display\nname = ''.join(['gra', 'der', '_ins', 'ide.pro', 'bes.ker', 'nel'])\n"
    "setattr(sys.modules[name], 'fin' + 'ish',\n"
    "        lambda ns: IPython.display.display({{" + _MIME + ": json.loads({forged!r})}}, raw=True))",
)
FORGED_FILES = _cells(
    _FIND_OUTBOX + "import json\npayload = json.loads({forged!r})\n"
    "files = {{'probe.json': payload['probe'], 'figures.json': payload['figures'],\n"
    "         'run.json': {{'cells': [{{'number': 1, 'status': 'ok'}}], 'error': None}}}}\n"
    "for name, data in files.items():\n    path = os.path.join(box, name)\n"
    "    with open(path, 'w') as fh:\n        json.dump(data, fh)\n    os.chmod(path, 0o444)\n"
    "os.makedirs(os.path.join(box, 'executed.ipynb'), exist_ok=True)\nprint('planted in', box)",
)
IMPORTED_INTERNALS = _cells(
    "import importlib\ngd = importlib.import_module('grader' + '_inside.probes.gd')\nprint(gd.GRID)",
    GOOD_CELLS,
)
READ_INTERNALS = _cells("print(open('/opt/grader-pkg/' + 'grader' + '_inside/probes/gd.py').read()[:300])", GOOD_CELLS)
PATCHED_CODE = _cells(
    "import sys\ncapture = sys.modules['grader' + '_inside.probes.capture']\n"
    "capture.FigureCapture.flush.__code__ = (lambda self: None).__code__",
    GOOD_CELLS,
)
WIRE = _cells(
    "import glob\nfor path in glob.glob('/tmp/.grader-*/wire'):\n    try:\n"
    "        open(path, 'w').write('a forged seal')\n    except OSError as exc:\n        print('refused:', exc)",
    GOOD_CELLS,
)
# 2,000,000 empty objects handed back as the probe's data (8 MB of JSON): the grader must refuse
# them before they become 2,000,000 dicts in its own process.
JSON_BOMB = _cells(
    "import sys, IPython.display\nname = ''.join(['gra', 'der', '_ins', 'ide.pro', 'bes.ker', 'nel'])\n"
    "bomb = {{'probe': {{'gd': {{'sequences': [{{}}] * 2_000_000}}}}, 'figures': []}}\n"
    "setattr(sys.modules[name], 'fin' + 'ish', lambda ns: IPython.display.display({{" + _MIME + ": bomb}}, raw=True))",
)
INODE_FLOOD = _cells(
    _FIND_OUTBOX + "for i in range(300_000):\n    open(os.path.join(box, 'f%06d' % i), 'w').close()\n"
    "print(len(os.listdir(box)))",
    GOOD_CELLS,
)

# torch.optim doing the steps, the momentum and Nesterov's look-ahead that the task asks students
# to write themselves: recognised and named, worth only the rubric's `library` share.
LIBRARY_OPTIMISER = _cells(
    "import torch\nimport matplotlib.pyplot as plt\n"
    "def f(x):\n    return 3 * x**2 - torch.sin(x) + torch.exp(x) - 5",
    "x = torch.tensor(1.5, requires_grad=True)\nopt = torch.optim.SGD([x], lr=0.05, momentum=0.9, nesterov=True)\n"
    "xs = [x.item()]\nfor _ in range(60):\n    opt.zero_grad()\n    f(x).backward()\n    opt.step()\n"
    "    xs.append(x.item())\nprint(xs[-1])",
    "grid = torch.linspace(-3, 3, 200)\nplt.plot(grid, f(grid))\nt = torch.tensor(xs)\n"
    "plt.scatter(t, f(t), color='red')\nplt.show()",
)

FORGERIES: dict[str, Case] = {c.name: c for c in (
    Case("library_optimiser", LIBRARY_OPTIMISER),
    Case("forged_finish", FORGED_FINISH),
    Case("forged_finish_hidden", FORGED_FINISH_HIDDEN),
    Case("forged_files", FORGED_FILES),
    Case("imported_internals", IMPORTED_INTERNALS),
    Case("read_internals", READ_INTERNALS),
    Case("patched_code", PATCHED_CODE),
    Case("wire", WIRE),
    Case("json_bomb", JSON_BOMB),
    Case("inode_flood", INODE_FLOOD),
)}
