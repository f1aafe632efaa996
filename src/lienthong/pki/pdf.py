"""PAdES signatures on PDFs, laid out as Decree 30/2020 (Annex I) asks, and their check.

Signing (each call adds one incremental update; SHA-256, ``ETSI.CAdES.detached``):

* :func:`sign_person`: the competent person's signature, with the signer's image (blue,
  transparent PNG) in the signature block between the position and the name;
* :func:`sign_org`: the organisation's signature ("seal"), with the seal image (red, at
  real size) overlapping about a third of the signer's image, on its left;
* :func:`sign_attachment_org`: the organisation's signature on an attachment in a separate
  file: no image, at the top right of the first page, the document's number/notation and
  the signing time (ISO 8601, Vietnam time, +07:00), serif 10 pt, black.

Keys sit behind :class:`KeySigner` (a file key now, a hardware token or a remote signing
service later); :class:`FileSigner` holds a loaded key object, so no key is re-parsed per
signature (pyHanko's ``SimpleSigner`` re-imports it every time: ~70 ms with RSA).

Verification (:func:`verify_pdf`) reports per signature who, which agency, which role,
when, whether the document was changed afterwards (including incremental updates that
change content after the last signature), the chain to a root of the trust store and the
revocation status, with a verdict from :mod:`lienthong.pki.verdict`. Revocation is
enforced twice: pyhanko-certvalidator runs with ``revocation_mode="require"`` and only the
trust store's CRLs (no network), and the certificates of the chain are also looked up in
those CRLs here, so a certificate without a CRL distribution point cannot slip through.

Geometry (PDF points, origin at the bottom left of the page; 1 mm = 72/25.4 pt):

* :data:`PERSON_BOX`: where the signer's image goes by default on an A4 page: 50 x 24 mm
  in the right half of the page (centred 145 mm from the left), 60-84 mm from the bottom,
  i.e. between the position lines above and the signer's name below. The image is fitted
  in the box keeping its aspect ratio and centred; the signature field's rectangle is the
  image's own rectangle, so the seal can be placed from it later.
* seal: a square of the seal's real size (from the PNG's DPI; 38 mm when it carries none)
  whose right edge is one third of the signer's image width into that image, vertically
  centred on it: ``x2 = person.x1 + person.width / 3``.
* attachment stamp: two right-aligned lines, its top-right corner 7 mm below the top and
  20 mm left of the right edge of the first page (the Decree's right margin is 15-20 mm).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import io
import unicodedata
from collections.abc import Collection, Coroutine, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, Protocol, TypeVar, runtime_checkable

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped, unused-ignore]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from PIL import Image
from pyhanko.pdf_utils import content, generic, layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import (
    DEFAULT_DIFF_POLICY,
    DiffResult,
    FormUpdatingRule,
    ModificationLevel,
    SigFieldCreationRule,
    SigFieldModificationRule,
    StandardDiffPolicy,
)
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.generic_cms import validate_sig_integrity
from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
from pyhanko.sign.validation.status import ModificationInfo, SignatureCoverageLevel
from pyhanko.stamp import StaticStampStyle
from pyhanko_certvalidator.registry import SimpleCertificateStore

from lienthong.pki import images
from lienthong.pki.credentials import Credentials, TrustStore, identity_of
from lienthong.pki.revocation import check_certificate_async
from lienthong.pki.verdict import Reason, Report, Role, SignatureReport, Verdict

__all__ = [
    "ATTACHMENT_FONT_SIZE",
    "MM",
    "PERSON_BOX",
    "SEAL_OVERLAP",
    "VN_TZ",
    "FileSigner",
    "KeySigner",
    "Rect",
    "is_unreadable",
    "seal_rect",
    "sign_attachment_org",
    "sign_org",
    "sign_person",
    "signature_rects",
    "verify_pdf",
    "verify_pdf_async",
]

#: Vietnam time (ICT, UTC+7, no daylight saving time)
VN_TZ = timezone(timedelta(hours=7), "ICT")
#: one millimetre in PDF points
MM = 72 / 25.4
#: a rectangle in PDF points: (x1, y1, x2, y2), origin at the page's bottom left
Rect = tuple[float, float, float, float]
#: default place of the signer's image on an A4 page (see the module docstring)
PERSON_BOX: Rect = (120 * MM, 60 * MM, 170 * MM, 84 * MM)
#: share of the signer's image width that the seal covers, on the left
SEAL_OVERLAP = 1 / 3
#: attachment stamp: font size (pt); its top-right corner's distance (mm) from the page's
#: top and right edges
ATTACHMENT_FONT_SIZE = 10.0
ATTACHMENT_TOP_MM = 7.0
ATTACHMENT_RIGHT_MM = 20.0

_T = TypeVar("_T")
_HASH = "sha256"
_REASON_PERSON = "Ký ban hành văn bản / signing the document"
_REASON_ORG = "Đóng dấu (chữ ký số cơ quan) / organisation's seal"
_REASON_ATTACHMENT = "Chữ ký số cơ quan trên tệp đính kèm / organisation's signature"
#: levels of later changes that can leave a signature's content untouched (adding
#: signatures, revocation data); FORM_FILLING only when the changed form fields are all
#: signature fields (see :data:`_DIFF_POLICY` and :func:`_modified`)
_ALLOWED_CHANGES = {
    ModificationLevel.NONE,
    ModificationLevel.LTA_UPDATES,
    ModificationLevel.FORM_FILLING,
}
#: pyHanko's default difference analysis without its rule for filling in *other* form
#: fields (text, check boxes, ...): a later revision that writes to such a field (its
#: value or its appearance) is left unexplained, hence ``ModificationLevel.OTHER``.
#: Signature fields may still be created and filled in (later signatures). Not relying
#: on ``DiffResult.changed_form_fields`` alone: pyHanko lists there every field with an
#: appearance, changed in the revision or not.
_DIFF_POLICY = StandardDiffPolicy(
    global_rules=DEFAULT_DIFF_POLICY.global_rules,
    form_rule=FormUpdatingRule(
        field_rules=[
            SigFieldCreationRule(),  # type: ignore[no-untyped-call]
            SigFieldModificationRule(),
        ],
    ),
)


# ------------------------------------------------------------------------------ keys


@runtime_checkable
class KeySigner(Protocol):
    """Where a signing key lives: a file key now (:class:`FileSigner`); a hardware token
    (PKCS#11) or a remote signing service can implement the same three members.

    :meth:`sign` returns the raw signature of ``data`` hashed with ``hash_algorithm``
    (``"sha256"``, ``"sha384"``, ``"sha512"``): RSA PKCS#1 v1.5, or ECDSA DER-encoded."""

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def chain(self) -> Sequence[x509.Certificate]: ...

    def sign(self, data: bytes, hash_algorithm: str) -> bytes: ...


def _hash(name: str) -> hashes.HashAlgorithm:
    algorithms: dict[str, hashes.HashAlgorithm] = {
        "sha256": hashes.SHA256(),
        "sha384": hashes.SHA384(),
        "sha512": hashes.SHA512(),
    }
    try:
        return algorithms[name.lower()]
    except KeyError:
        raise ValueError(f"unsupported hash algorithm {name!r}") from None


class FileSigner:
    """A :class:`KeySigner` over :class:`~lienthong.pki.credentials.Credentials` (a key
    loaded once from a PKCS#12 file and kept in memory)."""

    def __init__(self, credentials: Credentials) -> None:
        self._credentials = credentials

    @property
    def certificate(self) -> x509.Certificate:
        return self._credentials.certificate

    @property
    def chain(self) -> Sequence[x509.Certificate]:
        return self._credentials.chain

    def sign(self, data: bytes, hash_algorithm: str) -> bytes:
        key = self._credentials.private_key
        algorithm = _hash(hash_algorithm)
        if isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), algorithm)
        return key.sign(data, ec.ECDSA(algorithm))


def _key_signer(signer: Credentials | KeySigner) -> KeySigner:
    if isinstance(signer, Credentials):
        return FileSigner(signer)
    return signer


def _asn1(cert: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _from_asn1(cert: Any) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _max_signature_size(cert: x509.Certificate) -> int:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return (key.key_size + 7) // 8
    if isinstance(key, ec.EllipticCurvePublicKey):
        integer = (key.curve.key_size + 7) // 8 + 1
        body = 2 * (2 + integer)
        return body + (2 if body < 128 else 3)
    return 512


class _HankoSigner(signers.Signer):
    """pyHanko's signer interface over any :class:`KeySigner`."""

    def __init__(self, key: KeySigner) -> None:
        leaf = _asn1(key.certificate)
        registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]
        for cert in [leaf, *(_asn1(c) for c in key.chain)]:
            registry.register(cert)
        super().__init__(signing_cert=leaf, cert_registry=registry, embed_roots=False)
        self._key = key
        self._placeholder = bytes(_max_signature_size(key.certificate))

    async def async_sign_raw(
        self, data: bytes, digest_algorithm: str, dry_run: bool = False
    ) -> bytes:
        if dry_run:  # pyHanko only sizes the signature container: no key use
            return self._placeholder
        return self._key.sign(data, digest_algorithm)


# ------------------------------------------------------------------------------ geometry


def _fit(box: Rect, width: float, height: float) -> Rect:
    """The largest rectangle of aspect ``width:height`` centred in ``box``."""
    x1, y1, x2, y2 = box
    bw, bh = x2 - x1, y2 - y1
    if bw <= 0 or bh <= 0 or width <= 0 or height <= 0:
        raise ValueError(f"empty rectangle or image: {box}, {width}x{height}")
    scale = min(bw / width, bh / height)
    w, h = width * scale, height * scale
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def seal_rect(person: Rect, seal_width: float, seal_height: float) -> Rect:
    """Where the seal goes: its right edge :data:`SEAL_OVERLAP` of the signer's image
    width into that image (from its left edge), vertically centred on it."""
    x1, y1, x2, y2 = person
    right = x1 + (x2 - x1) * SEAL_OVERLAP
    cy = (y1 + y2) / 2
    return (right - seal_width, cy - seal_height / 2, right, cy + seal_height / 2)


def _normalise_rect(value: Any) -> Rect | None:
    try:
        x1, y1, x2, y2 = (float(v) for v in value)
    except (TypeError, ValueError):
        return None
    rect = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    return rect if rect[2] - rect[0] > 0 and rect[3] - rect[1] > 0 else None


def _page_count(reader: PdfFileReader) -> int:
    return int(reader.root["/Pages"]["/Count"])


def _page_index(reader: PdfFileReader, page: int) -> int:
    count = _page_count(reader)
    index = page if page >= 0 else count + page
    if not 0 <= index < count:
        raise ValueError(f"page {page} out of range (the document has {count})")
    return index


def _page_box(reader: PdfFileReader, page: int) -> Rect:
    node = reader.find_page_for_modification(page)[0].get_object()  # type: ignore[no-untyped-call]
    for _ in range(64):  # MediaBox may be inherited from the page tree
        if "/CropBox" in node or "/MediaBox" in node:
            rect = _normalise_rect(node.get("/CropBox", node.get("/MediaBox")))
            if rect is not None:
                return rect
        parent = node.get("/Parent")
        if parent is None:
            break
        node = parent.get_object()
    return (0.0, 0.0, 595.28, 841.89)  # A4


def _widget_rect(field: Any) -> Rect | None:
    rect = _normalise_rect(field.get("/Rect"))
    if rect is not None:
        return rect
    for kid in field.get("/Kids", ()):
        rect = _normalise_rect(kid.get_object().get("/Rect"))
        if rect is not None:
            return rect
    return None


def _widget_page(reader: PdfFileReader, field: Any) -> int | None:
    widget = field if "/Rect" in field else None
    if widget is None:
        kids = field.get("/Kids", ())
        widget = kids[0].get_object() if kids else None
    if widget is None or "/P" not in widget:
        return None
    target = widget.raw_get("/P")
    for index in range(_page_count(reader)):
        ref = reader.find_page_for_modification(index)[0]  # type: ignore[no-untyped-call]
        if isinstance(target, generic.IndirectObject) and ref.idnum == target.idnum:
            return index
    return None


@dataclass(frozen=True)
class _Visible:
    """A visible signature already in a document."""

    field_name: str
    role: Role | None
    rect: Rect
    page: int | None


def _visible_signatures(reader: PdfFileReader) -> list[_Visible]:
    found = []
    for sig in reader.embedded_regular_signatures:
        rect = _widget_rect(sig.sig_field)
        if rect is None:
            continue
        try:
            role = identity_of(_from_asn1(sig.signer_cert)).role
        except Exception:  # an unreadable signature: placement only, stay lenient
            role = None
        found.append(_Visible(str(sig.field_name), role, rect, _widget_page(reader, sig.sig_field)))
    return found


def signature_rects(pdf: bytes) -> list[tuple[str, Role | None, Rect, int | None]]:
    """Visible signatures of a PDF: (field name, role, rectangle, page index)."""
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    return [(v.field_name, v.role, v.rect, v.page) for v in _visible_signatures(reader)]


# ------------------------------------------------------------------------------ stamps


def _pil(png: bytes) -> Image.Image:
    with Image.open(io.BytesIO(png)) as img:
        img.load()
        return img.convert("RGBA")


def _image_style(img: Image.Image) -> StaticStampStyle:
    return StaticStampStyle(
        border_width=0,
        background=PdfImage(img),
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(),
            inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
        ),
    )


class _ImportedPage(content.PdfContent):
    """The first page of another PDF (given as bytes) as a form XObject."""

    def __init__(self, pdf: bytes) -> None:
        super().__init__()
        self._pdf = pdf

    def render(self) -> bytes:
        writer = self._ensure_writer
        xobject = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self._pdf)), page_ix=0)
        self.resources.xobject["/Stamp"] = xobject
        x1, y1, x2, y2 = (float(v) for v in xobject.get_object()["/BBox"])
        self.box = layout.BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
        return b"/Stamp Do"


def _text_stamp(lines: Sequence[str], font_size: float) -> tuple[bytes, float, float]:
    """A one-page PDF, exactly as large as ``lines`` set right-aligned in a serif font
    with the Vietnamese letters (see :func:`lienthong.pki.images.stamp_font_path`)."""
    from fpdf import FPDF

    lines = [unicodedata.normalize("NFC", line) for line in lines]
    font = images.stamp_font_path("".join(lines))
    doc = FPDF(unit="pt", format=(100, 100))
    doc.set_margin(0)
    doc.c_margin = 0
    doc.set_auto_page_break(False)
    doc.add_font("Stamp", "", str(font))
    doc.set_font("Stamp", size=font_size)
    pad = 1.0
    line_height = font_size * 1.25
    width = max(doc.get_string_width(line) for line in lines) + 2 * pad
    height = line_height * len(lines) + 2 * pad
    doc.add_page(format=(width, height))
    doc.set_text_color(0, 0, 0)
    for i, line in enumerate(lines):
        doc.set_xy(pad, pad + i * line_height)
        doc.cell(w=width - 2 * pad, h=line_height, text=line, align="R")
    return bytes(doc.output()), width, height


def _text_style(pdf: bytes) -> StaticStampStyle:
    return StaticStampStyle(
        border_width=0,
        background=_ImportedPage(pdf),
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MAX,
            y_align=layout.AxisAlignment.ALIGN_MAX,
            margins=layout.Margins(),
            inner_content_scaling=layout.InnerScaling.NO_SCALING,
        ),
    )


# ------------------------------------------------------------------------------ signing


def _now() -> datetime:
    return datetime.now(VN_TZ).replace(microsecond=0)


def _vn_time(at: datetime | None) -> datetime:
    if at is None:
        return _now()
    if at.tzinfo is None:  # a naive time is taken as Vietnam time
        at = at.replace(tzinfo=VN_TZ)
    return at.astimezone(VN_TZ)


def _field_name(reader: PdfFileReader, prefix: str) -> str:
    taken = {str(name) for name, _, _ in fields.enumerate_sig_fields(reader)}
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    return f"{prefix}{n}"


def _open(pdf: bytes) -> IncrementalPdfFileWriter:
    return IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)


def _sign(
    writer: IncrementalPdfFileWriter,
    key: KeySigner,
    *,
    field_name: str,
    page: int,
    rect: Rect,
    style: StaticStampStyle,
    reason: str | None,
    location: str | None,
    at: datetime,
) -> bytes:
    signer = _HankoSigner(key)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=_HASH,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=identity_of(key.certificate).name,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(
            sig_field_name=field_name,
            on_page=page,
            box=(rect[0], rect[1], rect[2], rect[3]),  # type: ignore[arg-type]
        ),
    )

    async def run() -> bytes:
        # the steps of PdfSigner.async_sign_pdf, with the signing time set by us
        session = pdf_signer.init_signing_session(writer)
        session.system_time = at
        validation_info = await session.perform_presign_validation(writer)
        reserved = await session.estimate_signature_container_size(validation_info, tight=False)
        tbs = session.prepare_tbs_document(validation_info=validation_info, bytes_reserved=reserved)
        prepared, output = tbs.digest_tbs_document()
        post = await tbs.perform_signature(
            document_digest=prepared.document_digest,
            pdf_cms_signed_attrs=PdfCMSSignedAttributes(
                signing_time=at, cades_signed_attrs=meta.cades_signed_attr_spec
            ),
        )
        await post.post_signature_processing(output)
        output.seek(0)
        return bytes(output.read())

    return _run(run())


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine from synchronous code; inside a running event loop (a web handler)
    on a short-lived worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def sign_person(
    pdf: bytes,
    creds: Credentials | KeySigner,
    *,
    image: bytes | None = None,
    box: Rect = PERSON_BOX,
    page: int = -1,
    reason: str | None = _REASON_PERSON,
    location: str | None = None,
    at: datetime | None = None,
) -> bytes:
    """Add the competent person's PAdES signature, showing ``image`` (the signer's blue
    handwritten signature, transparent PNG; a demo one drawn from the certificate's name
    when ``None``) fitted and centred in ``box`` on ``page`` (default: the last page)."""
    key = _key_signer(creds)
    png = image if image is not None else images.signature_image(_name_of(key))
    img = _pil(png)
    writer = _open(pdf)
    rect = _fit(box, img.width, img.height)
    return _sign(
        writer,
        key,
        field_name=_field_name(writer.prev, "Person"),
        page=_page_index(writer.prev, page),
        rect=rect,
        style=_image_style(img),
        reason=reason,
        location=location,
        at=_vn_time(at),
    )


def _name_of(key: KeySigner) -> str:
    identity = identity_of(key.certificate)
    return identity.name or identity.organization or "?"


def sign_org(
    pdf: bytes,
    creds: Credentials | KeySigner,
    *,
    seal: bytes | None = None,
    over_person: bool = True,
    box: Rect | None = None,
    page: int | None = None,
    seal_mm: float | None = None,
    reason: str | None = _REASON_ORG,
    location: str | None = None,
    at: datetime | None = None,
) -> bytes:
    """Add the organisation's PAdES signature with its seal (red, transparent PNG at real
    size: from the PNG's DPI, or ``seal_mm`` wide; a demo seal with the organisation's
    name when ``None``).

    Placement: ``box`` when given (the seal is fitted in it); else, with ``over_person``,
    over the last person's visible signature, covering the left third of the signer's
    image (:func:`seal_rect`; ``ValueError`` when the document has no such signature);
    else as if the signer's image filled :data:`PERSON_BOX` on the last page."""
    key = _key_signer(creds)
    png = seal if seal is not None else images.seal_image(_name_of(key))
    img = _pil(png)
    writer = _open(pdf)
    reader = writer.prev
    size_mm = images.image_size_mm(png)
    if seal_mm is not None:
        width = seal_mm * MM
        height = width * img.height / img.width
    elif size_mm is not None:
        width, height = size_mm[0] * MM, size_mm[1] * MM
    else:
        width = images.SEAL_DIAMETER_MM * MM
        height = width * img.height / img.width
    target_page = page
    if box is not None:
        rect = _fit(box, img.width, img.height)
    elif over_person:
        people = [v for v in _visible_signatures(reader) if v.role is not Role.ORG]
        if not people:
            raise ValueError(
                "no visible person's signature to place the seal over "
                "(sign with sign_person first, or pass box= / over_person=False)"
            )
        person = next((v for v in reversed(people) if v.role is Role.PERSON), people[-1])
        rect = seal_rect(person.rect, width, height)
        if target_page is None:
            target_page = person.page
    else:
        default_person = _fit(PERSON_BOX, *images.SIGNATURE_SIZE_MM)
        rect = seal_rect(default_person, width, height)
    return _sign(
        writer,
        key,
        field_name=_field_name(reader, "Org"),
        page=_page_index(reader, -1 if target_page is None else target_page),
        rect=rect,
        style=_image_style(img),
        reason=reason,
        location=location,
        at=_vn_time(at),
    )


def sign_attachment_org(
    pdf: bytes,
    creds: Credentials | KeySigner,
    *,
    number_notation: str,
    at: datetime | None = None,
    reason: str | None = _REASON_ATTACHMENT,
    location: str | None = None,
) -> bytes:
    """Add the organisation's PAdES signature to an attachment in a separate file: no
    image; at the top right of the first page the number/notation of the document it
    belongs to and the signing time ``at`` (default: now) in ISO 8601, Vietnam time
    (``2026-05-14T09:30:00+07:00``), black, 10 pt serif. ``at`` is also the signature's
    signing time (``/M``)."""
    notation = " ".join(number_notation.split())
    if not notation:
        raise ValueError("number_notation is empty")
    key = _key_signer(creds)
    moment = _vn_time(at)
    stamp, width, height = _text_stamp(
        [notation, moment.isoformat(timespec="seconds")], ATTACHMENT_FONT_SIZE
    )
    writer = _open(pdf)
    reader = writer.prev
    _, _, px2, py2 = _page_box(reader, 0)
    right = px2 - ATTACHMENT_RIGHT_MM * MM
    top = py2 - ATTACHMENT_TOP_MM * MM
    rect = (right - width, top - height, right, top)
    return _sign(
        writer,
        key,
        field_name=_field_name(reader, "OrgAttachment"),
        page=0,
        rect=rect,
        style=_text_style(stamp),
        reason=reason,
        location=location,
        at=moment,
    )


# ------------------------------------------------------------------------------ verifying

#: digests accepted in a signature (SHA-1 and MD5 are not)
_DIGESTS = {"sha256", "sha384", "sha512", "sha3_256", "sha3_384", "sha3_512"}
_SUBFILTERS = {"/adbe.pkcs7.detached", "/ETSI.CAdES.detached"}
#: key usage the signer's certificate must allow (as the package verifier asks)
_USAGE = "digital_signature"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def _modified(info: ModificationInfo, signature_fields: Collection[str]) -> bool:
    """Was the document changed after this signature in a way that alters content?

    ``signature_fields``: the fully qualified names of the document's signature fields.
    A visible later signature is a ``FORM_FILLING`` change, the level pyHanko also gives
    to filling in any other form field; :data:`_DIFF_POLICY` rejects the latter, and,
    should another policy be used, a change passes only when every form field it names
    is one of ``signature_fields`` (a text field's new value is a change of content)."""
    if info.coverage is None or info.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
        return True
    if info.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return False
    # later revisions exist: only new signatures / revocation data are acceptable
    level = info.modification_level
    if level is None or level not in _ALLOWED_CHANGES or info.docmdp_ok is False:
        return True
    diff = info.diff_result
    if not isinstance(diff, DiffResult):
        return True
    return not set(diff.changed_form_fields) <= set(signature_fields)


def _signature_fields(sig: EmbeddedPdfSignature) -> set[str]:
    """The fully qualified names of the signature fields (``/FT /Sig``) of the document's
    latest revision, signed or not."""
    return {name for name, _value, _ref in fields.enumerate_sig_fields(sig.reader)}


def _signed_outside_validity(cert: x509.Certificate, signed_at: datetime | None) -> bool:
    if signed_at is None:
        return False
    if signed_at.tzinfo is None:
        signed_at = signed_at.replace(tzinfo=UTC)
    return not cert.not_valid_before_utc <= signed_at <= cert.not_valid_after_utc


def _integrity(sig: EmbeddedPdfSignature) -> tuple[Reason | None, bool]:
    """(the integrity problem if any, intact): digest, signature value, later changes."""
    subfilter = str(sig.sig_object.get("/SubFilter", ""))
    if subfilter not in _SUBFILTERS:
        return Reason.UNSUPPORTED, False
    if str(sig.md_algorithm).lower() not in _DIGESTS:
        return Reason.UNSUPPORTED, False
    digest = sig.compute_digest()
    try:
        digest_ok, value_ok = validate_sig_integrity(
            sig.signer_info, sig.signer_cert, "data", digest
        )
    except SignatureValidationError:
        return Reason.BAD_SIGNATURE, False
    sig.compute_integrity_info(diff_policy=_DIFF_POLICY)  # type: ignore[no-untyped-call]
    info = ModificationInfo(**sig.summarise_integrity_info())
    intact = digest_ok and not _modified(info, _signature_fields(sig))
    if not intact:
        return Reason.MODIFIED, False
    if not value_ok:
        return Reason.BAD_SIGNATURE, True
    return None, True


async def _verify_one(
    sig: EmbeddedPdfSignature,
    trust: TrustStore,
    *,
    expected_agency: str | None,
    moment: datetime | None,
) -> SignatureReport:
    leaf = _from_asn1(sig.signer_cert)
    identity = identity_of(leaf)
    signed_at = sig.self_reported_timestamp
    embedded = [_from_asn1(c) for c in sig.other_embedded_certs]
    problem, intact = _integrity(sig)
    check = await check_certificate_async(
        leaf, extra_certs=embedded, trust=trust, at=moment, usage=_USAGE
    )
    facts: dict[str, Any] = {
        "name": identity.name,
        "agency": identity.agency,
        "role": identity.role,
        "signed_at": _iso(signed_at),
        "intact": intact,
        "trusted": check.trusted,
        "revoked": check.revoked,
        "serial": identity.serial,
        "algorithm": _algorithm(sig, leaf),
    }
    reason = problem or check.reason
    if reason is None and _signed_outside_validity(leaf, signed_at):
        reason = Reason.EXPIRED
    if (
        reason is None
        and expected_agency is not None
        and not _same_agency(identity.agency, expected_agency)
    ):
        reason = Reason.WRONG_AGENCY
    if reason is None:
        return SignatureReport(verdict=Verdict.VALID, **facts)
    return SignatureReport.failed(reason, **facts)


def _algorithm(sig: EmbeddedPdfSignature, leaf: x509.Certificate) -> str:
    key = leaf.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        kind = f"RSA-{key.key_size}"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        kind = f"ECDSA-{key.curve.name}"
    else:
        kind = type(key).__name__
    return f"{str(sig.md_algorithm).upper()} {kind}"


def _same_agency(actual: str | None, expected: str) -> bool:
    return actual is not None and actual.strip().upper() == expected.strip().upper()


def _malformed(read: bool) -> SignatureReport:
    report = SignatureReport.failed(Reason.MALFORMED)
    if read:
        report.serial = ""  # the document was read; one of its signatures was not
    return report


def is_unreadable(report: Report) -> bool:
    """True when :func:`verify_pdf` could not read the file as a PDF at all (as opposed
    to a readable PDF with a malformed signature)."""
    return (
        len(report.signatures) == 1
        and report.signatures[0].reason is Reason.MALFORMED
        and report.signatures[0].serial is None
    )


async def verify_pdf_async(
    pdf: bytes,
    trust: TrustStore,
    *,
    expected_agency: str | None = None,
    moment: datetime | None = None,
) -> Report:
    """See :func:`verify_pdf`."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_regular_signatures)
    except Exception:
        return Report([_malformed(read=False)])
    reports = []
    for sig in signatures:
        try:
            reports.append(
                await _verify_one(sig, trust, expected_agency=expected_agency, moment=moment)
            )
        except Exception:
            reports.append(_malformed(read=True))
    return Report(reports)


def verify_pdf(
    pdf: bytes,
    trust: TrustStore,
    *,
    expected_agency: str | None = None,
    moment: datetime | None = None,
) -> Report:
    """Check every signature of ``pdf`` against ``trust`` (its roots, intermediates and
    CRLs; nothing is fetched). Per signature: integrity (digest, signature value, no
    content change afterwards, SHA-2 family only) with pyHanko; the certificate (chain,
    validity at ``moment`` — default now —, revocation required, key usage) with
    :func:`lienthong.pki.revocation.check_certificate`, the same engine as the package
    verifier. ``expected_agency``: the sending agency's code; a signer of another agency
    gives ``SIG_WRONG_AGENCY``.

    Never raises on hostile input: an unreadable file gives one ``SIG_MALFORMED`` report
    (:func:`is_unreadable`), a PDF without signatures an empty report (``unknown``,
    ``SIG_NOT_SIGNED``)."""
    return _run(verify_pdf_async(pdf, trust, expected_agency=expected_agency, moment=moment))
