"""Render a report template with a view-model into PDF bytes, never letting the document reach outside.

The sandbox has two layers. Jinja escapes every value of the view-model, so text a victim typed is printed as text
and never parsed as HTML. And WeasyPrint fetches resources only through `StaticOnlyFetcher`, which serves files from
`reports/static/` and refuses everything else (other files, http(s), data: URLs), so even markup that slipped
through could not make the renderer read a file or reach the network. WeasyPrint runs no scripts.
"""

from __future__ import annotations

import dataclasses
import gettext
import mimetypes
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import jinja2
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PROJECT_ROOT / "templates" / "reports"
STATIC_DIR = Path(__file__).resolve().parent / "static"


class Translations(Protocol):
    """What the templates need to translate their labels (gettext.NullTranslations, babel.support.Translations)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class ForbiddenResource(ValueError):
    """The document asked for a resource outside the project's own static files."""


class StaticOnlyFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves only files inside `static_dir` and refuses every other URL.

    Refused URLs are kept in `refused` (for tests and counting); they are not logged here, since a URL could carry
    text from a document.
    """

    def __init__(self, static_dir: Path = STATIC_DIR) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, fail_on_errors=False)
        self.static_dir = static_dir.resolve()
        self.refused: list[str] = []

    def _static_file(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = Path(unquote(parts.path)).resolve()  # resolves "..", and symlinks pointing out of the directory
        if not path.is_relative_to(self.static_dir) or not path.is_file():
            return None
        return path

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        """Serve a static file, or raise ForbiddenResource (WeasyPrint then leaves the resource out)."""
        path = self._static_file(url)
        if path is None:
            self.refused.append(url)
            raise ForbiddenResource("Only the report's own static files may be loaded.")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), body=path.read_bytes(), headers={"Content-Type": content_type})


def _environment(template_dir: Path, translations: Translations) -> jinja2.Environment:
    # One environment per rendering: the translations differ between calls, and compiling a template costs far
    # less than laying out the PDF.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def render_html(html: str, *, fetcher: StaticOnlyFetcher | None = None) -> bytes:
    """Lay out an HTML document as PDF, resolving relative URLs against the static directory of `fetcher`."""
    fetcher = fetcher or StaticOnlyFetcher()
    base_url = fetcher.static_dir.as_uri() + "/"
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()


def render_pdf(
    template_name: str,
    view_model: Any,
    *,
    translations: Translations | None = None,
    template_dir: Path = TEMPLATE_DIR,
    fetcher: StaticOnlyFetcher | None = None,
) -> bytes:
    """Render `template_name` (under templates/reports/) with a dataclass view-model, as `report`, into PDF bytes."""
    if not dataclasses.is_dataclass(view_model) or isinstance(view_model, type):
        raise TypeError("render_pdf takes a dataclass instance of plain values")
    env = _environment(template_dir, translations or gettext.NullTranslations())
    html = env.get_template(template_name).render(report=view_model)
    return render_html(html, fetcher=fetcher)
