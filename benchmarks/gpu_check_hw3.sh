#!/usr/bin/env bash
# HW 3 on a lent GPU: the decode-once benchmark with resnet18 on CUDA at the issue's size, and one
# HW 3 sample graded end to end with --retrain --device cuda. Timings, logs and results.json go to
# $OUT (the device tool brings back at most 8 files from there).
#
# The GPU machine has no network. Its python3 (3.12) holds torch, torchvision, numpy, pillow,
# scikit-learn, matplotlib, pandas, jinja2, click and pyyaml, but not the grader's notebook stack
# (nbclient, ipykernel, pydantic ...): those travel as wheels in .whl (git-ignored), fetched here.
#
#   here, once:   bash benchmarks/gpu_check_hw3.sh --fetch-wheels      (pip download, ~30 MB)
#   device tool:  run(command="bash benchmarks/gpu_check_hw3.sh", carry=[".whl"], timeout_s=540)
#
# On the device it installs the wheels offline into /tmp/hw3gpu/site (named in a .pth file of the
# machine's Python, which is given back bare afterwards), checks every import the grader needs, and
# stops at once, with the reason, when torch sees no CUDA GPU (exit 3) or a module is missing
# (exit 4). Exit 5: the benchmark or the grading failed, or the retraining did not run on CUDA.
# Environment: PYTHON (default python3), OUT (default: a new temporary folder), HW3_IMAGES and
# HW3_MODELS (benchmark size, default 1500 and 20), HW3_SAMPLE (default ivanov_ivan), HW3_DEVICE
# (default cuda; cpu tries the steps on a machine without a GPU, at a small size, not a GPU check).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
PY="${PYTHON:-python3}"
DEVICE="${HW3_DEVICE:-cuda}"
WHEELS="$ROOT/.whl"
# The grader's runtime needs that the GPU image lacks, with their own needs (Python 3.12, Linux).
NEEDED=(nbformat nbclient papermill ipykernel ipython ipython-pygments-lexers jupyter-client jupyter-core
        traitlets comm debugpy matplotlib-inline nest-asyncio2 pyzmq tornado jedi parso pexpect ptyprocess
        prompt-toolkit wcwidth stack-data asttokens executing pure-eval platformdirs fastjsonschema
        jsonschema jsonschema-specifications referencing rpds-py entrypoints tenacity pydantic pydantic-core
        annotated-types typing-inspection dockerfile-parse)
IMPORTS="nbformat nbclient papermill ipykernel jupyter_client zmq tornado pydantic dockerfile_parse yaml jinja2
click sklearn PIL matplotlib pandas numpy torch torchvision"

if [[ "${1:-}" == "--fetch-wheels" ]]; then
    # Here, with the network: the versions this checkout is tested with (the local venv's), as
    # CPython 3.12 manylinux wheels, without their needs (the GPU image has the rest).
    mkdir -p "$WHEELS"
    grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >> .git/info/exclude
    pins=$("$PY" - "${HW3_WHEELS:-${NEEDED[*]}}" <<'EOF'
import importlib.metadata as md, sys
for name in sys.argv[1].split():
    try:
        print(f"{name}=={md.version(name)}")
    except md.PackageNotFoundError:
        print(name)
EOF
) || exit 1
    # shellcheck disable=SC2086
    "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$WHEELS" $pins || exit 1
    du -sh "$WHEELS"
    exit 0
fi

OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
WORK=/tmp/hw3gpu
SUMMARY="$OUT/summary.txt"
log() { printf '[gpu_check_hw3 %s] %s\n' "$(date +%H:%M:%S)" "$*" | tee -a "$SUMMARY"; }
fail() { log "FAILED: $2"; exit "$1"; }
START=$SECONDS

# 1. a CUDA GPU, before anything is installed
log "python: $("$PY" -c 'import sys; print(sys.executable, sys.version.split()[0])' 2>&1)"
cuda=$("$PY" -c 'import torch; ok = torch.cuda.is_available(); print("yes" if ok else "no", f"torch {torch.__version__} (CUDA build {torch.version.cuda})", torch.cuda.get_device_name(0) if ok else "")' 2>&1) \
    || fail 3 "$PY cannot import torch ($(echo "$cuda" | tail -1)); set PYTHON to a Python with torch"
smi=$(command -v nvidia-smi > /dev/null && nvidia-smi -L 2>&1 | head -1 || echo "not installed")
seen="${cuda#no }"
[[ "$cuda" == yes* || "$DEVICE" == cpu ]] || fail 3 "no CUDA GPU here: ${seen% } sees none; nvidia-smi: $smi. This check needs the device tool's GPU machine; on a CPU use benchmarks/bench_hw3_cache.py --device cpu (or HW3_DEVICE=cpu to try these steps)."
log "torch, CUDA, GPU: $cuda; checking on $DEVICE"

# 2. the grader's dependencies: the machine's packages plus the carried wheels, offline. The wheels
# go to a folder of their own, named in a .pth file of the machine's environment, so that every
# Python process of it sees them (the sandboxed kernel starts with a clean environment, no
# PYTHONPATH), after the machine's own packages (nothing of torch's stack is replaced).
if compgen -G "$WHEELS/*.whl" > /dev/null; then
    mkdir -p "$WORK" && rm -rf "$WORK/site"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" "$WHEELS"/*.whl \
        > "$WORK/pip.log" 2>&1 || fail 4 "installing the wheels from .whl failed: $(tail -3 "$WORK/pip.log")"
    site=$("$PY" -c 'import site; print(site.getsitepackages()[0])') || fail 4 "no site-packages folder for $PY"
    echo "$WORK/site" > "$site/zz_gpu_check_hw3.pth" || fail 4 "cannot write a .pth file into $site"
fi
missing=$("$PY" - "$IMPORTS" <<'EOF'
import importlib, sys
gone = []
for name in sys.argv[1].split():
    try:
        importlib.import_module(name)
    except Exception as exc:
        gone.append(f"{name} ({type(exc).__name__}: {exc})"[:160])
print("; ".join(gone))
EOF
)
[[ -z "$missing" ]] || fail 4 "modules missing on this machine: $missing. Here, fetch their wheels (bash benchmarks/gpu_check_hw3.sh --fetch-wheels; HW3_WHEELS='name ...' for others) and carry .whl."
# the sandbox gives the kernel a clean environment: does torch see the GPU there too?
clean=$(env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp "$PY" -c 'import torch; print(torch.cuda.is_available())' 2>&1 | tail -1)
log "torch.cuda.is_available() with a clean environment (as in the sandbox): $clean"
{ nvidia-smi 2>&1 | head -15; "$PY" -m pip list 2>/dev/null | grep -iE '^(torch|torchvision|nbclient|ipykernel|pydantic) '; \
  echo "bwrap: $(command -v bwrap || echo none)"; nproc; free -g | head -2; } > "$OUT/env.txt" 2>&1
export PYTHONUNBUFFERED=1 PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

# 3. the decode-once benchmark: resnet18 on CUDA at the issue's size
log "benchmark: ${HW3_IMAGES:-1500} images, ${HW3_MODELS:-20} resnet18 models, --device $DEVICE"
"$PY" benchmarks/bench_hw3_cache.py --device "$DEVICE" --arch resnet18 --images "${HW3_IMAGES:-1500}" \
    --models "${HW3_MODELS:-20}" --work "$WORK/bench" --json "$OUT/bench_resnet18_$DEVICE.json" 2>&1 \
    | tee "$OUT/bench.log" || fail 5 "the benchmark failed (see bench.log)"
tail -4 "$OUT/bench.log" >> "$SUMMARY"

# 4. one HW 3 sample graded with --retrain --device cuda on the stand-in data and weights
sample="${HW3_SAMPLE:-ivanov_ivan}"
rm -rf "$WORK/grade" && mkdir -p "$WORK/grade/subs" && cp -r "submissions/hw3/$sample" "$WORK/grade/subs/" \
    || fail 5 "no sample submissions/hw3/$sample"
"$PY" - "$WORK/grade" <<'EOF' || fail 5 "cannot make the stand-in data, weights or rubric"
import sys
from pathlib import Path

import yaml

sys.path.insert(0, "tools")
from hw3_data import make_shapes_dataset, write_fake_weights

from grader.rubric import load_rubric

work = Path(sys.argv[1])
make_shapes_dataset(work / "data")
write_fake_weights(work / "weights")
# rubrics/hw3.yaml at the stand-in's sizes (64x64 images), as tests/integration/test_hw3_samples.py
# grades the samples, with a retraining budget of 120 s (on a GPU; 60 s on a CPU)
rubric = yaml.safe_load(Path("rubrics/hw3.yaml").read_text(encoding="utf-8"))
rubric["data"]["afhq"]["image_size"] = 64
rubric["limits"].update(timeout_s=400, cell_timeout_s=300, memory_gb=16)
rubric["evaluation"].update(format_images=18, timeout_s=240, batch_size=32)
rubric["evaluation"]["retrain_budget"].update(budget_s=120, cpu_budget_s=60)
(work / "hw3_gpu.yaml").write_text(yaml.safe_dump(rubric, allow_unicode=True, sort_keys=False), encoding="utf-8")
load_rubric(work / "hw3_gpu.yaml")
EOF
log "grading submissions/hw3/$sample with --retrain --device $DEVICE"
t0=$SECONDS
"$PY" -m grader grade "$WORK/grade/subs" -a "$WORK/grade/hw3_gpu.yaml" -o "$WORK/grade/out" --lang en --workers 1 \
    --force --retrain --device "$DEVICE" --data "afhq=$WORK/grade/data/afhq" --weights "$WORK/grade/weights" \
    > "$OUT/grade.log" 2>&1 || fail 5 "grader grade failed: $(tail -5 "$OUT/grade.log")"
log "graded in $((SECONDS - t0)) s"
cp "$WORK/grade/out/results.json" "$OUT/results.json"
cp "$WORK/grade/out/$sample/run/models/models.json" "$OUT/models.json" 2>/dev/null
"$PY" - "$WORK/grade/out" "$sample" "$DEVICE" <<'EOF' | tee -a "$SUMMARY"
import json, sys
from pathlib import Path

out, sample, device = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
student = json.loads((out / "results.json").read_text(encoding="utf-8"))["students"][0]
print(f"{student['student']}: {student['score']}/{student['max_score']} ({student['status']}) in "
      f"{student['duration_s']:.1f} s; sandbox: {student['sandbox'][:90]}")
for check in student["checks"]:
    if check["id"] in ("accuracy", "transfer_learning", "retrained"):
        print(f"  {check['id']}: {check['status']} {check['points']}/{check['max_points']}: {check['message'][:240]}")
models = json.loads((out / sample / "run" / "models" / "models.json").read_text(encoding="utf-8"))
print(f"  probe device {models.get('device')}, probe {models.get('duration_s')} s")
ran = [m["retrain"] for m in models.get("models", []) if isinstance(m.get("retrain"), dict)]
for r in ran:
    print(f"  retrained on {r['device']}: {r['seconds']} s of {r['budget_s']} s, stopped by {r['stopped']}")
for m in models.get("models", []):
    if m.get("inference_s") is not None:
        print(f"  {m.get('name')}: hidden-split inference {m['inference_s']:.3f} s (forward {m.get('forward_s', 0):.3f} s)")
sys.exit(0 if ran and all(str(r["device"]).startswith(device) for r in ran) else 1)
EOF
[[ ${PIPESTATUS[0]} -eq 0 ]] || fail 5 "the retraining did not run on $DEVICE (see models.json, grade.log)"
log "done in $((SECONDS - START)) s; files in $OUT"
