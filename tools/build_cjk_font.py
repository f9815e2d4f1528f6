"""Rebuild the CJK font the bulletin PDF brings with it (hotline/static/fonts/noto-sans-sc/).

Source: the npm package ``@fontsource/noto-sans-sc`` (Noto Sans SC, SIL Open Font License 1.1), which
ships the font cut into ~100 unicode-range pieces. This script merges the pieces of one weight back into
one font and keeps what a Chinese government bulletin needs: GB 2312 (6763 hanzi and its symbols),
fontsource's "chinese-simplified" set, ASCII/Latin-1, general and CJK punctuation, full-width forms,
circled numbers, and every character that appears in this repository's own texts and data. Rare
characters outside that set fall back to the system fonts listed after it in the stylesheet.

    cd /tmp && npm pack @fontsource/noto-sans-sc && tar xzf fontsource-noto-sans-sc-*.tgz
    python tools/build_cjk_font.py /tmp/package

Needs fontTools and brotli (both already installed with WeasyPrint).
"""

import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.merge import Merger, Options
from fontTools.ttLib import TTFont
from fontTools.ttLib.woff2 import WOFF2FlavorData

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "hotline" / "static" / "fonts" / "noto-sans-sc"
WEIGHTS = {400: "Regular", 700: "Bold"}
TEXT_SUFFIXES = {".py", ".json", ".csv", ".html", ".md", ".txt", ".yaml", ".yml"}


def gb2312() -> set[int]:
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes([hi, lo]).decode("gb2312")))
            except UnicodeDecodeError:
                pass
    return chars


def repository_characters() -> set[int]:
    chars = set()
    for path in ROOT.rglob("*"):
        if path.suffix in TEXT_SUFFIXES and ".venv" not in path.parts and path.is_file():
            try:
                chars |= {ord(c) for c in path.read_text(encoding="utf-8") if ord(c) > 0x2E7F}
            except UnicodeDecodeError:
                continue
    return chars


def build(package: Path, weight: int, tmp: Path) -> Path:
    files = package / "files"

    def number(p: Path) -> int:
        return int(re.search(r"-sc-(\d+)-", p.name).group(1))

    pieces = [files / f"noto-sans-sc-chinese-simplified-{weight}-normal.woff2",
              files / f"noto-sans-sc-latin-{weight}-normal.woff2"]
    pieces += sorted(files.glob(f"noto-sans-sc-[0-9]*-{weight}-normal.woff2"), key=number)
    plain = []
    for piece in pieces:  # the merger reads plain sfnt files only
        font = TTFont(piece)
        font.flavor = None
        target = tmp / piece.name.replace(".woff2", ".ttf")
        font.save(target)
        plain.append(target)
    merged = Merger(options=Options(drop_tables=["vmtx", "vhea", "VORG"])).merge(plain)

    wanted = (gb2312() | set(TTFont(pieces[0]).getBestCmap()) | repository_characters()
              | set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070))
              | set(range(0x2460, 0x2500)) | set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0)))
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=wanted & set(merged.getBestCmap()))
    subsetter.subset(merged)

    style = WEIGHTS[weight]
    names = merged["name"]  # fontsource's pieces keep the variable font's default name ("Thin")
    for platform in ((3, 1, 0x409), (1, 0, 0)):
        names.setName("Noto Sans SC", 1, *platform)
        names.setName(style, 2, *platform)
        names.setName(f"Noto Sans SC {style}", 4, *platform)
        names.setName(f"NotoSansSC-{style}", 6, *platform)
    names.removeNames(nameID=16)
    names.removeNames(nameID=17)
    merged["OS/2"].usWeightClass = weight
    # WOFF2 without its glyf/loca transform: WeasyPrint unpacks @font-face files with fontTools, whose
    # pure-Python glyf reconstruction takes over a minute for 9,000 glyphs; untransformed, it is brotli only
    # (half a second) for a file 25% larger.
    merged.flavor = "woff2"
    merged.flavorData = WOFF2FlavorData(transformedTables=())
    target = OUT / f"NotoSansSC-{style}.woff2"
    merged.save(target)
    return target


def main(package: str) -> None:
    import tempfile

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for weight in WEIGHTS:
            target = build(Path(package), weight, Path(tmp))
            print(f"{target.relative_to(ROOT)}: {target.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "package")
