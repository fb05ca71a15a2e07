"""``smlite diff --values`` compares in chunks: address space does not grow with the variable.

Two checkpoints of one 128 MiB variable are compared in a subprocess whose
address space is limited (RLIMIT_AS) to what it uses before the diff, plus
the two memory-mapped shards, plus 48 MiB.  Holding the difference of the
two values as one array would need 128 MiB more and fail with MemoryError.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.support.bundle_writer import BundleWriter

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is Linux-specific")

ELEMENTS = 32 * 2**20  # float32: 128 MiB
MARGIN = 48 * 2**20

_DRIVER = r"""
import json, resource, sys
import numpy as np
import smlite
from smlite.model.policy import Policy

old, new, shards, margin = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
np.dot(np.ones(4, np.float32), np.ones(4, np.float32))  # BLAS sets up its buffers now
smlite.diff(old + "-small", new + "-small", values=True, policy=Policy())  # every import done

def vm_size():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024

limit = vm_size() + shards + margin
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
d = smlite.diff(old, new, values=True, policy=Policy())
(change,) = d.changes
print(json.dumps({"changed": change.values.changed, "max": change.values.max_abs_diff}))
"""


def _write(prefix: Path, value: np.ndarray) -> None:
    w = BundleWriter(prefix)
    w.add("w", value)
    w.finish()


def test_values_compared_in_bounded_memory(tmp_path: Path) -> None:
    old_value = np.zeros(ELEMENTS, np.float32)
    new_value = old_value.copy()
    new_value[::4096] = 2.0
    _write(tmp_path / "old", old_value)
    _write(tmp_path / "new", new_value)
    _write(tmp_path / "old-small", old_value[:10])
    _write(tmp_path / "new-small", new_value[:10])
    shards = 2 * old_value.nbytes
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER, str(tmp_path / "old"), str(tmp_path / "new"),
         str(shards), str(MARGIN)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    assert result == {"changed": ELEMENTS // 4096, "max": 2.0}
