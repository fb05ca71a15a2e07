"""Make the screenshots of ``smlite report`` shown in the README and docs/report.md.

    .ci/venvs/report/bin/python scripts/make_report_screenshots.py

Uses the report tier's browser set-up (tests/support/browser.py: Debian's
Chromium through Playwright, network off) on two fixture models:

* ``docs/report-denylisted_ops.png``: the whole page of a model with risky ops;
* ``docs/report-polymorphic-calls.png``: the call-structure picture of a model
  with a polymorphic tf.function traced many times.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smlite.cli import run  # noqa: E402
from tests.support.browser import browser, open_page  # noqa: E402

MODELS = ROOT / "tests" / "fixtures" / "models"
DOCS = ROOT / "docs"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, browser() as chromium:
        for name in ("denylisted_ops", "polymorphic"):
            page_file = Path(tmp) / f"{name}.html"
            # A relative path, so the page shows no machine-specific folder.
            if run(["report", str(MODELS.relative_to(ROOT) / name), "-o", str(page_file)]) != 0:
                return 1
            with open_page(chromium, page_file, width=1100) as (page, log):
                if log.console_errors or log.page_errors:
                    print(f"{name}: errors in the page: {log}", file=sys.stderr)
                    return 1
                if name == "denylisted_ops":
                    target = DOCS / "report-denylisted_ops.png"
                    page.screenshot(path=str(target), full_page=True)
                else:
                    target = DOCS / "report-polymorphic-calls.png"
                    page.locator("#calls").screenshot(path=str(target))
                print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
