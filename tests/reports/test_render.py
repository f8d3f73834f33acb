"""The report renderer: a dataclass in, a PDF out; text a victim typed is printed, never fetched or run."""

from __future__ import annotations

import dataclasses
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports.render import STATIC_DIR, ForbiddenResource, StaticOnlyFetcher, render_html, render_pdf
from reports.victim import TEMPLATE, MessageLine, TimelineEntry, TransactionLine, VictimReport


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def report(**overrides) -> VictimReport:
    values = dict(
        reference="CW-2026-000042", language="en", generated_at="2026-11-23 10:00 (UTC)",
        status_title="Under investigation", status_explanation="We are tracing where your funds went.",
        incident_type="Approval or permit phishing", submitted_at="2026-11-22 09:00 (UTC)",
        incident_at="2026-11-22 08:00 (UTC)", discovered_at=None, time_zone="UTC", wallet_app="imToken",
        first_contact=None, chains=("Ethereum",), statement="I signed an approval on a fake airdrop site.",
        transactions=(TransactionLine("0x" + "ab" * 32, "Ethereum"),),
        timeline=(TimelineEntry("2026-11-22 09:00 (UTC)", "2026-11-22T09:00:00+00:00", "You submitted your report."),),
    )
    values.update(overrides)
    return VictimReport(**values)


class CountingServer:
    """A loopback HTTP server that counts every request it gets."""

    def __init__(self) -> None:
        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "text/css")
                self.end_headers()
                self.wfile.write(b"body { color: red }")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> CountingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_report_renders_to_a_pdf_with_its_text():
    pdf = render_pdf(TEMPLATE, report())
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "CW-2026-000042" in text
    assert "Under investigation" in text
    assert "I signed an approval on a fake airdrop site." in text
    assert "0x" + "ab" * 32 in text.replace("\n", "")


def test_a_long_report_flows_over_several_numbered_pages():
    timeline = tuple(
        TimelineEntry(f"2026-11-22 {i % 24:02d}:00 (UTC)", "", f"Event number {i}") for i in range(150)
    )
    pdf = render_pdf(TEMPLATE, report(timeline=timeline))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 3
    last = reader.pages[-1].extract_text()
    assert f"{len(reader.pages)} / {len(reader.pages)}" in last
    assert "Event number 149" in pdf_text(pdf)


def test_chinese_text_is_rendered_with_a_cjk_font_and_can_be_extracted():
    statement = "我在Telegram群里点了领取空投的链接，几分钟后钱包里的全部USDT被转走了。"
    pdf = render_pdf(TEMPLATE, report(language="zh-Hans", status_title="正在调查", statement=statement,
                                      messages=(MessageLine("今天", "", "您的案件负责人", False, "请提供交易哈希。"),)))
    text = pdf_text(pdf).replace("\n", "")
    assert statement in text
    assert "正在调查" in text
    assert "请提供交易哈希。" in text
    fonts = _font_names(pdf)
    assert any("CJK" in name for name in fonts), fonts


def _font_names(pdf: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]))
    return names


def test_markup_in_the_victims_text_is_printed_as_text_and_nothing_is_fetched():
    with CountingServer() as server:
        hostile = (
            '<img src="file:///etc/passwd"> '
            f'<img src="{server.url}/pixel.png"> '
            f'<link rel="stylesheet" href="{server.url}/evil.css"> '
            f'<style>@import url("{server.url}/import.css");</style> '
            "<script>document.write('ran')</script>"
        )
        fetcher = StaticOnlyFetcher()
        pdf = render_pdf(TEMPLATE, report(statement=hostile), fetcher=fetcher)
    text = pdf_text(pdf).replace("\n", " ")
    assert '<img src="file:///etc/passwd">' in text
    assert "<script>document.write('ran')</script>" in text
    assert server.hits == []
    assert "root:" not in text
    assert fetcher.refused == []  # escaped: the renderer never even asked for those URLs


def test_even_raw_html_cannot_make_the_renderer_read_a_file_or_a_url(tmp_path: Path):
    secret_file = tmp_path / "secret.css"
    secret_file.write_text("body { color: red }")
    with CountingServer() as server:
        html = f"""<!doctype html><html><head>
          <link rel="stylesheet" href="report.css">
          <link rel="stylesheet" href="{secret_file.as_uri()}">
          <link rel="stylesheet" href="{server.url}/evil.css">
          <style>@import url("{server.url}/import.css"); p {{ background: url("file:///etc/passwd") }}</style>
        </head><body>
          <p>hello</p>
          <img src="file:///etc/passwd"><img src="{server.url}/pixel.png"><img src="../render.py">
          <img src="data:image/png;base64,iVBORw0KGgo=">
        </body></html>"""
        fetcher = StaticOnlyFetcher()
        pdf = render_html(html, fetcher=fetcher)
    assert pdf.startswith(b"%PDF-")
    assert server.hits == []
    refused = set(fetcher.refused)
    assert "file:///etc/passwd" in refused
    assert secret_file.as_uri() in refused
    assert f"{server.url}/evil.css" in refused
    assert f"{server.url}/pixel.png" in refused
    assert any(url.endswith("/render.py") for url in refused)
    assert not any(url.endswith("/report.css") for url in refused)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:1/x.css",
        "https://example.org/x.png",
        "ftp://example.org/x",
        "data:text/css,body{}",
        (STATIC_DIR / ".." / "render.py").as_uri(),
        STATIC_DIR.as_uri() + "/%2e%2e/render.py",
        "file://evil.example/" + str(STATIC_DIR / "report.css"),
        STATIC_DIR.as_uri() + "/missing.css",
    ],
)
def test_the_fetcher_refuses_everything_but_the_static_files(url: str):
    fetcher = StaticOnlyFetcher()
    with pytest.raises(ForbiddenResource):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_serves_the_reports_static_files():
    response = StaticOnlyFetcher().fetch((STATIC_DIR / "report.css").as_uri())
    assert b"@page" in response.read()
    assert response.content_type == "text/css"


def test_only_a_dataclass_view_model_is_accepted():
    with pytest.raises(TypeError):
        render_pdf(TEMPLATE, {"reference": "CW-2026-000001"})
    with pytest.raises(TypeError):
        render_pdf(TEMPLATE, VictimReport)
    assert dataclasses.is_dataclass(report())
