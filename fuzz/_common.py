"""Shared plumbing of the smlite fuzz harnesses.

The contract every harness checks: whatever bytes it is given, smlite either
returns normally or raises :class:`smlite.SmliteError` (or a subclass).  Any
other exception escapes the harness and atheris reports it as a crash.

Harnesses that need files (smlite reads models from directories) write the
input into a scratch directory, on tmpfs when there is one.
"""

from __future__ import annotations

import os
import shutil
import struct
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent
REPO = FUZZ_DIR.parent
FIXTURES = REPO / "tests" / "fixtures" / "models"


def scratch_dir(name: str) -> Path:
    """A fresh private directory for one harness process (removed at exit)."""
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    path = Path(tempfile.mkdtemp(prefix=f"smlite-fuzz-{name}-", dir=base))
    import atexit

    atexit.register(shutil.rmtree, path, True)
    return path


def write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def split2(data: bytes) -> tuple[bytes, bytes]:
    """Cut one fuzz input into two files: ``<u32 len of a> a b``.

    make_corpus.py writes seeds in the same layout, so mutations hit both parts.
    """
    if len(data) < 4:
        return data, b""
    (n,) = struct.unpack_from("<I", data)
    n = min(n, len(data) - 4)
    return data[4 : 4 + n], data[4 + n :]


def join2(a: bytes, b: bytes) -> bytes:
    return struct.pack("<I", len(a)) + a + b


def import_all() -> None:
    """Import every smlite module now, so that atheris instruments all of them.

    Call inside ``atheris.instrument_imports()``: smlite imports most modules
    lazily, and a module first imported later would run uninstrumented.
    """
    import importlib
    import pkgutil

    import smlite

    for info in pkgutil.walk_packages(smlite.__path__, "smlite."):
        if "._proto" in info.name or info.name.endswith(".__main__"):
            continue
        importlib.import_module(info.name)


def main(test_one_input: Callable[[bytes], None]) -> None:
    """Run ``test_one_input`` under atheris with the command line's libFuzzer flags."""
    import atheris

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


def exercise_model(path: Path) -> None:
    """Everything ``show --all``, ``show --format json --all`` and ``summary`` compute.

    Library calls rather than the CLI: the same code paths at a fraction of
    Typer's per-call cost.  Raises only what those calls raise.
    """
    import io

    from rich.console import Console

    import smlite
    from smlite.model.disk import disk_usage
    from smlite.render import cli_text, json_doc
    from smlite.render.summary import summary_json, summary_renderable

    with smlite.open(path) as sm:
        cli_text.tag_sets_text(sm)
        for mg in sm.meta_graphs:
            cli_text.signature_keys_text(mg)
            cli_text.ops_text(mg)
            for sig in mg.signatures.values():
                cli_text.signature_text(sig)
            mg.assets  # noqa: B018 (a property that parses)
            mg.all_ops  # noqa: B018
            mg.node_count  # noqa: B018
            mg.object_graph  # noqa: B018
        cli_text.show_all_text(sm)
        metas = [
            json_doc.meta_graph_json(mg, all_signatures=True, ops=True)
            for mg in cli_text.meta_graphs_in_show_order(sm)
        ]
        json_doc.dumps(json_doc.show_document(sm, query={}, meta_graphs=metas, with_functions=True))
        disk = disk_usage(sm)
        json_doc.dumps(summary_json(sm, disk))
        console = Console(file=io.StringIO(), width=200, color_system=None, markup=False)
        console.print(summary_renderable(sm, disk))
