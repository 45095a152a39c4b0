"""Take docs/screenshot.png: the app reading a real handwritten number (or word, or one character).

    python tests/screenshot.py [--text 80537 | --text After --model letters | --label 3] [--out PNG]

Launches ``python app.py``, replays UNIPEN pen trajectories with the mouse in
headless Chromium (a line across the canvas, or one character), and saves the
page once the reading is shown.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from app_server import REPO, running_app
from browser import AppPage, fit_line, fit_strokes, launch, unipen_lines, unipen_samples

TITLES = {"digits": "Digits", "letters": "Letters", "characters": "Digits + letters"}
"""Each model's button on the page (app.MODEL_TITLES)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--text", default="80537", help="which line of the lines fixture to write")
    parser.add_argument("--model", default="digits", choices=list(TITLES))
    parser.add_argument("--label", help="draw this one character instead (the fixture's first writer's)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    args = parser.parse_args(argv)
    if args.label:
        sample = next(s for s in unipen_samples() if s["label"] == args.label)
        strokes, across = fit_strokes(sample["strokes"], sample["y_up"], size=0.7, max_points=40), False
    else:
        line = next(row for row in unipen_lines() if row["text"] == args.text)
        strokes, across = fit_line(line["strokes"], max_points=40), True
    with running_app() as url, sync_playwright() as playwright:
        browser = launch(playwright)
        app = AppPage(browser, url, viewport={"width": 1280, "height": 1250})  # the whole page, unscrolled
        if args.model != "digits":
            app.page.locator("#model").get_by_text(TITLES[args.model], exact=True).click()
            app.wait_until_idle(quiet=0.5)
        app.draw(strokes, across=across)
        print(f"wrote {args.label or args.text!r}; the app reads {app.result()!r}")
        app.page.mouse.move(5, 5)  # no brush cursor in the picture
        args.out.parent.mkdir(parents=True, exist_ok=True)
        app.page.screenshot(path=args.out)
        browser.close()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
