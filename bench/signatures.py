"""Cost of digital signatures: PDF (PAdES) and package (XML-DSig) verification and signing
next to bare ``cryptography`` on the same key type, and the hub's intake throughput per
signature policy (``require`` / ``flag`` / ``off``).

Usage::

    python bench/signatures.py             # full run (about 3 min on 2 cores)
    python bench/signatures.py --quick     # smoke run: few iterations, N = 8 per hub phase
    python bench/signatures.py --profile   # also cProfile verify_pdf / verify_package

The PKI is the test PKI of ``tests/pki_factory.py`` (``build_world``: root P-384 → issuing CA
P-384, dated 60 days back, fresh CRLs — the issuing CRL lists one revoked certificate —, and
its exported trust directory), built in a temporary directory. Signers: agency
``000.00.00.H41``, a person and the organisation, each RSA-2048 and ECDSA P-256.

Measured in the same run:

1. **PDF verify**: :func:`lienthong.pki.pdf.verify_pdf` of a one-page PDF (fpdf2) signed by
   the person (signature image) and then the organisation (seal over a third of it), RSA-2048
   and ECDSA P-256, ``expected_agency`` given. Baseline: bare ``cryptography`` doing the
   signature maths of the *same two signatures*: SHA-256 over each signature's byte range and
   the public-key verification of its signed attributes (keys already loaded).
2. **Package verify**: :func:`lienthong.pki.xmldsig.verify_package` of a ≈ 20 KB edXML package
   (a công văn with one 12 KB attachment) signed by the organisation, RSA-SHA256 and
   ECDSA-SHA256. Baseline: SHA-256 of the package bytes + verification of the same
   ``SignatureValue`` over the same canonical ``SignedInfo``.
3. **Certificate check** alone: :func:`lienthong.pki.revocation.check_certificate` of the
   person's certificate (path to the root with pyhanko-certvalidator, CRLs required, plus the
   explicit serial look-up) against the bare maths of that path: the leaf's and the issuing
   CA's certificate signatures and the two CRL signatures (ECDSA P-384).
4. **Signing** (informative): ``sign_person`` + ``sign_org`` of the one-page PDF, and
   ``sign_package``, against bare private-key signatures (two, resp. one).
5. **Hub intake**: ``POST /api/v1/packages`` (REST, bearer key) of ≈ 45 KB packages — the
   signed PDF as attachment and an RSA package signature — to a real hub in a **child
   process** (uvicorn, as ``bench/hub_intake.py`` starts it) on 127.0.0.1 with SQLite (WAL,
   ``synchronous=FULL``), ``trust_dir`` = the test CA's trust directory, one hub per policy
   (``off``, ``flag``, ``require``), all three running, fed the *same* packages, with 1 and
   then 4 concurrent clients. Each phase is cut into rounds; in every round each policy
   sends its share, in rotating order, so a change of load on the machine hits all policies
   alike; between rounds the hub is left to go idle (its dispatcher's CPU is counted, its
   idle time is not). Afterwards the timeline of three messages per phase is read to check
   the recorded verdicts (``valid``/``valid``, or nothing with ``off``), and the
   ``require`` hub must refuse an unsigned PDF with ``HUB_SIGNATURE_REQUIRED``.

Why ≈ 45 KB and not 20 KB: pyHanko reserves about 4.8 KB per CMS signature container and
writes it hex-encoded, so the two signatures alone take ≈ 19 KB of the PDF (≈ 28 KB signed,
with 100-dpi images); base64 in the package makes that ≈ 38 KB. The hub packages cycle
through a pool of distinct signed PDFs; every package is distinct (number, subject, package
signature), so the hub's de-duplication never short-cuts the verification.

Method: ``time.perf_counter``; one warm-up call; batches of at least ``min_batch_s``; the
candidate and its baseline alternate in every repeat; figures are medians over repeats.
"× bare" = time of the candidate / time of the baseline; for the hub "× off" = pkg/s of the
``off`` hub / pkg/s of this hub (same number of clients). No timing is asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import importlib.util
import io
import json
import math
import os
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Business,
    DocumentCode,
    DocumentType,
    Edoc,
    Organization,
    OtherInfo,
    PromulgationInfo,
    SignerInfo,
    TraceHeader,
)
from lienthong.pki import images
from lienthong.pki.credentials import Credentials, TrustStore
from lienthong.pki.pdf import sign_org, sign_person, verify_pdf
from lienthong.pki.revocation import check_certificate
from lienthong.pki.verdict import Verdict
from lienthong.pki.xmldsig import sign_package, verify_package

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as `python bench/X.py`
from bench.common import (
    RECIPIENT_AGENCY,
    RECIPIENT_NAME,
    ROOT,
    SENDER_AGENCY,
    SENDER_NAME,
    SENDER_SYSTEM,
    HubProcess,
    batch_seconds,
    describe_source,
    filler_pdf,
    loadavg,
    machine_line,
    pdf_attachment,
    percentile,
    print_aligned,
    run_clients,
    sender,
    start_hub,
    tail,
)

KB = 1000
FILLER_BYTES = 12_000  # the attachment of the ≈ 20 KB package (package verify/sign rows)
IMAGE_DPI = 100  # signer's image and seal, at real size (50 x 20 mm, 38 mm)
CONCURRENCY = 4
POLICIES = ("off", "flag", "require")

# Row labels (the smoke test looks for them).
PDF_VERIFY_RSA = "PDF verify_pdf, RSA-2048 (person + org)"
PDF_BARE_RSA = "  bare: 2 x RSA-2048 verify + SHA-256"
PDF_VERIFY_EC = "PDF verify_pdf, ECDSA P-256 (person + org)"
PDF_BARE_EC = "  bare: 2 x ECDSA P-256 verify + SHA-256"
PKG_VERIFY_RSA = "package verify_package, RSA-SHA256"
PKG_BARE_RSA = "  bare: RSA-2048 verify + SHA-256"
PKG_VERIFY_EC = "package verify_package, ECDSA-SHA256"
PKG_BARE_EC = "  bare: ECDSA P-256 verify + SHA-256"
CERT_CHECK = "check_certificate (path + CRLs), 1 leaf"
CERT_BARE = "  bare: 2 cert + 2 CRL sigs, ECDSA P-384"
PDF_SIGN_RSA = "PDF sign_person + sign_org, RSA-2048"
PDF_SIGN_BARE_RSA = "  bare: 2 x RSA-2048 sign"
PDF_SIGN_EC = "PDF sign_person + sign_org, ECDSA P-256"
PDF_SIGN_BARE_EC = "  bare: 2 x ECDSA P-256 sign"
PKG_SIGN_RSA = "package sign_package, RSA-SHA256"
PKG_SIGN_BARE_RSA = "  bare: RSA-2048 sign"
PKG_SIGN_EC = "package sign_package, ECDSA-SHA256"
PKG_SIGN_BARE_EC = "  bare: ECDSA P-256 sign"


def hub_label(policy: str, clients: int) -> str:
    return f"hub POST /api/v1/packages, policy {policy}, {clients} client{'s' * (clients > 1)}"


HUB_LABELS = tuple(hub_label(p, c) for p in POLICIES for c in (1, CONCURRENCY))
LABELS = (
    PDF_VERIFY_RSA,
    PDF_BARE_RSA,
    PDF_VERIFY_EC,
    PDF_BARE_EC,
    PKG_VERIFY_RSA,
    PKG_BARE_RSA,
    PKG_VERIFY_EC,
    PKG_BARE_EC,
    CERT_CHECK,
    CERT_BARE,
    PDF_SIGN_RSA,
    PDF_SIGN_BARE_RSA,
    PDF_SIGN_EC,
    PDF_SIGN_BARE_EC,
    PKG_SIGN_RSA,
    PKG_SIGN_BARE_RSA,
    PKG_SIGN_EC,
    PKG_SIGN_BARE_EC,
    *HUB_LABELS,
)


@dataclass(frozen=True)
class Config:
    repeats: int  # repeats of each candidate/baseline pair (median reported)
    min_batch_s: float  # each timed batch lasts at least this long
    sign_min_batch_s: float
    hub_n: int  # packages per hub phase
    hub_warmup: int  # packages sent to each hub before the clock starts
    hub_rounds: int  # each hub phase is cut into this many rounds, policies interleaved
    pdf_pool: int  # distinct signed PDFs the hub packages cycle through
    profile_calls: int


FULL = Config(
    repeats=7,
    min_batch_s=0.3,
    sign_min_batch_s=0.3,
    hub_n=200,
    hub_warmup=10,
    hub_rounds=5,
    pdf_pool=40,
    profile_calls=40,
)
QUICK = Config(
    repeats=1,
    min_batch_s=0.0,
    sign_min_batch_s=0.0,
    hub_n=8,
    hub_warmup=2,
    hub_rounds=2,
    pdf_pool=2,
    profile_calls=3,
)


# --------------------------------------------------------------------------- the test PKI


def load_pki_factory() -> Any:
    """``tests/pki_factory.py`` (the test PKI), loaded by path: ``tests`` is no package."""
    path = ROOT / "tests" / "pki_factory.py"
    spec = importlib.util.spec_from_file_location("_bench_pki_factory", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@dataclass
class Pki:
    trust_dir: Path
    trust: TrustStore
    person: Credentials
    person_ec: Credentials
    org: Credentials
    org_ec: Credentials


def build_pki(base: Path) -> Pki:
    world = load_pki_factory().build_world(base)
    if world.person.identity.agency != SENDER_AGENCY:
        raise RuntimeError(f"the test PKI's agency is {world.person.identity.agency}")
    return Pki(
        trust_dir=Path(world.trust_dir),
        trust=TrustStore.load(world.trust_dir),
        person=world.person,
        person_ec=world.person_ec,
        org=world.org,
        org_ec=world.org_ec,
    )


# --------------------------------------------------------------------------- inputs


def small_image(png: bytes, colour: tuple[int, int, int], dpi: int = IMAGE_DPI) -> bytes:
    """The demo image (300 dpi) at ``dpi``, same real size (DPI stored), flat ``colour`` and
    four alpha levels: a few KB instead of 30–40 KB, so the signed PDF stays small."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        alpha = img.convert("RGBA").getchannel("A")
    scale = dpi / images.DPI
    size = (max(1, round(alpha.width * scale)), max(1, round(alpha.height * scale)))
    alpha = alpha.resize(size, Image.Resampling.LANCZOS).point(lambda v: (v // 64) * 85)
    out = Image.new("RGBA", size, (*colour, 0))
    out.putalpha(alpha)
    buf = io.BytesIO()
    out.save(buf, "PNG", dpi=(dpi, dpi), optimize=True)
    return buf.getvalue()


@dataclass(frozen=True)
class Stamps:
    signature: bytes
    seal: bytes


def make_stamps() -> Stamps:
    return Stamps(
        signature=small_image(
            images.signature_image("Nguyễn Thị Ngọc Trâm"), images.SIGNATURE_BLUE
        ),
        seal=small_image(images.seal_image(SENDER_NAME), images.SEAL_RED),
    )


def one_page_pdf(number: int) -> bytes:
    """An unsigned one-page A4 decision (fpdf2, core font, ≈ 1 KB)."""
    from fpdf import FPDF

    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=13)
    doc.cell(0, 8, "UY BAN NHAN DAN TINH NGHE AN", new_x="LMARGIN", new_y="NEXT")
    doc.cell(0, 8, f"So: {number}/QD-UBND", new_x="LMARGIN", new_y="NEXT")
    doc.set_font("helvetica", size=11)
    doc.multi_cell(
        0,
        6,
        "QUYET DINH phe duyet Ke hoach chuyen doi so nam 2027 cua tinh. Dieu 1. Phe duyet "
        "Ke hoach kem theo Quyet dinh nay. Dieu 2. Quyet dinh co hieu luc tu ngay ky.",
    )
    return bytes(doc.output())


def signed_pdf(number: int, person: Credentials, org: Credentials, stamps: Stamps) -> bytes:
    once = sign_person(one_page_pdf(number), person, image=stamps.signature)
    return sign_org(once, org, seal=stamps.seal)


def edoc_model(number: int, attachment: bytes) -> Edoc:
    """A công văn of the provincial People's Committee to the Government Office."""
    return Edoc(
        sender=sender(),
        recipients=[Organization(organ_id=RECIPIENT_AGENCY, organ_name=RECIPIENT_NAME)],
        code=DocumentCode(number=str(number), notation="QĐ-UBND"),
        promulgation=PromulgationInfo(place="Nghệ An", date="2026/11/27"),
        document_type=DocumentType(type="1", type_detail="0", type_name="Quyết định"),
        subject=f"Quyết định số {number} phê duyệt Kế hoạch chuyển đổi số năm 2027",
        content=(
            "Ủy ban nhân dân tỉnh gửi Quyết định phê duyệt Kế hoạch chuyển đổi số năm 2027 "
            "(văn bản điện tử có chữ ký số của người có thẩm quyền và của cơ quan)."
        ),
        signer=SignerInfo(
            competence="KT. CHỦ TỊCH", position="PHÓ CHỦ TỊCH", full_name="Nguyễn Thị Ngọc Trâm"
        ),
        other_info=OtherInfo(priority="0", promulgation_amount="1", page_amount="1"),
        steering_type="0",
        to_places=["Như trên", "Lưu: VT, KGVX"],
        trace_headers=[TraceHeader(organ_id=SENDER_AGENCY, timestamp="2026/11/27 08:30:15")],
        business=Business(doc_type="0", reason="Văn bản điện tử mới", paper="0"),
        attachments=[
            pdf_attachment(
                f"{number}-QD-UBND.signed.pdf",
                f"Quyết định số {number}/QĐ-UBND (bản ký số)",
                attachment,
            )
        ],
    )


def package(number: int, attachment: bytes, signer: Credentials | None) -> bytes:
    data = build(edoc_model(number, attachment))
    return sign_package(data, signer) if signer is not None else data


# --------------------------------------------------------------------------- bare baselines


PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


def _public(cert: x509.Certificate) -> PublicKey:
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        raise TypeError(f"unexpected key type {type(key).__name__}")
    return key


def raw_verify(key: PublicKey, signature: bytes, data: bytes) -> None:
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, PKCS1v15(), hashes.SHA256())
    else:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def raw_sign(creds: Credentials, data: bytes) -> bytes:
    key = creds.private_key
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, PKCS1v15(), hashes.SHA256())
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


@dataclass(frozen=True)
class BareSignature:
    """What a signature's maths needs: the key, the value, the signed bytes and the parts
    of the document whose digest they carry."""

    key: PublicKey
    signature: bytes
    signed: bytes
    parts: tuple[bytes, ...]


def bare_pdf_signatures(pdf: bytes) -> list[BareSignature]:
    """The PDF's CMS signatures as bare inputs (read with pyHanko, outside any timing); the
    message digest is checked against the byte range once, so the baseline hashes exactly
    what the signature covers."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.general import find_unique_cms_attribute

    out = []
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    for sig in reader.embedded_regular_signatures:
        info = sig.signer_info
        attrs = info["signed_attrs"].untag()
        start1, len1, start2, len2 = (int(v) for v in sig.byte_range)
        parts = (pdf[start1 : start1 + len1], pdf[start2 : start2 + len2])
        digest = hashlib.sha256(b"".join(parts)).digest()
        if find_unique_cms_attribute(attrs, "message_digest").native != digest:
            raise RuntimeError("the byte range does not give the signed message digest")
        cert = x509.load_der_x509_certificate(sig.signer_cert.dump())
        out.append(BareSignature(_public(cert), info["signature"].native, attrs.dump(), parts))
    for s in out:
        raw_verify(s.key, s.signature, s.signed)  # raises if the extraction were wrong
    return out


def bare_pdf_verify(signatures: Sequence[BareSignature]) -> None:
    for s in signatures:
        h = hashlib.sha256()
        for part in s.parts:
            h.update(part)
        h.digest()
        raw_verify(s.key, s.signature, s.signed)


def bare_package_signature(data: bytes) -> BareSignature:
    """The package's SignatureValue, canonical SignedInfo and signer key (ECDSA values
    re-encoded to DER as ``cryptography`` wants them)."""
    ds = "{http://www.w3.org/2000/09/xmldsig#}"
    root = etree.fromstring(data)
    block = root.find(f".//{ds}Signature")
    if block is None:
        raise RuntimeError("the package is not signed")
    signed_info = block.find(f"{ds}SignedInfo")
    value = block.findtext(f"{ds}SignatureValue") or ""
    cert_text = block.findtext(f"{ds}KeyInfo/{ds}X509Data/{ds}X509Certificate") or ""
    if signed_info is None:
        raise RuntimeError("no SignedInfo")
    signed = etree.tostring(signed_info, method="c14n", exclusive=True, with_comments=False)
    import base64

    signature = base64.b64decode("".join(value.split()))
    key = _public(x509.load_der_x509_certificate(base64.b64decode("".join(cert_text.split()))))
    if isinstance(key, ec.EllipticCurvePublicKey):
        half = len(signature) // 2
        signature = encode_dss_signature(
            int.from_bytes(signature[:half], "big"), int.from_bytes(signature[half:], "big")
        )
    bare = BareSignature(key, signature, signed, (data,))
    bare_package_verify(bare)  # raises if the extraction were wrong
    return bare


def bare_package_verify(s: BareSignature) -> None:
    hashlib.sha256(s.parts[0]).digest()
    raw_verify(s.key, s.signature, s.signed)


@dataclass(frozen=True)
class BareChain:
    leaf: x509.Certificate
    issuing: x509.Certificate
    root: x509.Certificate
    issuing_crl: x509.CertificateRevocationList
    root_crl: x509.CertificateRevocationList


def bare_chain(creds: Credentials, trust: TrustStore) -> BareChain:
    issuing = creds.chain[0]
    root = trust.roots[0]
    by_issuer = {crl.issuer: crl for crl in trust.crls}
    chain = BareChain(
        creds.certificate, issuing, root, by_issuer[issuing.subject], by_issuer[root.subject]
    )
    bare_chain_verify(chain)
    return chain


def bare_chain_verify(c: BareChain) -> None:
    c.leaf.verify_directly_issued_by(c.issuing)
    c.issuing.verify_directly_issued_by(c.root)
    if not c.issuing_crl.is_signature_valid(_public(c.issuing)):
        raise RuntimeError("issuing CRL")
    if not c.root_crl.is_signature_valid(_public(c.root)):
        raise RuntimeError("root CRL")


# --------------------------------------------------------------------------- timing


@dataclass
class Row:
    label: str
    size: int | None = None  # bytes of the input, when meaningful
    n: int = 0  # calls or packages measured
    median_s: float | None = None  # per call (micro) or p50 latency (hub)
    p99_s: float | None = None
    per_s: float | None = None
    vs: str = ""
    hub_cpu_ms: float | None = None
    note: str = ""


def _calls_for(fn: Callable[[], object], min_batch_s: float) -> int:
    fn()  # warm-up
    once = batch_seconds(fn, 1)
    return max(1, math.ceil(min_batch_s / max(once, 1e-7)))


def compare(
    label: str,
    base_label: str,
    candidate: Callable[[], object],
    baseline: Callable[[], object],
    *,
    size: int | None,
    repeats: int,
    min_batch_s: float,
    note: str = "",
    base_note: str = "",
) -> tuple[Row, Row]:
    """Median time per call of ``candidate`` and of ``baseline``, alternating in every
    repeat (which goes first alternates too)."""
    kc = _calls_for(candidate, min_batch_s)
    kb = _calls_for(baseline, min_batch_s)
    cand: list[float] = []
    base: list[float] = []
    for r in range(repeats):
        if r % 2 == 0:
            cand.append(batch_seconds(candidate, kc))
            base.append(batch_seconds(baseline, kb))
        else:
            base.append(batch_seconds(baseline, kb))
            cand.append(batch_seconds(candidate, kc))
    tc, tb = statistics.median(cand), statistics.median(base)
    return (
        Row(label, size, kc * repeats, tc, None, 1 / tc, f"{tc / tb:,.1f}× bare", None, note),
        Row(base_label, size, kb * repeats, tb, None, 1 / tb, "(baseline)", None, base_note),
    )


# --------------------------------------------------------------------------- the hub


class HubClient:
    def __init__(self, hub: HubProcess) -> None:
        self.hub = hub
        self.auth = {"Authorization": f"Bearer {hub.creds[SENDER_SYSTEM]['api_key']}"}

    def http(self) -> httpx.Client:
        client = httpx.Client(base_url=self.hub.url, timeout=120)
        client.get("/healthz").raise_for_status()  # the connection is open before timing
        return client

    def post(self, http: httpx.Client, data: bytes) -> httpx.Response:
        return http.post(
            "/api/v1/packages",
            content=data,
            headers={**self.auth, "Content-Type": "application/xml"},
        )

    def send(self, http: httpx.Client, data: bytes) -> str:
        r = self.post(http, data)
        body = r.json()
        if r.status_code != 201 or body.get("code") != "ACCEPTED":
            raise RuntimeError(f"refused: HTTP {r.status_code} {json.dumps(body)[:600]}")
        return str(body["message_id"])

    def signatures(self, http: httpx.Client, message_id: str) -> dict[str, Any]:
        r = http.get(f"/api/v1/messages/{message_id}/timeline", headers=self.auth)
        r.raise_for_status()
        sig: dict[str, Any] = r.json()["message"]["signatures"]
        return sig

    def intake(
        self, packages: Sequence[bytes], clients: int
    ) -> tuple[float, list[float], list[str]]:
        """Send ``packages`` split between ``clients`` threads (one keep-alive connection
        each, opened before the common start); (wall seconds, latencies, message ids)."""
        ids: list[str] = []

        def make() -> tuple[Callable[[Any], None], Callable[[], None]]:
            http = self.http()
            return (lambda data: ids.append(self.send(http, data))), http.close

        wall, latencies = run_clients(packages, clients, make)
        return wall, latencies, ids


@dataclass
class HubPackages:
    warmup: list[bytes]
    phases: dict[int, list[bytes]]  # clients → packages
    unsigned: bytes  # an unsigned PDF: what ``require`` must refuse
    size_min: int = 0
    size_max: int = 0
    pdf_size: int = 0


def make_hub_packages(cfg: Config, pki: Pki, stamps: Stamps) -> HubPackages:
    pool = [signed_pdf(5000 + i, pki.person, pki.org, stamps) for i in range(cfg.pdf_pool)]
    number = 10_000

    def take(count: int) -> list[bytes]:
        nonlocal number
        out = []
        for _ in range(count):
            number += 1
            out.append(package(number, pool[number % len(pool)], pki.org))
        return out

    made = HubPackages(
        warmup=take(cfg.hub_warmup),
        phases={c: take(cfg.hub_n) for c in (1, CONCURRENCY)},
        unsigned=package(99_999, one_page_pdf(99_999), None),
    )
    sizes = [len(p) for group in (made.warmup, *made.phases.values()) for p in group]
    made.size_min, made.size_max = min(sizes), max(sizes)
    made.pdf_size = round(statistics.mean(len(p) for p in pool))
    return made


def settle(hub: HubProcess, timeout_s: float = 10.0) -> None:
    """Wait until the hub is idle (its dispatcher done with the last phase): CPU time
    grows by less than 5 ms over 0.2 s, or ``timeout_s`` passed."""
    deadline = time.monotonic() + timeout_s
    before = hub.cpu()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = hub.cpu()
        if now - before < 0.005:
            return
        before = now


@dataclass
class Phase:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def hub_rows(cfg: Config, work: Path, pki: Pki, made: HubPackages) -> tuple[list[Row], list[str]]:
    """One hub per policy, all running; each phase (1, then 4 clients) is cut into
    ``cfg.hub_rounds`` rounds, and in every round each policy sends its share, the order of
    the policies rotating: a change of load on the machine hits every policy alike."""
    rows: list[Row] = []
    notes: list[str] = []
    hubs: dict[str, HubProcess] = {}
    try:
        for policy in POLICIES:
            base = work / f"hub-{policy}"
            settings = {"data_dir": str(base / "data"), "trust_dir": str(pki.trust_dir)}
            hubs[policy] = start_hub(base, {**settings, "signature_policy": policy})
        clients_of = {policy: HubClient(hub) for policy, hub in hubs.items()}
        for policy in POLICIES:
            clients_of[policy].intake(made.warmup, 1)  # warm-up: neither timed nor counted
            settle(hubs[policy])
        for clients, packages in made.phases.items():
            phases = {policy: Phase() for policy in POLICIES}
            rounds = max(1, min(cfg.hub_rounds, len(packages) // clients))
            for r in range(rounds):
                chunk = packages[r::rounds]
                order = POLICIES[r % len(POLICIES) :] + POLICIES[: r % len(POLICIES)]
                for policy in order:
                    hub, phase = hubs[policy], phases[policy]
                    cpu0 = hub.cpu()
                    wall, latencies, ids = clients_of[policy].intake(chunk, clients)
                    phase.wall_s += wall
                    phase.latencies += latencies
                    phase.ids += ids
                    settle(hub)  # the dispatcher's work for this round counts here
                    phase.cpu_s += hub.cpu() - cpu0
            off_rate = len(phases["off"].ids) / phases["off"].wall_s
            for policy in POLICIES:
                phase = phases[policy]
                rate = len(phase.ids) / phase.wall_s
                rows.append(
                    Row(
                        hub_label(policy, clients),
                        made.size_max,
                        len(phase.ids),
                        statistics.median(phase.latencies),
                        percentile(phase.latencies, 99),
                        rate,
                        "(baseline)" if policy == "off" else f"{off_rate / rate:,.1f}× off",
                        phase.cpu_s / len(phase.ids) * 1e3,
                        _check_recorded(clients_of[policy], policy, phase.ids),
                    )
                )
        notes.append(_check_refusal(clients_of["require"], made.unsigned))
        notes.append(f"trust store of each hub: {hubs['require'].trust}")
    finally:
        codes = {policy: hub.stop() for policy, hub in hubs.items()}
    for policy, code in codes.items():
        if code != 0:
            raise RuntimeError(f"hub {policy} exited with {code}:\n{tail(hubs[policy].log_path)}")
    return rows, notes


def _check_recorded(client: HubClient, policy: str, ids: list[str]) -> str:
    """The verdicts the hub recorded on three messages of the phase (untimed)."""
    http = client.http()
    try:
        for message_id in (ids[0], ids[len(ids) // 2], ids[-1]):
            sig = client.signatures(http, message_id)
            want = (None, None) if policy == "off" else ("valid", "valid")
            if (sig.get("pdf"), sig.get("package")) != want:
                raise RuntimeError(f"hub {policy}: recorded {sig}, expected pdf/package {want}")
    finally:
        http.close()
    return "nothing recorded (checked)" if policy == "off" else "pdf valid, package valid (checked)"


def _check_refusal(client: HubClient, unsigned: bytes) -> str:
    http = client.http()
    try:
        r = client.post(http, unsigned)
    finally:
        http.close()
    try:
        code = r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    if r.status_code != 422 or code != "HUB_SIGNATURE_REQUIRED":
        raise RuntimeError(f"require accepted an unsigned PDF: HTTP {r.status_code} {r.text[:300]}")
    return f"hub require: an unsigned PDF was refused (HTTP 422 {code})"


# --------------------------------------------------------------------------- profile


#: (label, module, qualified name) of the places the reading names; resolved to code
#: objects, so a function is matched exactly (missing ones are skipped)
_HOT = (
    ("verify_pdf_async (whole verification)", "lienthong.pki.pdf", "verify_pdf_async"),
    ("verify_package (whole verification)", "lienthong.pki.xmldsig", "verify_package"),
    (
        "  pyHanko: open PDF, read signature dicts",
        "pyhanko.pdf_utils.reader",
        "PdfFileReader.embedded_regular_signatures",
    ),
    (
        "    of which hex strings (/Contents), byte by byte",
        "pyhanko.pdf_utils.generic",
        "read_hex_string_from_stream",
    ),
    ("  _integrity (digest, CMS value, diff analysis)", "lienthong.pki.pdf", "_integrity"),
    (
        "    validate_sig_integrity (CMS signature maths)",
        "pyhanko.sign.validation.generic_cms",
        "validate_sig_integrity",
    ),
    (
        "    compute_integrity_info (diff analysis)",
        "pyhanko.sign.validation.pdf_embedded",
        "EmbeddedPdfSignature.compute_integrity_info",
    ),
    ("  XML parse (hardened lxml)", "lienthong.pki.xmldsig", "_parse_for_verifying"),
    ("  XML-DSig schema check", "lienthong.pki.xmldsig", "_schema_check"),
    ("  c14n (SignedInfo, document)", "lienthong.pki.xmldsig", "_c14n"),
    ("  SignatureValue check (cryptography)", "lienthong.pki.xmldsig", "_find_signer"),
    (
        "  check_certificate_async (chain + CRLs)",
        "lienthong.pki.revocation",
        "check_certificate_async",
    ),
    (
        "    ValidationContext.__init__",
        "pyhanko_certvalidator.context",
        "ValidationContext.__init__",
    ),
    (
        "    pyhanko-certvalidator async_validate_usage",
        "pyhanko_certvalidator",
        "CertificateValidator.async_validate_usage",
    ),
    (
        "      CRL processing (verify_crl)",
        "pyhanko_certvalidator.revinfo.validate_crl",
        "verify_crl",
    ),
    ("    explicit CRL look-up (revocation_entry)", "lienthong.pki.revocation", "revocation_entry"),
    ("  identity_of (subject → name, agency, role)", "lienthong.pki.credentials", "identity_of"),
)


def _code_key(module: str, qualname: str) -> tuple[str, int, str] | None:
    import importlib
    import inspect

    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    if isinstance(obj, property):
        obj = obj.fget
    code = getattr(inspect.unwrap(obj), "__code__", None)
    if code is None:
        return None
    return (code.co_filename, code.co_firstlineno, code.co_name)


def profile(cfg: Config, fn: Callable[[], object], title: str) -> list[str]:
    """cProfile ``fn`` (``cfg.profile_calls`` calls): cumulative ms per call of the named
    places (share of the whole verification), then the functions with the most own time.
    cProfile inflates pure-Python code more than C code: shares, not absolute times."""
    fn()  # warm-up
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(cfg.profile_calls):
        fn()
    prof.disable()
    wall = (time.perf_counter() - t0) / cfg.profile_calls
    stats: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    n = cfg.profile_calls
    lines = [f"{title}: {wall * 1e3:.2f} ms per call under cProfile ({n} calls)"]
    lines.append(f"  {'place':52} {'cum ms/call':>11} {'share':>6} {'calls/call':>10}")
    total = None
    for label, module, qualname in _HOT:
        key = _code_key(module, qualname)
        entry = stats.get(key) if key else None
        if not entry:
            continue
        cum, ncalls = entry[3] / n, entry[1] / n
        total = total or cum
        lines.append(f"  {label:52} {cum * 1e3:11.2f} {cum / total:6.0%} {ncalls:10.1f}")
    lines.append("  own time (tottime), top 12:")
    top = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:12]
    for (file, line, func), v in top:
        where = "~" if file == "~" else f"{_short(file)}:{line}"
        lines.append(f"    {v[2] / n * 1e3:8.2f} ms  {v[1] / n:8.1f} calls  {func}  ({where})")
    return lines


def direct_parts(
    cfg: Config, pdf: bytes, creds: Sequence[Credentials], trust: TrustStore
) -> list[str]:
    """verify_pdf split by timing its parts directly (no profiler): open the PDF and read
    its signature dictionaries; the hex /Contents alone; one check_certificate per
    signature; the rest (integrity, diff analysis, identity, report) by difference."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    hex_lengths = [
        2 * len(bytes(sig.sig_object.raw_get("/Contents")))
        for sig in reader.embedded_regular_signatures
    ]
    hex_blobs = [b"<" + b"0" * n + b">" for n in hex_lengths]
    calls = max(3, cfg.profile_calls)

    def per_call(fn: Callable[[], object]) -> float:
        fn()
        return statistics.median(batch_seconds(fn, calls) for _ in range(3))

    def open_and_read() -> None:
        r = PdfFileReader(io.BytesIO(pdf), strict=False)
        for sig in r.embedded_regular_signatures:
            _ = sig.signer_cert

    def hex_only() -> None:
        for blob in hex_blobs:
            generic.read_hex_string_from_stream(io.BytesIO(blob))

    def certs() -> None:
        for c in creds:
            check_certificate(c.certificate, extra_certs=c.chain, trust=trust)

    total = per_call(lambda: verify_pdf(pdf, trust, expected_agency=SENDER_AGENCY))
    parts = [
        ("open PDF + read 2 signature dicts (pyHanko)", per_call(open_and_read)),
        (
            f"  of which hex /Contents ({' + '.join(map(str, hex_lengths))} digits)",
            per_call(hex_only),
        ),
        ("check_certificate x 2 (chain + CRLs)", per_call(certs)),
    ]
    rest = total - parts[0][1] - parts[2][1]
    lines = [f"verify_pdf RSA-2048 split by direct timing (no profiler), {calls} calls x 3:"]
    lines.append(f"  {'whole verify_pdf':52} {total * 1e3:8.2f} ms  100%")
    for label, t in [*parts, ("rest: integrity, diff analysis, identity, report", rest)]:
        lines.append(f"  {label:52} {t * 1e3:8.2f} ms  {t / total:4.0%}")
    return lines


def _short(file: str) -> str:
    parts = file.replace(os.sep, "/").split("/")
    for anchor in ("site-packages", "src", "lib"):
        if anchor in parts:
            return "/".join(parts[parts.index(anchor) + 1 :])
    return "/".join(parts[-2:])


# --------------------------------------------------------------------------- report


def print_table(rows: list[Row]) -> None:
    header = ("case", "size", "n", "median ms", "p99 ms", "ops/s", "vs", "hub CPU ms", "note")
    lines = [
        (
            r.label,
            f"{r.size / KB:.1f} KB" if r.size else "-",
            str(r.n),
            f"{r.median_s * 1e3:.3f}" if r.median_s is not None else "-",
            f"{r.p99_s * 1e3:.2f}" if r.p99_s is not None else "-",
            f"{r.per_s:,.1f}" if r.per_s is not None else "-",
            r.vs,
            f"{r.hub_cpu_ms:.2f}" if r.hub_cpu_ms is not None else "-",
            r.note,
        )
        for r in rows
    ]
    print_aligned(header, lines)


def describe_machine() -> str:
    from importlib.metadata import version

    from cryptography.hazmat.backends.openssl import backend

    return machine_line(
        f"cryptography {version('cryptography')} ({backend.openssl_version_text()}), "
        f"pyHanko {version('pyHanko')}, pyhanko-certvalidator {version('pyhanko-certvalidator')}, "
        f"signxml {version('signxml')}, lxml {etree.__version__}, SQLite {sqlite3.sqlite_version}"
    )


def run(cfg: Config, work: Path, quick: bool, with_profile: bool) -> int:
    print(f"Signature benchmark ({'quick' if quick else 'full'} run)")
    print(describe_machine())
    print(describe_source())
    print(f"load average at start: {loadavg()} (other work on the machine skews the figures)")
    t_setup = time.perf_counter()
    pki = build_pki(work / "pki")
    stamps = make_stamps()
    rng = random.Random(2026)
    unsigned_pdf = one_page_pdf(1)
    pdf_rsa = signed_pdf(1, pki.person, pki.org, stamps)
    pdf_ec = signed_pdf(1, pki.person_ec, pki.org_ec, stamps)
    for pdf in (pdf_rsa, pdf_ec):
        report = verify_pdf(pdf, pki.trust, expected_agency=SENDER_AGENCY)
        if report.verdict is not Verdict.VALID:
            raise RuntimeError(f"the benchmark PDF does not verify: {report.to_dict()}")
    plain = package(2, filler_pdf(2, FILLER_BYTES, rng), None)
    pkg_rsa = sign_package(plain, pki.org)
    pkg_ec = sign_package(plain, pki.org_ec)
    for pkg in (pkg_rsa, pkg_ec):
        report = verify_package(pkg, pki.trust, expected_agency=SENDER_AGENCY)
        if report.verdict is not Verdict.VALID:
            raise RuntimeError(f"the benchmark package does not verify: {report.to_dict()}")
    made = make_hub_packages(cfg, pki, stamps)
    print(
        f"inputs: one-page PDF {len(unsigned_pdf) / KB:.1f} KB unsigned, "
        f"{len(pdf_rsa) / KB:.1f} KB signed RSA / {len(pdf_ec) / KB:.1f} KB ECDSA "
        f"(signer image {len(stamps.signature) / KB:.1f} KB, seal {len(stamps.seal) / KB:.1f} KB "
        f"PNG at {IMAGE_DPI} dpi); package {len(plain) / KB:.1f} KB unsigned, "
        f"{len(pkg_rsa) / KB:.1f} KB signed RSA / {len(pkg_ec) / KB:.1f} KB ECDSA; "
        f"hub packages {made.size_min / KB:.1f}–{made.size_max / KB:.1f} KB "
        f"({cfg.pdf_pool} distinct signed PDFs of ≈ {made.pdf_size / KB:.1f} KB, every package "
        f"distinct and RSA-signed), N = {cfg.hub_n} per hub phase"
    )
    print(f"setup: {time.perf_counter() - t_setup:.1f} s\n")

    trust = pki.trust
    reps, batch, sbatch = cfg.repeats, cfg.min_batch_s, cfg.sign_min_batch_s
    bare_rsa = bare_pdf_signatures(pdf_rsa)
    bare_ec = bare_pdf_signatures(pdf_ec)
    bare_pkg_rsa = bare_package_signature(pkg_rsa)
    bare_pkg_ec = bare_package_signature(pkg_ec)
    chain = bare_chain(pki.person, trust)
    attrs = bare_rsa[0].signed  # ≈ the size of what a CMS signature signs

    rows: list[Row] = []
    rows += compare(
        PDF_VERIFY_RSA,
        PDF_BARE_RSA,
        lambda: verify_pdf(pdf_rsa, trust, expected_agency=SENDER_AGENCY),
        lambda: bare_pdf_verify(bare_rsa),
        size=len(pdf_rsa),
        repeats=reps,
        min_batch_s=batch,
        note="2 signatures, full verdict",
        base_note="same 2 signatures: byte-range digest + value",
    )
    rows += compare(
        PDF_VERIFY_EC,
        PDF_BARE_EC,
        lambda: verify_pdf(pdf_ec, trust, expected_agency=SENDER_AGENCY),
        lambda: bare_pdf_verify(bare_ec),
        size=len(pdf_ec),
        repeats=reps,
        min_batch_s=batch,
        note="2 signatures, full verdict",
        base_note="same 2 signatures: byte-range digest + value",
    )
    rows += compare(
        PKG_VERIFY_RSA,
        PKG_BARE_RSA,
        lambda: verify_package(pkg_rsa, trust, expected_agency=SENDER_AGENCY),
        lambda: bare_package_verify(bare_pkg_rsa),
        size=len(pkg_rsa),
        repeats=reps,
        min_batch_s=batch,
        note="parse, c14n, schema, chain + CRLs",
        base_note="same SignatureValue over SignedInfo",
    )
    rows += compare(
        PKG_VERIFY_EC,
        PKG_BARE_EC,
        lambda: verify_package(pkg_ec, trust, expected_agency=SENDER_AGENCY),
        lambda: bare_package_verify(bare_pkg_ec),
        size=len(pkg_ec),
        repeats=reps,
        min_batch_s=batch,
        note="parse, c14n, schema, chain + CRLs",
        base_note="same SignatureValue over SignedInfo",
    )
    rows += compare(
        CERT_CHECK,
        CERT_BARE,
        lambda: check_certificate(
            pki.person.certificate, extra_certs=pki.person.chain, trust=trust
        ),
        lambda: bare_chain_verify(chain),
        size=None,
        repeats=reps,
        min_batch_s=batch,
        note="leaf ← issuing CA ← root, CRLs required",
        base_note="leaf, issuing CA, 2 CRLs",
    )
    rows += compare(
        PDF_SIGN_RSA,
        PDF_SIGN_BARE_RSA,
        lambda: signed_pdf(1, pki.person, pki.org, stamps),
        lambda: (raw_sign(pki.person, attrs), raw_sign(pki.org, attrs)),
        size=len(pdf_rsa),
        repeats=reps,
        min_batch_s=sbatch,
        note="2 incremental updates, images",
    )
    rows += compare(
        PDF_SIGN_EC,
        PDF_SIGN_BARE_EC,
        lambda: signed_pdf(1, pki.person_ec, pki.org_ec, stamps),
        lambda: (raw_sign(pki.person_ec, attrs), raw_sign(pki.org_ec, attrs)),
        size=len(pdf_ec),
        repeats=reps,
        min_batch_s=sbatch,
        note="2 incremental updates, images",
    )
    rows += compare(
        PKG_SIGN_RSA,
        PKG_SIGN_BARE_RSA,
        lambda: sign_package(plain, pki.org),
        lambda: raw_sign(pki.org, bare_pkg_rsa.signed),
        size=len(pkg_rsa),
        repeats=reps,
        min_batch_s=sbatch,
    )
    rows += compare(
        PKG_SIGN_EC,
        PKG_SIGN_BARE_EC,
        lambda: sign_package(plain, pki.org_ec),
        lambda: raw_sign(pki.org_ec, bare_pkg_ec.signed),
        size=len(pkg_ec),
        repeats=reps,
        min_batch_s=sbatch,
    )
    hub, notes = hub_rows(cfg, work, pki, made)
    rows += hub
    print_table(rows)
    print()
    for note in notes:
        print(note)
    print(
        "hub: a child process (uvicorn on 127.0.0.1, the app of lienthong.hub.app.create_app), "
        "SQLite WAL synchronous=FULL, local blobs; one hub per policy, the same packages, "
        f"policies interleaved in {cfg.hub_rounds} rounds per phase"
    )
    print(
        "median ms: per call (micro rows) or per POST (hub rows, p50; p99 nearest rank); "
        "ops/s: 1 / median (micro) or packages accepted per second of wall time (hub)"
    )
    print(
        "vs: candidate time / baseline time (× bare), or pkg/s of the off hub / this hub "
        "(× off); hub CPU ms: CPU of the hub process per package (user + system, all threads)"
    )
    print(f"load average at the end: {loadavg()}")
    if with_profile:
        print()
        for line in direct_parts(cfg, pdf_rsa, [pki.person, pki.org], trust):
            print(line)
        print()
        for line in profile(
            cfg, lambda: verify_pdf(pdf_rsa, trust, expected_agency=SENDER_AGENCY), PDF_VERIFY_RSA
        ):
            print(line)
        print()
        for line in profile(
            cfg,
            lambda: verify_package(pkg_rsa, trust, expected_agency=SENDER_AGENCY),
            PKG_VERIFY_RSA,
        ):
            print(line)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="smoke run: few iterations")
    ap.add_argument(
        "--profile", action="store_true", help="also cProfile verify_pdf and verify_package"
    )
    args = ap.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    with tempfile.TemporaryDirectory(prefix="lienthong-sig-bench-") as tmp:
        return run(cfg, Path(tmp), args.quick, args.profile)


if __name__ == "__main__":
    sys.exit(main())
