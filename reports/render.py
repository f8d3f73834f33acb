"""Render a report template with a view-model into PDF bytes, never letting the document reach outside.

The sandbox has two layers. Jinja escapes every value of the view-model, so text a victim typed is printed as text
and never parsed as HTML. And WeasyPrint fetches resources only through `StaticOnlyFetcher`, which serves files from
`reports/static/` and refuses everything else (other files, http(s), data: URLs), so even markup that slipped
through could not make the renderer read a file or reach the network. WeasyPrint runs no scripts.

Dossiers are written as PDF/A-3b with files attached (given as bytes, never fetched), and a document in Chinese
first checks that fontconfig knows a CJK font: without one WeasyPrint would silently draw empty boxes.
"""

from __future__ import annotations

import dataclasses
import functools
import gettext
import io
import mimetypes
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import jinja2
import segno
from markupsafe import Markup, escape
from weasyprint import HTML, Attachment
from weasyprint.urls import URLFetcher, URLFetcherResponse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = PROJECT_ROOT / "templates" / "reports"
STATIC_DIR = Path(__file__).resolve().parent / "static"
PDF_A = "pdf/a-3b"
CJK_FONT_PACKAGE = "fonts-noto-cjk"


class Translations(Protocol):
    """What the templates need to translate their labels (gettext.NullTranslations, babel.support.Translations)."""

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class ForbiddenResource(ValueError):
    """The document asked for a resource outside the project's own static files."""


class MissingFont(RuntimeError):
    """No font for the document's script is installed; the message names the package to install."""


@dataclasses.dataclass(frozen=True)
class PdfAttachment:
    """A file embedded in the PDF (PDF/A-3 "associated file"): its name, bytes and description."""

    name: str
    content: bytes
    description: str


@functools.cache
def cjk_font_families() -> tuple[str, ...]:
    """The font families fontconfig offers for Chinese (empty when there are none, or no fontconfig tools)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return ()
    listed = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=30, check=False)
    return tuple(sorted({line.split(",")[0].strip() for line in listed.stdout.splitlines() if line.strip()}))


def require_cjk_font() -> None:
    """Raise MissingFont, naming the package to install, when fontconfig knows no font that covers Chinese."""
    if not cjk_font_families():
        raise MissingFont(
            f"No Chinese (CJK) font is installed, so a document in Chinese cannot be rendered. Install the Debian "
            f"package {CJK_FONT_PACKAGE} (apt-get install {CJK_FONT_PACKAGE}), or another CJK font fontconfig finds."
        )


def qr_svg(text: str) -> Markup:
    """text as a QR code: an inline SVG drawing (no network, no image file), sized by its container."""
    drawing = io.BytesIO()
    segno.make(text, error="m").save(drawing, kind="svg", xmldecl=False, svgns=True, nl=False, scale=4, border=2,
                                     svgclass="qr", lineclass=None, omitsize=True)
    return Markup(drawing.getvalue().decode("ascii"))  # noqa: S704 - segno writes only path data (no text)


_COUNTER = re.compile(r"\{(page|pages)\}")


def css_counters(label: str) -> Markup:
    """A translated label such as "Page {page} of {pages}" as a CSS content value with page counters, for
    @page rules (the text is our own catalogue's, escaped as CSS all the same)."""
    parts = []
    for index, piece in enumerate(_COUNTER.split(str(label))):
        if index % 2:
            parts.append(f"counter({piece})")
        elif piece:
            escaped = "".join(ch if ch.isalnum() or ch in " .,:;/-()" or ord(ch) > 127 else f"\\{ord(ch):x} "
                              for ch in piece)
            parts.append(f'"{escaped}"')
    return Markup(" ".join(parts))  # noqa: S704 - every character outside a safe set is escaped above


def breakable(value: object, every: int = 16) -> Markup:
    """A hash or address, escaped, with a zero-width space (U+200B: a line-break opportunity that prints nothing
    and is not in the PDF's text) every `every` characters: the text wraps only there, instead of at any character
    (which makes table layout very slow). Not <wbr>: WeasyPrint makes an element and a box of each, and ignores it
    inside an inline span."""
    text = str(value)
    return escape("\u200b".join(text[start:start + every] for start in range(0, len(text), every)))


def host(url: object) -> str:
    """The host name of a URL, for printing a link short (the full address stays in its href)."""
    return urlsplit(str(url)).hostname or str(url)


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
    env.globals["qr_svg"] = qr_svg
    env.filters["css_counters"] = css_counters
    env.filters["breakable"] = breakable
    env.filters["host"] = host
    return env


def render_html(html: str, *, fetcher: StaticOnlyFetcher | None = None, attachments: Sequence[PdfAttachment] = (),
                pdf_variant: str | None = None) -> bytes:
    """Lay out an HTML document as PDF, resolving relative URLs against the static directory of `fetcher`, with
    `attachments` embedded (from their bytes: nothing is fetched for them) and in `pdf_variant` (e.g. PDF_A)."""
    fetcher = fetcher or StaticOnlyFetcher()
    base_url = fetcher.static_dir.as_uri() + "/"
    embedded = [
        Attachment(file_obj=io.BytesIO(item.content), name=item.name, description=item.description,
                   relationship="Data")
        for item in attachments
    ]
    return HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf(
        attachments=embedded or None, pdf_variant=pdf_variant)


def render_pdf(
    template_name: str,
    view_model: Any,
    *,
    translations: Translations | None = None,
    template_dir: Path = TEMPLATE_DIR,
    fetcher: StaticOnlyFetcher | None = None,
    attachments: Sequence[PdfAttachment] = (),
    pdf_variant: str | None = None,
) -> bytes:
    """Render `template_name` (under templates/reports/) with a dataclass view-model, as `report`, into PDF bytes.

    A view-model whose `language` is Chinese needs a CJK font (MissingFont otherwise)."""
    if not dataclasses.is_dataclass(view_model) or isinstance(view_model, type):
        raise TypeError("render_pdf takes a dataclass instance of plain values")
    if str(getattr(view_model, "language", "")).startswith("zh"):
        require_cjk_font()
    env = _environment(template_dir, translations or gettext.NullTranslations())
    html = env.get_template(template_name).render(report=view_model)
    return render_html(html, fetcher=fetcher, attachments=attachments, pdf_variant=pdf_variant)
