"""Run every smlite fuzz harness for a fixed time, one after the other.

    python fuzz/run_all.py --seconds 60                 # all harnesses, 60 s each
    python fuzz/run_all.py --seconds 300 --only sstable bundle_data

Seeds come from ``make_corpus.py`` (run first when ``fuzz/corpus`` is missing);
new interesting inputs are added to the same corpus folders, crashes are
written to ``fuzz/artifacts/<harness>-crash-*`` and each run's libFuzzer log
to ``fuzz/logs/<harness>.log``.  Exit status 1 when any harness crashed.
Needs atheris (see fuzz/README.md).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_corpus import HARNESSES  # noqa: E402

_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_EXECS = re.compile(r"#(\d+)\s")


def run_one(name: str, seconds: int, rss_mb: int, timeout: int) -> tuple[int, int, float, Path]:
    corpus = HERE / "corpus" / name
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts = HERE / "artifacts"
    artifacts.mkdir(exist_ok=True)
    logs = HERE / "logs"
    logs.mkdir(exist_ok=True)
    log = logs / f"{name}.log"
    cmd = [
        sys.executable,
        str(HERE / f"fuzz_{name}.py"),
        str(corpus),
        f"-max_total_time={seconds}",
        f"-rss_limit_mb={rss_mb}",
        f"-timeout={timeout}",
        f"-artifact_prefix={artifacts}/{name}-",
        "-print_final_stats=1",
    ]
    started = time.monotonic()
    with log.open("w") as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=HERE)
    elapsed = time.monotonic() - started
    text = log.read_text(errors="replace")
    done = _DONE.search(text)
    if done:
        execs = int(done.group(1))
    else:
        counts = _EXECS.findall(text)
        execs = int(counts[-1]) if counts else 0
    return rc, execs, elapsed, log


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60, help="time per harness")
    parser.add_argument("--only", nargs="*", choices=HARNESSES, help="harnesses to run")
    parser.add_argument("--rss-mb", type=int, default=2048, help="libFuzzer -rss_limit_mb")
    parser.add_argument("--timeout", type=int, default=20, help="seconds per input")
    args = parser.parse_args()
    if not (HERE / "corpus").is_dir():
        subprocess.check_call([sys.executable, str(HERE / "make_corpus.py")])
    failed = []
    for name in args.only or HARNESSES:
        rc, execs, elapsed, log = run_one(name, args.seconds, args.rss_mb, args.timeout)
        status = "ok" if rc == 0 else f"CRASH (exit {rc}, see {log})"
        print(f"{name:18} {execs:>9} execs {elapsed:7.1f} s  {status}", flush=True)
        if rc != 0:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
