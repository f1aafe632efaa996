"""Images and the font of the visible signature stamps (Decree 30/2020, Annex I).

* :func:`signature_image`: a demo handwritten-like signature, **blue**, transparent PNG.
* :func:`seal_image`: a demo round seal, **red**, transparent PNG at real size (the PNG
  carries its DPI, so ``pixels / dpi`` is its size on paper: 38 mm by default).
* :func:`stamp_font_path`: a serif TrueType font with the Vietnamese letters, for the
  text stamps (attachments' "number/notation + signing time") and the seal's lettering.

Real deployments load the agency's scanned signature and seal images (transparent PNG,
at their scan DPI); these generated ones are for demonstrations and tests.

Font choice: none of the installed Python packages ships a font with Vietnamese glyphs
(fpdf2 and pyHanko ship none, Pillow's built-in font is Latin-only, pyHanko's OpenType
support needs uharfbuzz), and Debian's DejaVu is not present on every machine. So
:func:`stamp_font_path` takes, in order: the path in ``LIENTHONG_STAMP_FONT``; a
Times New Roman-metric font when the system has one (Times New Roman, Liberation Serif,
Tinos: Decree 30 asks for Times New Roman); else a **subset of DejaVu Serif vendored
below** (ASCII, Latin-1, all Vietnamese letters, a few punctuation marks; 25 KB, stored
zlib + base85). Each candidate must hold every character of the text to draw.

DejaVu fonts: Bitstream Vera Fonts Copyright (c) 2003 by Bitstream, Inc.; DejaVu changes
are in the public domain. The Vera licence allows modified copies (a subset is one) as
long as they are not named "Bitstream" or "Vera"; the full licence text travels inside
the font's ``name`` table (name ID 13).
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import math
import os
import random
import tempfile
import unicodedata
import zlib
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

__all__ = [
    "DPI",
    "SEAL_DIAMETER_MM",
    "SEAL_RED",
    "SIGNATURE_BLUE",
    "SIGNATURE_SIZE_MM",
    "image_dpi",
    "image_size_mm",
    "seal_image",
    "signature_image",
    "stamp_font_path",
]

#: resolution of the generated images
DPI = 300
#: a round seal of a state agency is about 35-42 mm across
SEAL_DIAMETER_MM = 38.0
#: the generated signature's canvas (width, height)
SIGNATURE_SIZE_MM = (50.0, 20.0)
#: ink colours (RGB)
SEAL_RED = (214, 18, 32)
SIGNATURE_BLUE = (22, 48, 178)

_SUPERSAMPLE = 4  # draw at 4x, then downsample: anti-aliased edges

#: Times New Roman-metric fonts (with Vietnamese) that a system may have
_SYSTEM_SERIF_FONTS = (
    "/usr/share/fonts/truetype/msttcorefonts/Times_New_Roman.ttf",
    "/usr/share/fonts/truetype/msttcorefonts/times.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/liberation-serif/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/croscore/Tinos-Regular.ttf",
    "/System/Library/Fonts/Supplemental/Times New Roman.ttf",
    "C:/Windows/Fonts/times.ttf",
)
_FONT_ENV = "LIENTHONG_STAMP_FONT"


def _mm_to_px(mm: float, dpi: int = DPI) -> int:
    return round(mm / 25.4 * dpi)


def image_dpi(png: bytes) -> tuple[float, float] | None:
    """The resolution an image file carries (``None`` when it carries none)."""
    with Image.open(io.BytesIO(png)) as img:
        dpi: Any = img.info.get("dpi")
    try:
        dx, dy = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        return None
    return (dx, dy) if dx > 1 and dy > 1 else None  # some writers store 0 or 1: unknown


def image_size_mm(png: bytes) -> tuple[float, float] | None:
    """The printed size (width, height) in mm of an image, from the DPI it carries;
    ``None`` when it carries none."""
    dpi = image_dpi(png)
    if dpi is None:
        return None
    with Image.open(io.BytesIO(png)) as img:
        return img.width / dpi[0] * 25.4, img.height / dpi[1] * 25.4


def _png(img: Image.Image, dpi: int = DPI) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def _ink(size: tuple[int, int], alpha: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """A transparent RGBA image in ``colour`` whose opacity is ``alpha`` (downsampled)."""
    mask = alpha.resize(size, Image.Resampling.LANCZOS)
    img = Image.new("RGBA", size, (*colour, 0))
    img.putalpha(mask)
    return img


# ------------------------------------------------------------------------------ fonts


def _covers(path: Path, text: str) -> bool:
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped, unused-ignore]

    try:
        with TTFont(str(path), lazy=True, fontNumber=0) as font:
            cmap = font.getBestCmap() or {}
    except Exception:  # unreadable or not a font: skip it
        return False
    return all(ord(ch) in cmap for ch in text if not ch.isspace())


def _write_font(folder: Path, path: Path, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".ttf")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
    return path


@cache
def _vendored_font() -> Path:
    """The vendored subset as a file (fpdf2 and FreeType read files): a content-addressed
    copy in the temporary directory, shared by processes; a private one if that fails."""
    data = zlib.decompress(base64.b85decode("".join(_DEJAVU_SERIF_SUBSET)))
    name = f"DejaVuSerif-vi-{hashlib.sha256(data).hexdigest()[:16]}.ttf"
    folder = Path(tempfile.gettempdir()) / "lienthong-fonts"
    path = folder / name
    try:
        if path.is_file() and path.read_bytes() == data:
            return path
        return _write_font(folder, path, data)
    except OSError:  # e.g. the shared folder belongs to another user
        private = Path(tempfile.mkdtemp(prefix="lienthong-fonts-"))
        return _write_font(private, private / name, data)


def _candidates() -> Iterable[Path]:
    configured = os.environ.get(_FONT_ENV, "").strip()
    if configured:
        yield Path(configured)
    for name in _SYSTEM_SERIF_FONTS:
        yield Path(name)


def stamp_font_path(text: str = "") -> Path:
    """A serif TrueType font file that holds every character of ``text`` (see the module
    docstring for the order); the vendored DejaVu Serif subset when nothing else does."""
    wanted = unicodedata.normalize("NFC", text) + "ĐđƠơƯưẠạỆệ"
    for path in _candidates():
        if path.is_file() and _covers(path, wanted):
            return path
    return _vendored_font()


def _font(size_px: int, text: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(stamp_font_path(text)), size_px)


# ------------------------------------------------------------------------------ signature


def _spline(a: float, b: float, c: float, d: float, t: float) -> float:
    return 0.5 * (
        2 * b
        + (c - a) * t
        + (2 * a - 5 * b + 4 * c - d) * t * t
        + (3 * b - a - 3 * c + d) * t * t * t
    )


def _catmull_rom(points: list[tuple[float, float]], steps: int) -> list[tuple[float, float]]:
    """A smooth curve through ``points`` (uniform Catmull-Rom spline)."""
    if len(points) < 2:
        return list(points)
    pts = [points[0], *points, points[-1]]
    out: list[tuple[float, float]] = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(steps):
            t = s / steps
            out.append(
                (
                    _spline(p0[0], p1[0], p2[0], p3[0], t),
                    _spline(p0[1], p1[1], p2[1], p3[1], t),
                )
            )
    out.append(points[-1])
    return out


def _densify(path: list[tuple[float, float]], step: float) -> list[tuple[float, float]]:
    """Insert points so that neighbours are at most ``step`` apart (a continuous line)."""
    out: list[tuple[float, float]] = path[:1]
    for (x0, y0), (x1, y1) in itertools.pairwise(path):
        n = max(1, math.ceil(math.hypot(x1 - x0, y1 - y0) / step))
        out.extend((x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n) for k in range(1, n + 1))
    return out


def _stroke(draw: ImageDraw.ImageDraw, path: list[tuple[float, float]], width: float) -> None:
    """Draw ``path`` as a pen stroke whose width swells in the middle (pen pressure)."""
    path = _densify(path, max(0.5, width / 5))
    n = len(path)
    for i, (x, y) in enumerate(path):
        pressure = math.sin(math.pi * (i + 0.5) / n) ** 0.5
        r = max(0.6, width * (0.45 + 0.55 * pressure) / 2)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)


@lru_cache(maxsize=64)
def signature_image(name: str) -> bytes:
    """A demo handwritten-like signature for ``name``: blue ink on a transparent PNG,
    50 x 20 mm at 300 dpi. The same name always gives the same picture."""
    seed = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    w_mm, h_mm = SIGNATURE_SIZE_MM
    width, height = _mm_to_px(w_mm), _mm_to_px(h_mm)
    s = _SUPERSAMPLE
    big_w, big_h = width * s, height * s
    alpha = Image.new("L", (big_w, big_h), 0)
    draw = ImageDraw.Draw(alpha)
    pen = 0.5 / 25.4 * DPI * s  # a 0.5 mm ball-point line

    left, right = 0.04 * big_w, 0.96 * big_w
    base = 0.66 * big_h
    slant = 0.35  # forward lean of the strokes
    # the name: a run of cursive loops (a prolate cycloid), one per letter of the
    # initials' word lengths, with random heights and widths
    words = [w for w in name.split() if w] or ["x"]
    loops = max(5, min(10, len(words) * 2 + len(words[-1]) // 2))
    body_right = left + (right - left) * 0.80
    pitch = (body_right - left - 0.10 * big_w) / loops
    points: list[tuple[float, float]] = []
    x0 = left + 0.06 * big_w
    for i in range(loops):
        height_i = (0.46 if i == 0 else rng.uniform(0.18, 0.42)) * big_h
        loop_w = pitch * rng.uniform(0.32, 0.48)
        for k in range(48):
            t = 2 * math.pi * k / 48
            y = base - height_i * (1 - math.cos(t)) / 2
            x = x0 + pitch * t / (2 * math.pi) - loop_w * math.sin(t) + slant * (base - y)
            points.append((x, y))
        x0 += pitch
    points.append((body_right, base - 0.02 * big_h))
    _stroke(draw, _catmull_rom(points, 3), pen)
    # the flourish: up at the end, then a long underline sweeping back to the left
    flourish = [
        (body_right, base - 0.02 * big_h),
        (right - 0.04 * big_w, 0.22 * big_h),
        (right, 0.30 * big_h),
        (left + 0.60 * (right - left), 0.82 * big_h),
        (left + 0.20 * (right - left), 0.90 * big_h + rng.uniform(-0.03, 0.02) * big_h),
        (left, 0.84 * big_h),
    ]
    _stroke(draw, _catmull_rom(flourish, 24), pen * 0.85)
    return _png(_ink((width, height), alpha, SIGNATURE_BLUE))


# ------------------------------------------------------------------------------ seal


def _star(cx: float, cy: float, outer: float) -> list[tuple[float, float]]:
    inner = outer * 0.382
    points = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    return points


def _arc_text(
    canvas: Image.Image,
    text: str,
    cx: float,
    cy: float,
    radius: float,
    font: ImageFont.FreeTypeFont,
    span: float,
    stroke: int,
) -> None:
    """Write ``text`` clockwise along a circle, centred on the top, upright outwards.
    ``span`` is the largest angle (radians) the text may take."""
    advances = [font.getlength(ch) + stroke for ch in text]
    total = sum(advances) / radius
    # spread the letters a little (never squeeze them: the caller picks the font size)
    spread = min(span, total * 1.15)
    gap = 0.0 if len(text) < 2 else max(0.0, (spread - total) / (len(text) - 1))
    angle = -(total + gap * (len(text) - 1)) / 2
    ascent, descent = font.getmetrics()
    tile_size = int(2 * (ascent + descent) + 4 * stroke + 4)
    for ch, adv in zip(text, advances, strict=True):
        theta = angle + adv / radius / 2
        if not ch.isspace():
            tile = Image.new("L", (tile_size, tile_size), 0)
            ImageDraw.Draw(tile).text(
                (tile_size / 2, tile_size / 2),
                ch,
                font=font,
                fill=255,
                anchor="mm",
                stroke_width=stroke,
                stroke_fill=255,
            )
            tile = tile.rotate(-math.degrees(theta), resample=Image.Resampling.BICUBIC)
            px = cx + radius * math.sin(theta) - tile_size / 2
            py = cy - radius * math.cos(theta) - tile_size / 2
            canvas.paste(255, (round(px), round(py)), tile)
        angle += adv / radius + gap


@lru_cache(maxsize=64)
def seal_image(agency_name: str, *, diameter_mm: float = SEAL_DIAMETER_MM) -> bytes:
    """A demo round seal: red, transparent PNG at real size (``diameter_mm`` at 300 dpi,
    DPI stored in the PNG): two rings, ``agency_name`` in capitals around the edge and a
    five-pointed star in the middle."""
    text = unicodedata.normalize("NFC", " ".join(agency_name.split())).upper() or "CƠ QUAN"
    size = _mm_to_px(diameter_mm)
    s = _SUPERSAMPLE
    big = size * s
    alpha = Image.new("L", (big, big), 0)
    draw = ImageDraw.Draw(alpha)
    mm = DPI / 25.4 * s  # pixels per mm at the drawing scale
    c = big / 2
    outer_r = c - 0.15 * mm
    ring = 1.1 * mm
    draw.ellipse((c - outer_r, c - outer_r, c + outer_r, c + outer_r), fill=255)
    inner_edge = outer_r - ring
    draw.ellipse((c - inner_edge, c - inner_edge, c + inner_edge, c + inner_edge), fill=0)
    band_inner = outer_r - 7.0 * mm
    thin = 0.35 * mm
    draw.ellipse((c - band_inner, c - band_inner, c + band_inner, c + band_inner), fill=255)
    r2 = band_inner - thin
    draw.ellipse((c - r2, c - r2, c + r2, c + r2), fill=0)
    # the star
    draw.polygon(_star(c, c + 0.4 * mm, band_inner * 0.62), fill=255)
    # the name around the edge, as large as fits in about 300 degrees
    text_r = (inner_edge + band_inner) / 2
    span = math.radians(300)
    size_px = int(4.2 * mm)
    font = _font(size_px, text)
    stroke = max(1, int(0.12 * mm))
    while size_px > int(1.6 * mm):
        width = sum(font.getlength(ch) + stroke for ch in text)
        if width / text_r <= span:
            break
        size_px = int(size_px * 0.94)
        font = _font(size_px, text)
    _arc_text(alpha, text, c, c, text_r, font, span, stroke)
    return _png(_ink((size, size), alpha, SEAL_RED))


# ------------------------------------------------------------------------------ vendored font

# DejaVu Serif 2.37, subset (see the module docstring), zlib-compressed, base85.
_DEJAVU_SERIF_SUBSET = (
    "c-qCh30zdw`#5~hU1rcw*#;EZ32;GCN5EZV6BQ8=QAt5$Ko~%F5y{+AR753AaYrLGazRsb3%AtBOsUAs%!SM>zh-5A6_"
    "_*s=bU?IL#*HL{lD+$WxR9mea>^A^K9oi&vVWl8N@KmYs?~sWBN^)<TD_>L;pSug9ZUKCNU!+D>Hv~8pFu;!u{6S3AtH"
    "}96n6qbGSF3onDyyc&+U^hUsvJVS?jQk`h$C3&w4Swo`EUr2xQulFS{hpThBaN=Dv1zcbS!fId7U*r#VECakMm^cus+!"
    "x)C$kdZJi3r%4@g!Zn0?=mMLBk9MtI)2755djRNsL0C9&C}jwVxj-<NIOG#XXB1NivIRWe3xN=GtOoV`Mc9^>lAW+;KR"
    "S$T8kaclxDymW5%$I_y^C)Gq59o21ENwGbN>D^oN271dU}TGXgV-;oG!xKnd~oAcX*OD1}Xc>m;7J>r66h1#HP=oFEfe"
    "mak-(F0^;)FETkq#RM=euC_88Y=bt-Gf<Pr6Zzw>!1E<Q#~;~o`<Z&#VP?Bv$LyDHX0qkZOgXD$>N#g-7aV0g!?;5G4Z"
    "t7E9%f?Ue3m@~9N96&a5TeF0>@T3MiLrutb}8)bY2X&jc|-5G;{|)mMH;Ni-k+tr@~z(TjtE<%G6A@a2<|PxL3h_Gn38"
    "rgu_=GEx@%9$z+@LXOh7&RI;^9t}qMm;4G6tTM_gZ!`R5`n3+KHk=bCTqi~2Z7s9j;g|*CdkfWCH4Cn2%f1(41so^g$$"
    "$~R8lrN&^Wd0QB<ry=UTnk<x?^-yDv_ttD%uu)<D&GKY0OuRT=LjD6HQaY+ayfsv_hS6{W!h%h4aSvU%5)>wygw5q*dc"
    "~Jgv`iU(k0bB=x4K}rxd|X`-I>CU(?~JH)BwD?h3Pjzc2DkbWdQ=)(FRW0^@v{SU6PRIx7Vw^l!&(2ikRT?+);C?mQC*"
    "&!3f_Wy+;PMRZT~-p*mhYHtx+P&*hM)DGe?1&(-GKKO}bhnJ4Ss5_ih#1_T}wM7chn+o~{y|;JBm%+J6w1e@%uGRiYZL"
    "yZ=0EZ>jzhsBD2eoel6HaVld=OhuTaz=$O8O&mP#g9nw6z-22jvy;L54X%ClT&r;oci`ein{PpxY8SKZfHd!?d1-qZW="
    "!45JBT7<>)RB|7>h=Li3CzVN>|gH4ED+C4w|m-8tqZ#I!tcP4hDx-&lC|Ch6fC+g_m&N`hM&Qz!Wb|yYU?e&T?*Z{@^j"
    "Y$n~l<{^<0~}=lYd|r0C5!=I`8!NF*ry)svJ%e3X3r$M)eG~`0{F~@&oZ<Gjs-M4vNZZKj17DvdghrGaCTxW0MeOxi_s"
    "zuS)!gO741Z|PA^<+T)Me9x_G+UYPEFEs6;HXKs`_jsze8zDqXByy1F=s?b^HAGuk@sA?;Reytb#-;ohLT&UYQ|+TXRh"
    "<I#48Xy;D>A75q+vy5p(?x+wIqiXaidc+EBSJs0a%8p?R*>&t$R?E3_G2D8thWmr>$4}<x@uhqvf0%zL#0hT;p9p`*9A"
    "$wrm29i*g6yWORqi1lE}t!5AwMsFY}UtYwpq2=S+oCic&&r7gQ~;I4pkjK?r^cgjSjzeXzgg;F|6a89rtwn;WhKu{9h}"
    "4t?ISUUi+`PyScx4k$JWGwNA25!#k-uRd%}A>G#f^I{SB?-Fai@L!E!_{IpAtE|cLix67d}cP)BbBw5V2_}-GS%(nc<v"
    "eELs<)2pBR&QB-U{!DR)Vja*Nb5}N)z-VL&s%?IBiQt^8DcZmCe~)1%~qQ|HivD_*nFX|RE$-`C}t_<DCR4cE8bCTSJW"
    "tuDjq4G+w!&+whp#EYzNxL*zUC5XM5cCf^CECEjx3&7`p_!bh`q(C3dBD6?T7jWxBrB)wZi^SMRQax(0WR>^i;cp00<x"
    "p6>d2*T$}Qy8hO!TetXb>Tdbn7IiD>wxQdVZr^qLsoU?}{%b$bKEOWQex`l8eS!T_`?dC4?04Iru>Z#Xx9*nRM|2<EJ+"
    "k|>?n}GB-+h1g6WuR%|El|s-5+-U+ktT~cd&DCcj)Ud#9^#MtV5DRw!@naD;&xlb~w~H9Cf(p@U6o=hsO@hjxt9pM<>U"
    "gj=qioj^U0|91|VqIL>!m<+$0g+VPNMo#W?@-#XrNeC*ilBy+NIa&qeB<mVLV6yX%>q;{I`wA`u8X`9m?r^8NXoW5|n?"
    "$qS;yHks^+}YaM*}1o~pL3w|c;{)(NzU2MZ#u7VUhiD#{Gs#5&gY%4I^T4D;QW^h<I>5+)y3CkipxBg{Vu0mest~aI?*"
    "-Wb+zjj*L|*+T)%O>>-yNW#m&r3;pXP%Lq|+9-oPgdRWLqaVz9P!we)bcbWP@&)?BW8>wUaI-ud~TIkKJ%i|n*btgFxn"
    "`Jg4kcntJY4zN|&$lTpLtz9{VyDzc}AM76y;XgQ>M{ICW%AkmdLH-frh4))8x3-d=>bV;BK0Hr*LYD5(m%AlO*}*#O5E"
    "?a&Y;SS^9%P6zJE0EnoB_|3bLBW!YbEEZaHWU4H9dS?>A_p!pQDlEuw-OEdv7Wlh~JMwLvSTr<NGN!$@nsw9)&+ei7DJ"
    "Ne26Q?31|mS*o+Tt!n4qJa%@5oo6!yuH}>PN`3#v2BV#%-{Xs%MKi`3#UYty(u(7p6mP%V&J4;Vb-+_MqmP$)<<L>F{1"
    "s9+MIY{E^$sWosn46=Tos*h{XQlHM8-70V!>6jGlhZQHSIvEP;g_#fGrtV(I43@4o-?~eo;o#B?WzewHY-<i=zhTNRh8"
    "$=kvV>9*1soi&RgCA4-48?R{dEQ{3q%Rd7Z#yYn$Xfg(skYJI0;yVw9jAH^Q890O8d5+Dm5|;MQ7++^vo7(dDU$NimZX"
    "6S;#^5>+uVvl1t7KXGzf<%yGS6|J!q-M61Qxnsxi6GD0QyXAX!uV24g<G$zJ^4+`3*MAWE!^x93Z=O7LlfCoeFIlIXCq"
    "McA=BX1ufX&LaO|m-Rtpno^nnN;)6~Wa@CUbXTh|;L)z-Or5+}%X2`uX|0`?@OJWiq*)l8@4ym@?((y~#(|k8tM7)W@q"
    "Z#$RpPqU?A7LeNLK*_{{7nY}1Do#jI&bUci1?6pjswD-3MY*NIL<m$Vl-z%FMgUs$Ndyq7|FmT67H#dyava(}`7iMejL"
    ">^B~OIvbp=Eo$H20uh8)DNi_f(MH3N7{Dbvur8&Kqt8IWGyYM{1q~CvSUmCdj9;c&C8c>#%D9o4U~vf=tjmYHC~9{!&P"
    "{pnmk<wPcIOkw)XY2vb12md~M08Y;$q(=BLk}<Fm8WXfc|OW}wCDSsB<1Z^hfN7kSo|4d-ry24QR=L6Cb`yITuh9v=Pz"
    "r{p}i+Zbkya9q`CMJHSpj*4+%IGPSOXgc3`^!VHxcqv+NWA4Yt3T~hUc<BwGcLOs0n*tBs0#d@bA>+;0)e^>Ff6diO%~"
    "iI)z-zAVA{V>Z{)B_E_#wK$G?7}w4t(EN2}T(kH}!&9**lj)PA>EK@b6f_ibdDiST>hv&l<?avJ7U}+^x`ZR@;OwGmlA"
    "+{zlQ^tS&6*A_A>uw1Mm)$p+w`tW~Avai!4sA_IJ>Slh&}mHeFX7(n#r?naH^##mY~$^qn?E!k92v56di;op(vUr&(*e"
    "iDiz(Iga&B5^I=i}&H$L{x$1piESOQ*ar62d9v}n_;j&1^OMKKmv^jz8*?Y5KPKE{u-sPLcE&){`}HM&GV^EA>-#G0NV"
    "j>+%5e;E?!}SWOC%{3y=9C8YRG;kt{3iM#@9f8GqT;92c{h`K`mzg$;|gty;U4&qf^w54(5nCcbJ1ZO3p`2KsbE%c_kv"
    "YoLd%An!uxp%-Y>Ptu#5gcaV^4FU|r9dS^*yZcHPZZf(1rTpu0H=osPJ$4yCz|Zq<&&lezfBU9`M{DB;95}G9xcJ>pS;"
    "7YIzMt$VKH_43{lkXa1C+>Z-TH%@YmX$Cy|c7r(OV=Yj|Ayzp>LM@oh8yqrKB#SWG`cuJF1!bM3cv^xriKb(-YLp*|+|"
    "TWoqP+!98v5n1*kH4EsTbLa--^*zh0`gHhNpZ3G~ETk<kZ^uUssKT%hFU(3w?E<3x!d*$0}KG+ev(l<tEtisW+zmA{&@"
    "*n(P!tt67*Uq228W6-j1|C;JFB_<5co5H!XhI<2bRD`=7jcCsqo7fSWw)1BRFtmWP;oqXZ~AS-;fD`3_z4O`9uxMzk!`"
    "+Y&bhkKtLM&L{p^!V-?C4}jfI|@z@Z9J99n_)J2^c|QseK5AM6E9Ed>c-bRh5*h*_3UDr%0s%l6Sk<a5`B%;qwo|1mTj"
    "e46lCDtR!>vPj1!sDU%O7LDxg_PTL+1mkljcC1^sgB(3qy;)RJQuOAk^qM;S?D>E3-*q2u-1+>*jpsX2MdiVRl{*g}<m"
    "RrZs93SGqN3jJ%8sv^n!eg`#jg8-6^E~0J-p%ovGHPwn{GsF5Sl?pz5}IUL=5Ch4P<3Je{gj{`!jyTT4eW7gSy~4`~zq"
    "!tJ9K<b9K0G&Bl#u)@-a`w~ZT%%ztS@mbe)2!t-#HlhgC0bmYOifkLm<gF;E~jSv-XbA{q)HjWFHM%Rtw2Mrn@K6r5W_"
    "(6li!v_x<Ph-WP@#EP~B{)zb@u>+YnL%D}h)~u>WTa>{l29XuE^P6y4H_Te4=@@R<Aj@hHO%r*k}8ld5^lEq$#-tX0?W"
    "1HWw^KoHB_Sp=<fzf7H)FerOXJ%1Nqz#Sc2M&x$TwDD^2NH`yxV+qVS!$)*9?njeTlRA<;vLwuyT{eZtK&d*Y;+B9kjf"
    "e9?^)lrmn7o8xb(Pe=cV(5>4=2S0k}t(-DNf<CuO^y&NU(G!o97=`uzeCx{XON&VS#9QT=!Y(F&fl%uqlcs$#^TOB`lN"
    "!(0Ngpy+VPj=y%Y)7R?PSCey*ydpfmZ&0uLDPR;GGtX!1)?^tk8LA`HTbKe}7;``OvL3r-Fmj`07WowK1RHQN?GV-uo8"
    "cndzI3AHVl8{%FDCWy=>WMAOcFixLXLBk&3QGg_NlSiE9>&YI^@k<In>FCwGXw6=OQpUS)#y{y#JYX&a<?{55HcEN)1@"
    "X#4EmK7~Tqdz%@LKnWZqI&DBpWnn!aXp9DrY_iWVEc{(+Za~+l+JODAhQ+86cO@O!fc{cKoEnhQK>+i+1K%7P1sV_W)G"
    "_<*W9gMpjo}3igjc!wm7PVwB~o!Y7~Z#slmqCKubl(w<YsB=*?9OFRr?n>kh;%Ay+XD&!`#oK3x6&5!{HYHg2rKxS+0%"
    "y?gKej!ktJ@GtnfdTY%GThwo@Sh=8igIZwHjvrgL-Ky*Psvo~15hYjKBvgS%IFeBb+V>>dC&7!CQY13x5!(n=fw=zhJI"
    "x7M8R#7}W<Ijnk?nE2{`Y6ke&79FKUC6iU6qi991lZY@nOIyyyw&*nEO7)$MC)#+d(%(vZqus1<0jzq2pdBj(CTfPe4r"
    "b$DiXLPEaADpsGHABO$Lr;m8j@VWI?hF5ZbNaUS76o33s)l5wpRiP6JVx+drBx;p+)ktPZ~EGoiwY+Vthakv4SpTrg?H"
    "ESF2VI3uZprmM@l2SqFTrARzKp5z-znfBdORdx9dC;a4$=p2MU09kbK(0>acu=n>DABFp?Ed3L$SjczXMZ^ZKR`b%!&e"
    "UA{Wuk}g=veB<!0XQ<VW~0BoQCu{euRf#c7(a$B#$5Q9PQ3-XA&)Zx?x%tpuLC>v>ktiiV!43tCE?v!m-c8Tqc$9ItC_"
    "t|Q#1X<Au6Ev<!7tJx)z1VE8JM(ZoElEPI-6g89Q$n$D7eH3uD(Kv>^4!95rIbUglmHMVZWp55Qb!tJ}FKl+*#UDnO<I"
    "TS%CT#d#7@U^YeEPpXxJmqX0}5S@`A1@pWC$TW^X$@H=*b?<LiS1xeqS?8;{P)13*T2XN;P{y^S)ZLqBBtJWTFw#3kaD"
    "SYW=hp%Vu0c<V|K6dA$h-2pN<I{zy5fM<21~tU0Q<bXs$)4l|{gp&Yc_;Jv8+_$4jB^Oh~54pmTxR0B<G15Jq$N={W@j"
    "}~$ZKV!}73tNNhDV=2A2eeYi|Jt%m4WkA8Najf6v`gFU(^D57{m3A)VdXLz7xs5^^WV>!o1ax^VR&X_&1&6@LeRQ7a1n"
    "tfqOoWknurhJBlsvjkVb~7!;vG%F>6*Lj=}GJgzsj~N@S!l+KrCUZX}XPu}2qjc#<X%Z-Rhh_U_iL@8aill%Bf-KHPi<"
    "UwXhk-&wJ#QXHdAXV3hkxkY8c$EYl}WX=(QXFc-}*uiO(3aDU>MC4}T53pJ<1pWp;_uG=;{J|e8NlHibK1wj~kH5niLx"
    "KX1o4xy@t*oL<GJiTkAf6&9n61IG9E?q!iFMIbA8WbB(4-zWj^fIPL0PkIf32wk8UOzNKl?QEk=Mp`>o(#W?0xGuqHu^"
    "B-CQ+MbC`~YYo|9K^jy1P!y1~UL9TNjB<=~hhNYb@@$~W{+12Z9icdRTj$M~4oIHK#WcJYu-yT4npQb!too#vW$oBW&t"
    "UrEvAO02pr$`$HRYlEvrN!xa{zFHd`=IWtKE3g|?WK#0(&i8IAO6XX8$S$y-eEKffgo`gQdy7`T8aq7a>b|dm?EKX5gv"
    "0|%|CsJW`dM0=49N=1dp2qPZ7(DzG^}Ewv-$fq81noIiF_3PM^Gg|Kw@(ybd?xi}3kdP^YD}w&HvD?ja`*;z{c-_(Pay"
    "9nd6*5s!cyvfk2}WIE!&cBdVnWON)I+k=jlX@1+QdHgQxBB)!I^YdXCY#<bYC#a3glwy2=sX}^=1O_Bt$+}hH8eCI_3)"
    "i!*Cy+mi-i2b(;Js*nIbYWjNT{?N<WIB==BHD7=D^DyF<K&Vf<`)$hLGc{WUF!cS!@MlaCjvfS&IVDm^0|%9-NP^S88e"
    "xu?sc7LBz~uOViS@Gr9{A=&WX>8nmc=2tC9~9MkY&Or02D>1nK7&Gz1p@=^XCbf^@MJgsKCu@8Vo6$@Nyyfxp@7&09wj"
    "nu_4G0|7hx@bDLtF^U=-`X0-h0hNYtZt*&u;$0o99E0}WEVs2FXf7)eyT+c_%X7=J~A8ii$m%*b+0vOwUQRTr0$iKL+f"
    "^+ktxzZbl!6HWizo4ka#S!dH$nX7D4>w2DgW1Ju<Npfq&d7)_D`|io0!QApmQ>CTjp}AKD*w<Qben>ugXk&$Pl_WF)lI"
    "@Q>JBnToa$Dw&AS$9rWeyaLUm>w++nO88*#gdTw5t4{%~>EP98m9Dyc)t8p8oX>w&E?<$CTY9VtR}HUBJ9zE!4aAl&o3"
    "q3se&&&wTMtmg-MRBKm#jgjG+(K6$A+G&eE;Z}!ey#i*L(K7N%|cM{T>4yK=DY%Fd03BvX#PyB`Fg0jcg3{q~g&*l<K#"
    ";=+o!VKP}qrhc}|s^3|nfWu>dj)k1(;lc9>opEoz-`gm2f8s(p<zxTtfJD;B>vk&y+2=dvR)I`Psf@BZ8qt}nMzrc{P|"
    "0U_Oq%=k8(swI1ZYWq|k4DxULQ1HR`up_5PgXB_@bk~VytzQqTa%7|51p>aydhHebv4PTd1WoGAOgI2egOp7kCKm-uU="
    "DDwgv=HSF7TYe{(bPi&wEd)h(A(Pk(;r)(`jUb@qt?{%z=(a+Ua18kKi)Du|qqX??J3d*K%6_1^zE`w-tpw)g%(>^HKq"
    "6${_7U>URPHy18APz$oOqJjAO!4sd<9jB{7kXdAd9CY17REdJF2}q$^Db*BQb^@9-VRkg?iLXD>?5(Y>J^oS9@<5^6xQ"
    "Ohsm1(W})oLy(ZP}rtUAxiM=D~auaP7=^6CbC!ikB{dG0_x>Q$~97<&~`uQ_oDDX|;U8u8jtTp%h%9Qy6!u^^N;4JUwr"
    "x%>4M%wFcc)r{UF-=FW(c@i3l9-mS|v#bp;sHnCT@iLS0iDa!ZKYpbg;zaxJBqUDv;sbbRSeEzNGA_OAl{Mr+TusxY;f"
    "hs#wXo9=}vRLDy)LK8;T?+E)8x-i{6ZG4D&9AjUTgdJk9NgC@FtDWu)e?}<4#k7fAxg)o4IRR$slu)hf}{HR1oZ*GIsa"
    "kU(h>3U$x&}i(bL8A(^|5tPP)3@oEclR7-Sy`vOfUXVXkr2rPn4A7|AV_>{v}}HH<5CW)r%56n~1=Z_+%iz~{=UiTJIr"
    "p=}U-e}M6;Mn{S<t!02N8wGSb80W62YQN^;K_EmD*8sKTRq{Bne?PcsU+FL15bh`{@8SFYoZVH`n5~?dS+uwkn@MMu+G"
    ")G$&1!CHe!<lSY8sFCR#DTaS??Xi;uRO2`iVNLh|&1~@L}))#s9<yW)>13084#h<N{?-EPxA0V^R%NrIky=`jnk+Oe$;"
    "`Hf8<BjqBHMtSBdOrQ5@Ys2hF|`s+_WJ$(4nProL@K*VSO{t^n5D>NSB82%X0G-upN3^$5>UOKLIu~Fn5Rp}z&F_YLxY"
    "{7=5N+Iw_TD2iG;_jrXAfq#ej!s+Jm!yh+9+b73U-!RiG`0w7Y3TkxjYIBh=&dVVhxcsP=G@n6A!6K$vPR7nVhF#Q`F#"
    "@kp7_~>h*PyXlV+xM7VAIm5KtqTpRdw1^P_=E(I)dFBPmzSm#%tqN&Kc|D~rDUB>F_6nqQHhR}fqL&c<aAF3<jS=<|ZP"
    "Gp2>c^zY;ScJe#b-o1XAofj1qG_hA7pVG{Y`@D(gL%&`^HnBL2P^G1~a%vQfJ$-NO+I1Yo;_88+VS#Lk*_yH)Z*!;8&{"
    "%vlO*5l7d~$r*^3o58SNenh+~mE)8o+3trNh)lD)QJyG<84TtlX7$aCbF|r(ucrY7J7KQfJm*X9uTg-aWVO)JNpCA*5{"
    "vKVJwGAqRAAlW;ZT!b0@02K7e0cc8TexDa?s(|E8qA&m^CI}(t;*TJ(kBtx*)C6KyY&>C^qk;RkEXz^V9=_W`>UzFnu1"
    "?cWx$asLAbL`iI4%tJbbo+242u+X-Mu-=kv#gEd4#yd1g>3ZgwP;f*ZbIQDSW*1omsL2u6nWrJmZF;r*_B8M0jL1`LjW"
    "3q&%yV4R43NO%`m?Zc^$}#f~mkV<IsstgyLKi@w*L}pXrl0AWk-Tn19gugWQ)oWwb=U`G!T8%fUm31OHLrvyXuOOSxeb"
    "yIJ#xnoHIsvw>+bT=FsG9@Dz%EN&#qWAGu~4x%H}L4txBRKJ=}RzZ~t>iXic60tLHH{!(y>1&1$Uz7g9ixI)4F{&kR&x"
    "$F%pSu1QVmIWa=50Xit@4zqrTFgl6;5u;x8b{`Q=uO-?1*Y)j{2Rgnq4x-=k(n&Qy!#_$(pl{6R~4GC+_Zu30*yT*3u="
    "3lUIk1e6c%y&4>|e(s#cYd4I|p<h*UUo70Nz$a&3_l=52`Q<gBkwVq_B=$3Gk6D_PDI)@?XMH3O4A;Q?RqbrFwRflKH+"
    "~4sv+w%D7`=+TriX%5RWeL-3Ij{9oqXT)q!{9OFE2d0@E3+YE$^J7gVO{wJ;{G!-o*Auul?rR4{pX;fVD33x@{NdSzRd"
    "Zywzgg-@oh7{&PNL2kU6{2tdGP351F`oODlWhja@%Ke>Q(H{Gprfrz%uGXth76rtgVVTj#1`^Az0eE<b;J{pT+K-Mr75"
    "?9f^x?<aqv-j=8%erDF!3qL7ZYTlY^zA&A5{Yvn9m9#dc3v{$bpqni;n-W*U?f8h)j@dI87NV_Kg?`Ly^*DR>?EPDlca"
    "7ug<CC^j;Tvh1PnvL*nvF_BURN5sk(?@pna&^P_dv`hdky|}a&b%APVObTyxdFNT=4hux1&MT+IT-=Swmby@18yTT%CD"
    "!P(et*g5h7pU+LMim-p59tApl+1kRthB`0g^mh9}U+>NVo4a4RKhRhv&HSUUcubw@x#9bXRKOnRK?yq|H>VX$!ZQh)fv"
    "vnJc!zbWnj!>h#E>*(5uD)LIWjZ231#&5;L@B3nI$9rv>yRAZEn#~eKvU49-KcgA{s~#&!=q6-&ZtwP%+yh(spt<~&4#"
    "<A&W}#TWn}gR@85-LgbKs^1=ivi*tH8)Xgadbc!qovKbWo^&Q;Mho>7t?2zGQ~+*&_L5I5DY^oo%~x12!y+0%H-1{DSS"
    "qcoQxLrXrJ&ZbON<vz1FKffR~Ct}PO`(i7{PiNE9QVM@ky!PE&b2FkQd{!M%!R_fg$@lHcR-Q8lk6X@e{5)(@!lZ<iUE"
    "~=X664?U_Ic}#rQ5qZHlWCfv!b&Xn#<;INQ_(N-2bf!OLjQWHz@>v&R^y#<{8LnZ{O8;pMQA2kU-^tzz}rACnRuyGB8B"
    "u8q!Z07^v(QqB}Djf^jOlFI<5-XaJd!k@0?k!lV}B$esYnHRPsy1$JaBfsQ4rAb)9#!Bd#o{m7b=x9=X0+%hHFGAFg5a"
    "NgX6Y{kP0B+tl5PtVA}FDfeV3-KDsE0*4in-L#BBktbPx0~W-%!r#F*TfEATKeR(`aeCq8Z(kVK6>Oxd?L4Q4m{bsxdO"
    "LjWXyqUBvfohGPs@{7dPYn(k1ue;^O1uX53r4tZ7DE9C*V5){fgi*V%iBRR=^lLjkL7Q@|Q3UE-fyXyi}*7ECFvs;jw@"
    "mpUc6bNKjmfd`MRKb4xElrTM0^OQZI3FXh@Wzmt!eoL})7WIja3k})k=(riLT^|`SadHBFm_pxaDdjzQclvG##6?6lim"
    "b&G?}4vF@zmR0Jn`<icn{u_i*`k!UHVIgMpkEtta0S6Vr#mce?wp^Tefp?nzLxzKkUr&dK;U;cpSz=lRbB7Q^Oj<ogL`"
    "ItDR*z?iF_RdW9cw3l~h96dkqTS+AisdEs?S-ADAF9*xgWnuK;NS~Bx`JLY}+6|TV9g^wE>j`w#~_P8I6Lw#^Va4=gLl"
    "$9~*4OZQrm1n=oCy3q}g;`v0;h9b^jckmjMtHU!ta6^q=Z4cbU~l>^jn@EMeU1oD!ZP70v&V<0sK*A(?cKNU@#V#bj|s"
    "`C<HM6@j~kb^s(;@;Ie~9~e7Jb|2{JkjZ(ejUefNSol;Qmg%~iUW$m7CY<n4}KsJLY-*-?yTx3Y(UtL`+Tl->yF!h&hQ"
    "JRZ6o!kW;))gh}sJZJqFEgq|>MvgIK6QU#H1dHu1Zf~c|-*0(6{nK%H{QSVliQ#l*oGoRqwD*>QX>e=vmcfEC%ZILdR~"
    "=tac;LOTlHgEb*7UgK<Rstj35gTKqo&A1g;VzS>4{+~ON#<k&U^=l8Z>tN)TkNpW5<pS3JW0N6|LkSb5XKn{kt9|m+;<"
    "vSu$QhvS+9`9zs6lY?|?U8C=nj_cqbIcVKz!;5aW*%v7T|T8}}tIVuH`-`8Kq8`9GF7DEDznC;r3e7U$HOS3icLsx^@L"
    "e_q6+Jm&~zad^|OncEF^Lf$0MOfZCR`&}$S;q#VdM=#o#u!)Ob-G<y_L8`#98Q+ca6Wq$vMg(u?F=f_*C1?Qz{t0<dQI"
    ")ybAtQeKyUAWto{?HnVT=QwDj%cFm)KQPC3|ogK(RyyFxN!Dfjh<N<vY)xBf};K6Yy~J6|2QSYsItI*fy8rjp(*AUT#v"
    "m1%f~KmcDuchza>sVN!hsRzFK=D>k(zScZvYc-KvpB-DbR_@xor84|_?ZNBU4<7t>7Ku@3Ax4GiV-(%WMjqmc%|(s4H("
    "BDr5%j7D{*HIYaZxxf7fnS|a}Ae_R!iOnlP?yYSa_i!e2GS7;mH&-jD;Kx=6o4l`$%XP;a(!#LeAt6Y-m@#^n9-2d9s&"
    "|v$zK|6C`<@jbX;JCf-9|r=W$aZc&WuIDU|r8s1XZO@@T^$J<2*50}4{{f=TLB#Po@dh<5jW;#Bm+f3JL#XV+unw2N%3"
    "wRjGH=+D?;KN@54={np>ER<x;M4W+VFb=_5<CNB>`ZD}<FZ@Y={9;}L~gX{%@s@=88Br^z{qLXopr-cG+|58!?1CcIXO"
    "Ec!q6lAF1Rdq<g_WHMoyjD%F^v{9(&B6l(TbZPUJ%O7FM@0&am2B3?r|gYu4^`l)7^yqm$~j_I7<y4SJ}Gt<(HmQH7^2"
    "Wh1T&wMCjp^r)x^+puSgSVwMr^9GTAJNv<4|6H6;cE&*`uT#I6hr+4f&>d&0TTjUrkBAOmf)9TMJir7#T@N2-fV0Oael"
    "L+ex1nA5a0xyI;EhJ`00|xs@GF$Q2p>k^(k>qcO`4N+C;d)5nIVu=1?YF=S@slE+JkUC{^1mTpRKU&v(MVwm)G1|py{t"
    ">lNPW}hTVB_49Tjgzxjy%CM>4B(fv)zb3ai=A*@~a@K?YCOyF^P_y`mDbUl0+fkQay&IAja`LiURc3|ZQc_HMFkgyr|M"
    "^|&P5-W4i7kFR}x`M9ok+?rrW|8|WxWAf>mFNn2LszA}B=eGWW;#Hm?Je%}yRnwyf{t>471Xj`{*al7uQidfM|_{c*3R"
    "FKuN!sz&1cOnZoUDh7X01p>Q*#m3eLo*N*^a3jW{`FGI|FEl|GqyD3ZTEHHK_r7Mz_pbJ{ert(kuzsyH3LsKmSRq?nk`"
    "LawGFp%TTSeUm3$91RlF{X425KS`s-R1<CC!(RapFo93k!-t7*ac7I-50SjPO7BhLp0VT0d&UZPg>K(i@zTC=)&n${Y#"
    "qP2jW0bwhjwnN*x7QEZqDCqI&<!)AJpQy7LR2%^etmu$*M0?+peQ|y|m)S?KLYYczZtHc<_Eh<85=>vfX}Trfn&BaD4K"
    "f2^oB5a^}Lw{Fsz!AMhs%7B4PoiB<E1YR_H!I(^2#@jm{EH91>8^>BZflv<b)oj=BJ)Z(c5RiGidCnZyXCIUedGG^3ZM"
    "h{KaL-X2&UNM6D>!A%sP**)P#Q>Gd^w4XAi4Ou)?nL*+29dWXjdsTDUbQJkt8S8e8m|h9N|oz3%rYi@zTm?3-@ilbx<z"
    "?!)7`Stv;Jex<o|(KzV(-#I|{crm-l{rX8u)nI@!A^@1omE3w>ki(dze)j+wVSG4XoOo>O9{PQ%~gpQVkRH&}17r9<Sw"
    "`DDin<O!zo%v0&4jG;OW6?GbCfF|pqdF?{47(re2&=dmI{z>*jDBX)RhL6&Q(HKtlNj6g&B0NumcK~>?5&Vh-w*>e?N?"
    "nAf5V&rw9sIL1(?{>2`qvjpdBPa>^q^)DygWQfbg;Gau;YCDOzg4m{cUU3ZShI}_#}St@IG!r_CL9g8)!Rb0Iu^u9>cf"
    "ATNN}+M}Zz(Wrq&m-uddM`;A#&qwjX(!W$T0K|W6(LA_w+o96#+MDdV`wlVf`!5bnZ`S{1w!zNIE8<=uNrzJJjN2I9d6"
    "azF_56x>Adc_FpuZK1mL0$FGloaBnH<%LPCSRz}5?}G&C8<c*MqP5GJ7b={;P_NZa5a;q3<<UDBDBM`yZ8nCGLtB*3kO"
    "mR@F#(RF<N}0X7IP;!aTFamREG?+^0t-Id>@-5di9ss|;Ej{_gM*s2f}cl!SAcg9rcG6gId2?BPRyYYHz^t{HoAE~wqt"
    "Z|}%M<Im<|G(b6^dL&3sSIntaV??cnF?wjS9-7xK^okMGRS!)eP;niZ;>L;;g7teb;BznU#c*x+ssA^7G3<LL8`X3-M$"
    "dz*o`;lRLq3{n;l+H(JVLHkbS+aK!}>t3{N<$k01eb<OptNF)9du3rit$A_H1u=nyk~2$wR4d|EFDQd;*2;N6EFd?eA5"
    "ivFd#FZMDWmzh5nl`yb_TkkgOg)}wsjuovM_s{weK%pc@w(2iypfL~;!9XfU<REDNIiif0~Q?<BXs-HC}T{2(7^L~uMu"
    "Ku8phA=`khC=56cBD)}vXd4vI=>a3p>F`5sBIE@)7TiPp>V!|;>SX?|5--o>ShX;uV#Az+#B#0^P`B@{4LV)qFkSaT6Z"
    "MWy5!vqrL{Z9xud;%e#^UjIgb>)h{vr2>ypru8!QW>zY`HBPH9rOG_zBRN|n-SX2<PiW!q(86Go4ouy)-#QjV1f{%k&7"
    "^D|lTV;Qo_XR^3Q?EIL&%UQ`~(h8wbg(Np#`?cDUo4bP?^QQ)knlfcnz*OOBZe=9}j+{CLU{itHqk<zhR_0IRh?h8Pxr"
    "_6foiXpIb+Emwb+3NHOg8xq&j63Xc5aH^{dn<Ci1qK<WkPsyxr3{}okiq0xX@}_L0ekT7K!$t7tnWWt>CB)2CG5bY-y$"
    "t(3KW+1&}XW>5uO<f&629M|O?wk`1r}RmjP!)4qQGbZyq%O-?Q~e;(`onoIwX_2~}wehxjyM0qDz%dTa1cj-T9YL5w7e"
    "ohWv!@6~HTWTpIKjp{Q*e{q^eiW(Tk*}RDjOp_mXrJG&?;!Kei#l|OjqI=H#>b&4L4&#vaYC;Lxn#dN3^>)4;CVP-I}1"
    "3y+RD5bMaC+gN8Z%Y)ppEvzDXRbcpiDTM#?M*d@!RQ+h!qp{6?`xl*aZoJ$|DJ{tydK6i7#oArhRIU9ga_QJ{7sE-}Fl"
    "YJ*)Oy9nbaNV^`dwvZx+gk1~RW7=ZNhw5pM(QYuJoe$W-FJUu!>|h->(Tn`1B&V0C7m({KoxDUp`rOS+)DLYpmOB=D3-"
    "xK+8xN9%LO(TaBq7+Nd$fl=nqXU*V&4Jmu$Qn`0d`nB*wX+z<RxqlutQ9-sobBuB=<Kaa)-Sn_cx;4Og22PglI0+t<e5"
    "R?@uv&u!Wd`5qO-TUZ(!!Df!JKy+6fJe+rf0M)-2IzAhfY-$#q}`2KqQuZ{4hi~iS-NbjkazLol4sN{dwh}9)-sQ<OWj"
    "sgGEVFv;BYCSgfzc$!s<ikL-V+bDDIMhf|>VIu%Q~wK<{I5aegy>PfF5o5V(P({u>QkTRdWrg^{->9lJx2A~OVpoK_tQ"
    "B`cFjVUt2T1Ob#^0fb`wh6dODZ)5_4gI&lH*{T+BYkGUEEjJo4TyfeT?2-cN65HQ1SOltST=B0j0PDL?(hex+Jm%nh$e"
    "xgoK0iV^-0&|)C7nvU0gdVSramWz}uca-YOfFJY{zS;;sNPENxzm{0(CH!g{JtC#(VN5?C@Pl8bPwf{e*-yeJ`q8gR=("
    "J>5o1l8q=g&HA5&NYWvH*D+^hZ}Ypuc(wr&$2ZN1h}P2k7T*ut&CoO;#sIwZ%3IfnFO0ua~f|5jekqX-i$qUtXq8^A}_"
    "4AUWhOI++dF;L*Jeo}tH|3HY-_&l8HN$4J=`Xy_*IWg%w0Bw{RQ^w|{kBtOZM#I*@Ao4RJD!*Arn4Ed3yNiqAnOyM*?5"
    ";aM)uP@qQk8B5<YO*c1q{)}DMNNu2Fs5#t2^!-YGC>I&&m)<gPBR8<&?IDbRFlgM)TLFJ9Q`WHNPZ`JQ=g^#>9h1v{8t"
    "1UsKknT=XX*nLl}Kd4|*rPigt=MP&W&wG67vvd`Z?}ZSm!5A}e2k7PrAC+4R>2e7ZMyi>qd5>GuY?@YciZtYu=0+_*&^"
    "{#<Hl;GVG_!V~(7N105aa3^m>c#ID@hZd|5Dg$a3kKF&q8{}8d+)eaA{AHxI?pJwb5uxYMTPykABlj*DzVFXBNKOj$xL"
    "Qij(uks<yWncWL(a2ruE6JwyEyRVjYwTrKm+>Xa-?5r8G7?*(=7@JCnSpX-A9i6kdgu^8^B9^=&zK?ujoyFiTA2&nTM`"
    "2*2KJgrTa17pf+d7DpzWo=$@Ny=gWUXYt#ne$&0^05?^*J`%JiP^2=La`pa7=z7$Gy9)H0`<A`@~4q8`QRaM4aMjLS|Z"
    "irqP&01+5MXh9bsKlG(y+IotfQEvs^MV5czZSqc>o?HTO=e?D{>ubX{VUw$G6ne&3`pcVz+e2e5R&&^H#=qR+LYOSCQQ"
    "hWi1-9O##Z>s(r-4pyA^6G=(!H%vAx;n_|cg&$mTRgshd($wxr<N6n_7zZ6ywlku7fgudO3W$n``%C#@wJ?9^J%W39jN"
    ";Gf@6&<yVv5;UNH5Pd@-sQ-YV5aB^+-vL2E1Nw&Q&XDh~gerj-_iu?7@yH9fIbV2&pEIcSsL)wER(NP!n|K-5Ccd;b@z"
    "VU&&!(rP*FaK@On!ZYe}6k~%bq?7?CiLpFkys4r_O`>BGp_gXZuc_{e4n%`T*r;P-SFGy;{2?&54imaWm-^nL#V9T%c8"
    "|^StElnmx4-NS#MecEXTHt@VNobnu++rkPZEt@UwMY15~tS;g5@E`584@Z2BVKYsy46SP2<D0tJEcDSqu8%%SOQzQbD7"
    "Jd?Kp%A*xe2)!=mbuW<k<OkY_%rNkqi5#IVxVQ3)RF})qo5@cT9(OTxTla4LqGfzR%O((1X}*0EhG8WCN0Zo%N=N;5IP"
    "Hd$XZCeJ)!fx#2eEnvp{#~|9jJk*+u?09v<p=rjGvqJmeZNU70%RnuXE)t#r*9!Fi)=0j__Pu4RlZ^Gv!nW89Frbp0AL"
    "1of4!J6U_86zRG%lVY<*y0$Q)X-WGHVltU5rjW^DQkmII3X{jUFg=(=rYD>SKz`AWQNq<Mz;J=AJQdn=;mBc<m;@$+@d"
    "oG^W)9%@g{x6aI(%H1C_SxQdY1&}BzR^ne5(MnBNGf)YM>Cq<O4<`;3fc-*%Z?St_gh?pfU%(vjArn&`kwA7kEAs`c0s"
    "1ZRt#+y`(b9z-cCY(g02%xd6+gv<5)$O2*&hIm1(?)RO5lq6~SGyhNrv;AjX$8z10B#GecJeE}~M&N;wk5`8v@%F`EUB"
    "*8PGM$~lj>Gb@vUP&9#SrXNK5=fuP6aX&K^8Y)!BUb3xZqK6565z_1=a>DYBh%;q;zN4>|HJoO{zc|gNsBJDJ%QRdgK9"
    "MmV3}aqf8&Kn7D?%4P-+J66KSW=wj@ce*|e8A)WcMiPBLvx()T7>So9`u%2y`ka1MPwOY(5BhfJWFCs{a^dW9%UqNHgZ"
    "%{<D5sgEZBRwDI~EQz{~0>Kt}7d<Hn;JK0qyBT?j8?_vHRz=Ubl&?g1CP9)<^ua{%$_z>+kGAOalMGksk{|cb^JwUSjB"
    "vt#9*hOi&q<F4oe)SCd}l&0`IJusH!3PY9`&_Z(3(eEb$z_L2XARCB?4#pl!~a60_p=Pbj;^Tn#rIrV~KS1b4<Ka<Tjt"
    "`(A&s5<T``eQ)g?#_|1i<y<Z`Rw_Z*k8h2bMWpO-+v{NOmnp*##rPgUq<Tgw1(RppW&LB|%)kntvs0ZC>NTxA!jwE4{Q"
    "I9J6P5SVrXQBx;U?fs{B95^ir%O>%XQ4#ew~BI{Dsei5j?QT5sRW>yNh5>72F9_-pn;bo!5qNPlSV_X39fFeWVIUujGu"
    "F%GABrunx&81I$smDAx83qf3RmJonu@i+h@>o(*MHR1gDVln@pnsq21R+Q~&fV(Mh46{|q|%Qt4RMMKr>Do)q;&h{!3?"
    "smjRa#$KnJzeq2lzVd-e0)0*=k&1Fk>@~+o8?ynANRuMLa*SeV0`(rzcXfTV)lcrf%48hlR3;vlKyB0>2mj28X@70?(j"
    "JfAlHJqkbE*Fj)pMi>ltlT<Frll1<mx?BH*VU_B1uxbOER%Q0hLNcpLc6#UUbvT-S!EBubXw<jJ!=8JK=5SnOSt)XBzR"
    "EFO3JCCFVkFYC9TBV&+jj&yhxS7JS56EP+PWB>fY{_7{2n=Mj@aBfSef=Sn;#QIC4HzlhSc7sFL_MwmnGZmci2f6Q0hO"
    "l<i7bj;?`=&75t4Wmvsq7vx*rprNcq$f-%W>Jq$gYVgr#l(4W4%Kbj{Nw+Ni1lizW=UftPns8#^_mJ}LTEn|m<YHd{Y-"
    "$nXl4rJlToy748U9<pNoQ)7`O`tXfU<QDB42W-RNkX0@sA%1ZFa&CDMq3Z$f(-KnQIYdQa}g0e%F~BF}~}Q)wR|Ky4Dm"
    "jH0y112i1YArc;WA_yRp;htQNrrD_2Uj#fAO~(#-j_@LK8Vztmuclm$p*`w28xMC;KtD`s9R;+<P<n)aZ>lMB9iitlRN"
    "{0L)e)ggXa)gC;q;C`C&M`s@Fr1xj-oP)+(u9tLZMxhC4_PyT0-O~2+onvH^CSUd__|(NKercrZ<(4$P-MTC%ulNP?56"
    "<l9i)qHK3!?SJI`(2ho3wzUN6){&4uXQ2C<)5>0J03h3+T>U?K3r7&LaN0X_1qo^Jx&>jM58_^=sXSg0S%E&4~RA0ny-"
    "n7CSMI{-nw@zD0bkt0()1G(edKgXR3!$0{r`VG~k0F3RMh_AFaSW9;NYbrHQ}lb$C&G=i8$@L!mYoQ_hDbg&it5f(3UP"
    "!G{tZ%y78oUc2N~(iVEqWmx<PtdPoQ4*vR0<hu^2+JMp0W&(rY1<j^FVT=aY>*OlQZ*l7CLnb7rbv-8j<W{ZC?tNK4nZ"
    "sRe_nKZQ#iPSR`R-|336D+K1XL|X6U>EpKP%x#=K8nRO3{L|Yg)*5F5ViX=taWmTB8K7c(7UwKO&10OywKsF=s$}mr*{"
    "?495M#Gk8yRQ6Dw?N@xnQn7D-q|9OnqijKwFcHs+JteZDyN#FPHW!N|rA@(Uz8&UnbCOf%KN!jyC^khH6_OX3_ax?4^K"
    "S=Si6fkuP7uCGh!es^XkBRn@=QKqt$;=|6|sJ4>pmQmKYXKG|2Io1?GK3_2ki5LdS{+F0G-eT3SOm-5g&ni(57S4kEZS"
    "IS7A9se)Z*L<kH)8O!-JgR8s*OzADSpYN5C^_*zCD(pO_lMg1BdfBkR?Bez2d+_-)&"
)
