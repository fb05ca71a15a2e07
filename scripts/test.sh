#!/usr/bin/env bash
# Run smlite's whole test suite from a fresh clone.
#
#   bash scripts/test.sh            # all tiers
#   bash scripts/test.sh core       # one tier: lint | core | floor | remote | tf | report
#
# Every tier runs in its own virtual environment under .ci/venvs/ (created on
# first use, reused afterwards):
#   lint   ruff + mypy
#   core   the core tests in a venv WITHOUT TensorFlow (asserted), newest protobuf
#   floor  the core tests again on the oldest protobuf smlite declares
#   remote smlite[remote,fleet] against servers the tests start on 127.0.0.1: moto's S3,
#          an HTTP server with Range and faults, a Dask LocalCluster
#   tf     the TensorFlow tier: tensorflow-cpu==2.21.0, live saved_model_cli comparisons
#   report `smlite report` pages opened in a real headless Chromium (Debian's, installed by
#          scripts/install_browser.sh where missing) driven by Playwright, network off
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENVS="${SMLITE_VENVS:-$ROOT/.ci/venvs}"
PROTOBUF_FLOOR="$(sed -n 's/.*"protobuf>=\([0-9.]*\)".*/\1/p' pyproject.toml)"
TIERS=("$@")
[ ${#TIERS[@]} -gt 0 ] || TIERS=(lint core floor remote report tf)
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1

venv() {  # venv NAME PIP-ARGS... -> prints the venv's python
    local dir="$VENVS/$1"; shift
    if [ ! -x "$dir/bin/python" ]; then
        "$PYTHON" -m venv "$dir" >&2
    fi
    "$dir/bin/python" -m pip install -q "$@" >&2
    echo "$dir/bin/python"
}

banner() { printf '\n===== %s =====\n' "$*"; }

no_tensorflow() {
    "$1" - <<'PY'
import importlib.util, sys
if importlib.util.find_spec("tensorflow") is not None:
    sys.exit("core tier: tensorflow is importable in this venv; it must not be")
print("core tier: tensorflow is not installed (as required)")
PY
}

status=0
for tier in "${TIERS[@]}"; do
    case "$tier" in
    lint)
        banner "lint: ruff + mypy"
        py="$(venv core -e ".[dev]")"
        "$py" -m ruff check src tests scripts benchmarks || status=1
        "$py" -m mypy || status=1
        ;;
    core)
        banner "core tier (no TensorFlow, newest protobuf)"
        py="$(venv core -e ".[dev]")"
        "$py" -m pip install -q --upgrade protobuf >&2
        no_tensorflow "$py"
        "$py" -m pytest -q -p no:cacheprovider tests/core || status=1
        ;;
    floor)
        banner "core tier on the protobuf floor (protobuf==$PROTOBUF_FLOOR)"
        py="$(venv floor -e ".[dev]")"
        "$py" -m pip install -q "protobuf==$PROTOBUF_FLOOR" >&2
        no_tensorflow "$py"
        "$py" -m pytest -q -p no:cacheprovider tests/core || status=1
        ;;
    remote)
        banner "remote tier (fsspec, moto S3 and HTTP servers on 127.0.0.1, Dask)"
        py="$(venv remote -e ".[dev,remote,fleet]")"
        # boto3 (for moto) pinned to the botocore that s3fs's aiobotocore chose: the
        # two share version numbers, and unpinned pip backtracks through hundreds of them.
        botocore="$("$py" -c 'import importlib.metadata as m; print(m.version("botocore"))')"
        "$py" -m pip install -q "moto[server]" "boto3==$botocore" >&2 \
            || "$py" -m pip install -q "moto[server]" >&2
        "$py" -m pytest -q -p no:cacheprovider tests/remote || status=1
        ;;
    tf)
        banner "tensorflow tier (tensorflow-cpu==2.21.0)"
        py="$(venv tf -e ".[dev,run]")"
        # tf-keras without its dependency on the full `tensorflow` wheel: tensorflow-cpu
        # provides the same `tensorflow` package (the Keras 2 exports and their metadata).
        "$py" -m pip install -q --no-deps "tf-keras==2.21.0" >&2
        "$py" -m pytest -q -p no:cacheprovider tests/tf || status=1
        ;;
    report)
        banner "report tier (smlite report in headless Chromium)"
        bash scripts/install_browser.sh
        py="$(venv report -e ".[dev,report]" "playwright>=1.50")"
        no_tensorflow "$py"
        "$py" -m pytest -q -p no:cacheprovider tests/report || status=1
        ;;
    *)
        echo "unknown tier: $tier (expected lint, core, floor, remote, report or tf)" >&2
        exit 2
        ;;
    esac
done
exit "$status"
