"""Fetch the JavaScript that ``smlite report`` inlines, from the npm registry, and record it.

    python scripts/vendor_report_assets.py          # (re)write src/smlite/render/report/vendor/
    python scripts/vendor_report_assets.py --check  # verify the committed files against npm

The HTML report lays out the call-structure picture with dagre
(``@dagrejs/dagre``, MIT, its graphlib dependency bundled in its own
``dist/dagre.min.js``).  This script runs ``npm pack`` for the pinned version,
checks the tarball against the registry's ``dist.integrity`` (sha512), takes
``dist/dagre.min.js`` and the package's ``LICENSE`` unchanged except for the
trailing ``sourceMappingURL`` comment (a report must not point anywhere), and
writes ``VENDOR.json`` with the package, version, integrity, license and the
sha256 of each file written.  Nothing is copied by hand.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@dagrejs/dagre"
VERSION = "3.1.3"
LICENSE = "MIT"
VENDOR = Path(__file__).resolve().parents[1] / "src" / "smlite" / "render" / "report" / "vendor"
FILES = {"package/dist/dagre.min.js": "dagre.min.js", "package/LICENSE": "dagre.LICENSE"}


def _npm(*args: str, cwd: Path) -> str:
    done = subprocess.run(["npm", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"npm {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def _strip_source_map(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    return "\n".join(line for line in lines if not line.startswith("//# sourceMappingURL=")) + "\n"


def fetch() -> dict[str, bytes]:
    """The vendored files' bytes, fetched and verified."""
    spec = f"{PACKAGE}@{VERSION}"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        integrity = json.loads(_npm("view", spec, "dist.integrity", "--json", cwd=work))
        name = _npm("pack", spec, "--silent", cwd=work).strip().splitlines()[-1]
        tarball = (work / name).read_bytes()
        algo, _, digest = integrity.partition("-")
        if algo != "sha512" or base64.b64decode(digest) != hashlib.sha512(tarball).digest():
            sys.exit(f"{spec}: the tarball does not match the registry's integrity {integrity}")
        out: dict[str, bytes] = {}
        with tarfile.open(work / name) as tar:
            for member, target in FILES.items():
                f = tar.extractfile(member)
                if f is None:
                    sys.exit(f"{spec}: {member} is missing from the package")
                data = f.read()
                if target.endswith(".js"):
                    data = _strip_source_map(data.decode("utf-8")).encode("utf-8")
                out[target] = data
        out["VENDOR.json"] = (
            json.dumps(
                {
                    "package": PACKAGE,
                    "version": VERSION,
                    "license": LICENSE,
                    "registry_integrity": integrity,
                    "made_by": "scripts/vendor_report_assets.py",
                    "changes": "dagre.min.js: the trailing sourceMappingURL comment removed",
                    "files": {t: hashlib.sha256(out[t]).hexdigest() for t in FILES.values()},
                },
                indent=2,
            )
            + "\n"
        ).encode("utf-8")
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    files = fetch()
    if args.check:
        stale = [n for n, data in files.items() if (VENDOR / n).read_bytes() != data]
        if stale:
            print("differs from the registry: " + ", ".join(stale), file=sys.stderr)
            return 1
        print(f"{PACKAGE}@{VERSION}: vendored files match the registry")
        return 0
    VENDOR.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (VENDOR / name).write_bytes(data)
        print(f"wrote {VENDOR / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
