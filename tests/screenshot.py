"""Take docs/screenshot.png: the app with a real handwritten digit drawn on it, its guesses and model input.

    python tests/screenshot.py [--label 3] [--out docs/screenshot.png]

Launches ``python app.py``, replays a UNIPEN pen trajectory with the mouse in
headless Chromium, and saves the page once the prediction is shown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from app_server import REPO, running_app
from browser import AppPage, fit_strokes, launch, unipen_samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="3", help="which character to draw (the fixture's first writer's)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    args = parser.parse_args(argv)
    sample = next(s for s in unipen_samples() if s["label"] == args.label)
    with running_app() as url, sync_playwright() as playwright:
        browser = launch(playwright)
        app = AppPage(browser, url, viewport={"width": 1280, "height": 1140})  # the whole page, unscrolled
        app.draw(fit_strokes(sample["strokes"], sample["y_up"], size=0.7, max_points=40))
        print(f"drew a {args.label!r}; the app reads {app.result()!r}")
        app.page.mouse.move(5, 5)  # no brush cursor in the picture
        args.out.parent.mkdir(parents=True, exist_ok=True)
        app.page.screenshot(path=args.out)
        browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
