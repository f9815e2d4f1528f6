"""The bulletin PDF brings its own Chinese font (hotline/static/fonts/noto-sans-sc/, via @font-face in
css/bulletin_print.css), so it is right on a machine with no CJK font installed — as on a fresh server
without ``fonts-noto-cjk``. The render runs in a subprocess under a fontconfig that hides the system's CJK
fonts, because fontconfig reads its configuration once per process."""

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reports import selectors

ROOT = Path(__file__).resolve().parents[2]

# The system's configuration, minus every font that could draw Chinese.
NO_CJK_FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <selectfont><rejectfont>
    <glob>*Noto*CJK*</glob><glob>*noto-cjk*</glob><glob>*NotoSansSC*</glob><glob>*NotoSerifSC*</glob>
    <glob>*SourceHan*</glob><glob>*wqy*</glob><glob>*arphic*</glob><glob>*Droid*Fallback*</glob>
    <glob>*uming*</glob><glob>*ukai*</glob><glob>*simsun*</glob><glob>*msyh*</glob>
  </rejectfont></selectfont>
</fontconfig>
"""

RENDER = """
import json, sys
import django
django.setup()
from reports.renderers import render_pdf
sys.stdout.buffer.write(render_pdf(json.load(open(sys.argv[1], encoding="utf-8"))))
"""


def render_without_system_cjk_fonts(data: dict, tmp_path: Path) -> bytes:
    config = tmp_path / "fonts.conf"
    config.write_text(NO_CJK_FONTCONFIG, encoding="utf-8")
    source = tmp_path / "bulletin.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "FONTCONFIG_FILE": str(config), "PYTHONPATH": str(ROOT),
           "DJANGO_SETTINGS_MODULE": "hotline.settings.test", "XDG_CACHE_HOME": str(tmp_path / "cache")}
    if shutil.which("fc-list"):  # the premise: under this configuration no font can draw Chinese
        listed = subprocess.run(["fc-list", ":lang=zh", "file"], env=env, capture_output=True, text=True,
                                check=True)
        assert listed.stdout.strip() == ""
    done = subprocess.run([sys.executable, "-c", RENDER, str(source)], env=env, cwd=ROOT,
                          capture_output=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done.stdout


def embedded_fonts(reader) -> dict[str, str]:
    """PDF font name -> the PostScript name inside the embedded font file."""
    from fontTools.ttLib import TTFont

    names = {}
    for page in reader.pages:
        for ref in page["/Resources"].get_object().get("/Font", {}).values():
            font = ref.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            stream = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
            inner = TTFont(io.BytesIO(stream.get_object().get_data()))["name"].getDebugName(6)
            names[str(font["/BaseFont"]).split("+", 1)[-1]] = inner
    return names


@pytest.mark.django_db
def test_pdf_has_chinese_glyphs_without_any_system_cjk_font(demo_bulletin, tmp_path):
    from pypdf import PdfReader

    # given the published April demo, and a machine whose fontconfig offers no Chinese font
    data = selectors.bulletin_get_published(period="2024-04").as_json()
    # when the PDF is rendered there
    pdf = render_without_system_cjk_fonts(data, tmp_path)
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    compact = re.sub(r"\s+", "", text)
    # then the Chinese comes out as text (a missing glyph would not), A4 pages numbered as before
    for phrase in ("汝州市12345政务服务便民热线四月份工作简报", "本级登记事项4668件", "热点问题统计表",
                   "四月份市直单位考核表"):
        assert phrase in compact
    assert "\ufffd" not in text and "□" not in text
    assert "— 1 —" in reader.pages[0].extract_text()
    # and the fonts embedded are the product's own, regular and bold (WeasyPrint names them after the
    # @font-face family; the file inside is the bundled Noto Sans SC)
    fonts = embedded_fonts(reader)
    assert fonts["Hotline-Noto-Sans-SC"] == "NotoSansSC-Regular"
    assert fonts["Hotline-Noto-Sans-SC-Bold"] == "NotoSansSC-Bold"


def test_bundled_font_is_beside_its_licence_and_small():
    folder = ROOT / "hotline" / "static" / "fonts" / "noto-sans-sc"
    css = (ROOT / "hotline" / "static" / "css" / "bulletin_print.css").read_text(encoding="utf-8")
    fonts = sorted(folder.glob("*.woff2"))
    assert [f.name for f in fonts] == ["NotoSansSC-Bold.woff2", "NotoSansSC-Regular.woff2"]
    assert "SIL OPEN FONT LICENSE Version 1.1" in (folder / "OFL.txt").read_text(encoding="utf-8")
    assert sum(f.stat().st_size for f in fonts) < 4_000_000
    for font in fonts:
        assert f"../fonts/noto-sans-sc/{font.name}" in css
