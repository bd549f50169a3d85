"""A page as a PDF for the court's case file (WeasyPrint), laid out by the
page's own print CSS, so that the PDF and a printed page are one document.
WeasyPrint, not a browser: it is made for paged media (CSS Paged Media,
PDF/A), keeps no process running, and needs only Pango from the system.

WeasyPrint fetches nothing from anywhere: the one stylesheet the page links
is read from the package's static files and every other address is refused,
so a PDF holds only what the server put in the page, and a page cannot make
the server fetch a URL. One PDF is made at a time (each takes a core for a
fraction of a second to seconds); the next request is told to retry.
"""

from __future__ import annotations

import logging
import threading
import warnings
from pathlib import Path
from typing import Any

from hearing.errors import PrintingBusy, PrintingUnavailable

# The address the page is laid out at: never fetched, only matched.
BASE_URL = "https://hearing.invalid/"
STATIC = Path(__file__).parent / "static"
SERVED = {BASE_URL + "static/style.css": STATIC / "style.css"}
# PDF/A-2a: the archival form (fonts embedded, nothing outside the file),
# tagged, so that a screen reader reads it in order, in the page's language.
VARIANT = "pdf/a-2a"
_making = threading.Lock()
# The page's stylesheet is the screen's too: WeasyPrint says, for every PDF,
# which screen rules (aspect-ratio, width queries) it ignores. Its errors still show.
logging.getLogger("weasyprint").setLevel(logging.ERROR)


def _weasyprint() -> Any:
    try:
        import weasyprint  # type: ignore[import-untyped]  # noqa: PLC0415 (loads Pango: only when a PDF is asked for)
    except (ImportError, OSError) as exc:
        raise PrintingUnavailable() from exc
    return weasyprint


def pdf(html: str) -> bytes:
    """The page as PDF. Blocking and CPU-bound: run it off the event loop."""
    weasyprint = _weasyprint()

    class OwnFilesOnly(weasyprint.urls.URLFetcher):  # type: ignore[misc, name-defined]
        def fetch(self, url: str, headers: object = None) -> object:
            path = SERVED.get(url)
            if path is None:
                raise ValueError(f"a PDF of the record fetches nothing: {url[:100]}")
            return weasyprint.urls.URLFetcherResponse(url, path.read_bytes(), {"Content-Type": "text/css"})

    if not _making.acquire(blocking=False):
        raise PrintingBusy()
    try:
        document = weasyprint.HTML(string=html, base_url=BASE_URL, url_fetcher=OwnFilesOnly())
        with warnings.catch_warnings():
            # WeasyPrint 70 opens its sRGB profile (the PDF/A output intent)
            # and leaves the file to the garbage collector, once per PDF.
            warnings.filterwarnings("ignore", r"unclosed file .*sRGB2014\.icc", ResourceWarning)
            rendered: bytes = document.write_pdf(pdf_variant=VARIANT)
        return rendered
    finally:
        _making.release()
