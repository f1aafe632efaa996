"""XML-DSig signatures on edXML packages (vietnam-standards.md §1.9).

Signing — :func:`sign_package`
------------------------------

One *enveloped* signature, ``ds:Signature`` in the XML-DSig namespace, written as the
**last child of** ``edXMLHeader``. ``Reference URI=""`` with the transforms
``enveloped-signature`` and Exclusive C14N covers the whole document (header, body and the
attachments' base64 text) minus the signature itself. SHA-256 digest; RSA-SHA256 for RSA
keys and ECDSA-SHA256 for EC keys unless another ``algorithm`` is asked for. ``KeyInfo``
carries the certificate chain (the signer's certificate, then the intermediates): the
verifier needs only the root.

*Canonicalisation: Exclusive C14N 1.0 (without comments)*, for ``SignedInfo`` and for the
reference. Inclusive C14N copies every namespace declaration in scope into ``SignedInfo``
(the root's default namespace, the envelope's ``edXML:`` prefix…), so a signature would
break whenever a tool re-declares a prefix or moves the block, which platform software does
(the VNPT SDK re-writes the block in another namespace). Exclusive C14N only renders the
namespaces a node uses. For the reference (the document element) both give the same bytes
on edXML packages.

*Byte-identical output.* The package is not re-serialised: the new block is spliced into
the original bytes before ``</edXMLHeader>`` (indented like its siblings) and any existing
``Signature`` child of ``edXMLHeader`` (a placeholder, an old signature, the dummy blocks of
the official samples) is cut out, its line included when it stood alone on it. Only the
signature block itself is serialised (by lxml). Everything else, including every byte of the
attachments, is copied unchanged. The digest is computed over exactly these final bytes
(they are parsed once with a placeholder where the block goes). The signature code
(signxml ``XMLSigner``) copies the document twice internally: signing costs about three
parses of the package.

Verification — :func:`verify_package`
-------------------------------------

The ``Signature`` child of ``edXMLHeader`` is found in *any* namespace: the XML-DSig one,
the edXML namespace (VNPT writes the block unprefixed under the edXML default namespace) or
none. A block outside the XML-DSig namespace is verified as a copy moved into it (default
namespace, as .NET/VNPT signers produce it), and the report says so. The profile accepted
is the one of the platform: exactly one ``Reference`` with ``URI=""``, the
``enveloped-signature`` transform plus at most one C14N transform, ``X509Certificate``
key information; RSA (PKCS#1 v1.5) or ECDSA with SHA-256/384/512, and the legacy RSA-SHA1 /
SHA-1 of the official samples when ``allow_sha1`` (the default; ``False`` turns them into
``unknown``/``UNSUPPORTED``). The non-standard transform URI
``http://www.w3.org/TR/xml-exc-c14n#`` of the samples is read as Exclusive C14N.

The mathematics (``SignatureValue`` over canonical ``SignedInfo``, ``DigestValue`` over the
canonical document) is checked here with lxml's C14N and ``cryptography``, on **one** parse
of the package and **one** canonicalisation of it — signxml's verifier re-serialises and
re-parses the whole document three times, which triples the cost for a 5 MB package. The
block is also validated against the XML-DSig schema shipped with signxml. Trust is decided
only by :func:`lienthong.pki.revocation.check_certificate` (chain to the trust store's
roots, validity, revocation): no certificate bundle of the system or of ``certifi`` is ever
consulted.

XML-DSig has no signing time: ``signed_at`` stays ``None`` (a time written in an unsigned
``Object`` would prove nothing) and certificates are checked at ``at`` (default: now).

Reasons: no block → ``NOT_SIGNED`` (``unknown``); unreadable package or block, truncated
certificate, bad base64 → ``MALFORMED``; another profile or algorithm, SHA-1 when not
allowed, a package too large for the in-memory parser → ``UNSUPPORTED``; a
``SignatureValue`` that does not verify → ``BAD_SIGNATURE``; a digest mismatch (the
content changed after signing) → ``MODIFIED``; then the certificate's reason (``UNTRUSTED``,
``REVOKED``, ``EXPIRED``, ``WRONG_USAGE``, ``NO_REVOCATION_INFO``), then ``WRONG_AGENCY``
when ``expected_agency`` is given and the certificate names another agency. The function
never raises on hostile input.

Size limit: the package is parsed in memory with the hardened parser of
:mod:`lienthong.edxml.parser` (no DTD, no entities, no network, ``huge_tree=False``), so
one attachment text may not exceed libxml2's 10 MB text node (≈ 7.5 MB of raw file);
larger packages are reported ``UNSUPPORTED`` and cannot be signed.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.exceptions import SignXMLException
from signxml.processor import XMLSignatureProcessor
from signxml.signer import XMLSigner

from lienthong.edxml.errors import Code, EdxmlError
from lienthong.edxml.model import NS, XMLDSIG_NS
from lienthong.edxml.parser import _UNDECLARED, _check_prolog, _declare_prefix, _syntax_error
from lienthong.pki.credentials import (
    Credentials,
    PkiCode,
    PkiError,
    TrustStore,
    identity_of,
    issuer_of,
    subject_of,
)
from lienthong.pki.revocation import check_certificate
from lienthong.pki.verdict import MESSAGES, Reason, Report, SignatureReport, Verdict

__all__ = [
    "DS",
    "SIGNING_ALGORITHMS",
    "sign_package",
    "verify_package",
]

DS = XMLDSIG_NS
_DS = "{" + DS + "}"
_NS = "{" + NS + "}"
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
_MAX_CERTS = 10

# ------------------------------------------------------------------------------ algorithms


@dataclass(frozen=True)
class _SigMethod:
    name: str  # short name for reports
    key: str  # "rsa" | "ec"
    hash: Callable[[], hashes.HashAlgorithm]
    legacy: bool = False


_SIGNATURE_METHODS: dict[str, _SigMethod] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": _SigMethod(
        "rsa-sha256", "rsa", hashes.SHA256
    ),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": _SigMethod(
        "rsa-sha384", "rsa", hashes.SHA384
    ),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": _SigMethod(
        "rsa-sha512", "rsa", hashes.SHA512
    ),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": _SigMethod(
        "ecdsa-sha256", "ec", hashes.SHA256
    ),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": _SigMethod(
        "ecdsa-sha384", "ec", hashes.SHA384
    ),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": _SigMethod(
        "ecdsa-sha512", "ec", hashes.SHA512
    ),
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": _SigMethod(
        "rsa-sha1", "rsa", hashes.SHA1, legacy=True
    ),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1": _SigMethod(
        "ecdsa-sha1", "ec", hashes.SHA1, legacy=True
    ),
}

#: digest URI → (hashlib name, legacy)
_DIGESTS: dict[str, tuple[str, bool]] = {
    "http://www.w3.org/2001/04/xmlenc#sha256": ("sha256", False),
    "http://www.w3.org/2001/04/xmldsig-more#sha384": ("sha384", False),
    "http://www.w3.org/2001/04/xmlenc#sha512": ("sha512", False),
    "http://www.w3.org/2000/09/xmldsig#sha1": ("sha1", True),
}


@dataclass(frozen=True)
class _C14n:
    exclusive: bool
    with_comments: bool
    prefixes: tuple[str, ...] | None = None


_C14N: dict[str, _C14n] = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": _C14n(False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": _C14n(False, True),
    # C14N 1.1 differs from 1.0 only for xml:id / xml:base inheritance (as in signxml)
    "http://www.w3.org/2006/12/xml-c14n11": _C14n(False, False),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": _C14n(False, True),
    _EXC_C14N: _C14n(True, False),
    _EXC_C14N + "WithComments": _C14n(True, True),
}
#: non-standard URIs seen in real traffic → the standard one they stand for
_C14N_ALIASES = {"http://www.w3.org/TR/xml-exc-c14n#": _EXC_C14N}

#: short name → (signxml method, key kind); the algorithms :func:`sign_package` writes
_SIGNING: dict[str, tuple[SignatureMethod, str]] = {
    "rsa-sha256": (SignatureMethod.RSA_SHA256, "rsa"),
    "rsa-sha384": (SignatureMethod.RSA_SHA384, "rsa"),
    "rsa-sha512": (SignatureMethod.RSA_SHA512, "rsa"),
    "ecdsa-sha256": (SignatureMethod.ECDSA_SHA256, "ec"),
    "ecdsa-sha384": (SignatureMethod.ECDSA_SHA384, "ec"),
    "ecdsa-sha512": (SignatureMethod.ECDSA_SHA512, "ec"),
}
SIGNING_ALGORITHMS = tuple(_SIGNING)

# ------------------------------------------------------------------------------ XML plumbing

_local_state = threading.local()
_schema_lock = threading.Lock()


def _parser() -> etree.XMLParser:
    """The hardening of :func:`lienthong.edxml.parser._new_xml_parser` (no DTD, no
    entities, no network, no huge trees), but comments and processing instructions are
    kept: C14N includes processing instructions (and comments for the ``#WithComments``
    methods), so dropping them would change what was signed. One parser per thread."""
    parser: etree.XMLParser | None = getattr(_local_state, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=False,
            remove_pis=False,
            collect_ids=False,
        )
        _local_state.parser = parser
    return parser


def _local(el: Any) -> str:
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _namespace(el: Any) -> str:
    tag = el.tag
    return tag[1:].partition("}")[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _child(el: Any, *names: str) -> Any:
    """The first child named ``names`` in the edXML namespace or none (parser tolerance)."""
    for child in el:
        if child.tag in names:
            return child
    return None


def _header_of(root: Any) -> Any:
    """``edXML/edXMLEnvelope/edXMLHeader`` or ``None``."""
    if root.tag != _NS + "edXML":
        return None
    envelope = _child(root, _NS + "edXMLEnvelope", "edXMLEnvelope")
    if envelope is None:
        return None
    return _child(envelope, _NS + "edXMLHeader", "edXMLHeader")


def _c14n(node: Any, method: _C14n, *, with_comments: bool | None = None) -> bytes:
    data: bytes = etree.tostring(
        node,
        method="c14n",
        exclusive=method.exclusive,
        with_comments=method.with_comments if with_comments is None else with_comments,
        inclusive_ns_prefixes=list(method.prefixes) if method.prefixes else None,
    )
    return data


def _remove_keeping_tail(el: Any) -> None:
    """Detach ``el``; its tail text stays in the document (the enveloped transform removes
    the element node only)."""
    parent = el.getparent()
    tail = el.tail
    if tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


# ------------------------------------------------------------------------------ signing


def sign_package(package: bytes, creds: Credentials, *, algorithm: str | None = None) -> bytes:
    """Sign an edXML package (bytes) with ``creds``; returns the signed bytes.

    ``algorithm``: one of :data:`SIGNING_ALGORITHMS`; default ``rsa-sha256`` for an RSA key
    and ``ecdsa-sha256`` for an EC key. Raises :class:`~lienthong.edxml.errors.EdxmlError`
    when the package cannot be read (not XML, DOCTYPE, no ``edXMLHeader``…) and
    :class:`~lienthong.pki.credentials.PkiError` ``PKI_USAGE`` for an algorithm that does not
    fit the key."""
    data = bytes(package)
    method = _signing_method(creds, algorithm)
    start = _check_prolog(data)
    spans, header_end = _header_layout(data, start)
    prefix, lead, trail, suffix = _splice(data, spans, header_end)
    candidate = b"".join((prefix, lead, _PLACEHOLDER, trail, suffix))
    root = _parse_for_signing(candidate[start:] if start else candidate)

    header = _header_of(root)
    elements = [c for c in header if isinstance(c.tag, str)] if header is not None else []
    blocks = [c for c in elements if _local(c) == "Signature"]
    if (
        len(blocks) != 1
        or blocks[0] is not elements[-1]
        or blocks[0].tag != _DS + "Signature"
        or blocks[0].get("Id") != "placeholder"
    ):
        raise EdxmlError.of(
            Code.MALFORMED, detail="edXMLHeader could not be located unambiguously for signing"
        )

    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    try:
        signed = signer.sign(root, key=creds.private_key, cert=[creds.certificate, *creds.chain])
    except (SignXMLException, ValueError) as exc:
        raise EdxmlError.of(Code.MALFORMED, detail=f"cannot sign: {exc}") from None
    signed_header = _header_of(signed)
    signature = signed_header.find(_DS + "Signature") if signed_header is not None else None
    if signature is None:  # pragma: no cover - signxml puts it where the placeholder was
        raise EdxmlError.of(Code.MALFORMED, detail="the signature was not placed")
    block = copy.deepcopy(signature)
    etree.cleanup_namespaces(block)  # drop the copies of the envelope's declarations
    text: bytes = etree.tostring(block, encoding="UTF-8", with_tail=False)
    return b"".join((prefix, lead, text, trail, suffix))


_PLACEHOLDER = f'<ds:Signature xmlns:ds="{DS}" Id="placeholder"/>'.encode()


def _signing_method(creds: Credentials, algorithm: str | None) -> SignatureMethod:
    key = creds.private_key
    kind = "rsa" if isinstance(key, rsa.RSAPrivateKey) else "ec"
    name = algorithm or ("rsa-sha256" if kind == "rsa" else "ecdsa-sha256")
    entry = _SIGNING.get(name.lower())
    if entry is None:
        raise PkiError.of(
            PkiCode.USAGE,
            detail_vi=f"Thuật toán ký không hỗ trợ: {name} (chọn: {', '.join(_SIGNING)})",
            detail_en=f"Unsupported signature algorithm: {name} (choose: {', '.join(_SIGNING)})",
        )
    if entry[1] != kind:
        raise PkiError.of(
            PkiCode.USAGE,
            detail_vi=f"Thuật toán {name} không dùng được với khóa {kind.upper()}",
            detail_en=f"Algorithm {name} does not fit an {kind.upper()} key",
        )
    return entry[0]


def _parse_for_signing(data: bytes) -> Any:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise _syntax_error(exc) from None
    except ValueError as exc:
        raise EdxmlError.of(Code.MALFORMED, line=1, column=1, detail=str(exc)) from None
    if root.getroottree().docinfo.internalDTD is not None:
        raise EdxmlError.of(Code.DOCTYPE_FORBIDDEN)
    if _header_of(root) is None:
        raise EdxmlError.of(Code.REQUIRED, "edXMLEnvelope/edXMLHeader")
    return root


_TAG = re.compile(rb"""<(/?)([^\s/>!?]+)(?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*\s*(/?)>""")
_HEADER_PATH = [b"edXML", b"edXMLEnvelope", b"edXMLHeader"]


def _header_layout(data: bytes, start: int) -> tuple[list[tuple[int, int]], int]:
    """Byte spans of the ``Signature`` children of ``edXMLHeader`` and the offset of its end
    tag, from a light scan of the markup (comments, CDATA and PIs skipped). The scan stops
    at the end of the header; the parse of the result checks what it found."""
    stack: list[tuple[bytes, int]] = []
    spans: list[tuple[int, int]] = []
    pos = start
    while True:
        lt = data.find(b"<", pos)
        if lt < 0:
            break
        for opener, closer in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>")):
            if data.startswith(opener, lt):
                end = data.find(closer, lt + len(opener))
                if end < 0:
                    raise EdxmlError.of(Code.MALFORMED, detail="unterminated markup")
                pos = end + len(closer)
                break
        else:
            if data.startswith(b"<!", lt):
                raise EdxmlError.of(Code.DOCTYPE_FORBIDDEN)
            m = _TAG.match(data, lt)
            if m is None:
                raise EdxmlError.of(Code.MALFORMED, detail=f"malformed tag at byte {lt}")
            pos = m.end()
            local = m.group(2).rpartition(b":")[2]
            in_header = [name for name, _ in stack] == _HEADER_PATH
            if m.group(1):  # end tag
                if not stack or stack[-1][0] != local:
                    raise EdxmlError.of(Code.MALFORMED, detail=f"mismatched end tag at byte {lt}")
                _, begin = stack.pop()
                if local == b"Signature" and [n for n, _ in stack] == _HEADER_PATH:
                    spans.append((begin, pos))
                elif local == b"edXMLHeader" and [n for n, _ in stack] == _HEADER_PATH[:2]:
                    return spans, lt
            elif m.group(3):  # empty element
                if in_header and local == b"Signature":
                    spans.append((lt, pos))
            else:
                stack.append((local, lt))
    raise EdxmlError.of(Code.REQUIRED, "edXMLEnvelope/edXMLHeader")


def _splice(
    data: bytes, spans: list[tuple[int, int]], header_end: int
) -> tuple[bytes, bytes, bytes, bytes]:
    """(prefix, lead, trail, suffix): the package is ``prefix + lead + BLOCK + trail +
    suffix``, the old blocks cut out (with their line when alone on it)."""
    cuts: list[tuple[int, int]] = []
    for begin, end in spans:
        line_start = data.rfind(b"\n", 0, begin) + 1
        line_end = data.find(b"\n", end)
        if (
            line_end >= 0
            and not data[line_start:begin].strip()
            and not data[end:line_end].strip()
            and line_end < header_end
        ):
            cuts.append((line_start, line_end + 1))
        else:
            cuts.append((begin, end))
    line_start = data.rfind(b"\n", 0, header_end) + 1
    indent = data[line_start:header_end]
    if indent and not indent.strip() and (not cuts or cuts[-1][1] <= line_start):
        insert_at, lead, trail = line_start, indent + b"  ", b"\n"
    else:
        insert_at, lead, trail = header_end, b"", b""
    pieces: list[bytes] = []
    pos = 0
    for begin, end in cuts:
        pieces.append(data[pos:begin])
        pos = end
    pieces.append(data[pos:insert_at])
    return b"".join(pieces), lead, trail, data[insert_at:]


# ------------------------------------------------------------------------------ verifying


class _Stop(Exception):
    """Ends verification with a reason and a detail (Vietnamese, English)."""

    def __init__(self, reason: Reason, vi: str = "", en: str = "") -> None:
        super().__init__(en or str(reason))
        self.reason = reason
        self.vi = vi
        self.en = en


@dataclass
class _Block:
    signed_info: Any
    c14n: _C14n
    method: _SigMethod
    reference_c14n: _C14n
    digest: str
    digest_value: bytes
    signature_value: bytes
    certificates: list[x509.Certificate] = field(default_factory=list)


def verify_package(
    package: bytes,
    trust: TrustStore,
    *,
    expected_agency: str | None = None,
    allow_sha1: bool = True,
    at: datetime | None = None,
) -> Report:
    """Verify the package signature of an edXML package: a :class:`Report` with exactly one
    :class:`SignatureReport` (``NOT_SIGNED``/``unknown`` when there is no block).

    ``trust``: a :class:`~lienthong.pki.credentials.TrustStore`; ``expected_agency``: the
    agency code the signer must belong to (typically the package's ``From/OrganId``);
    ``allow_sha1``: accept the legacy RSA-SHA1 blocks; ``at``: the moment certificates are
    checked at (default now). Never raises on hostile input."""
    facts: dict[str, Any] = {}
    notes: list[tuple[str, str]] = []
    try:
        report = _verify(bytes(package), trust, expected_agency, allow_sha1, at, facts, notes)
    except _Stop as stop:
        report = _failed(stop.reason, facts, notes, stop.vi, stop.en)
    except Exception as exc:  # hostile input must never raise: unforeseen → malformed
        report = _failed(
            Reason.MALFORMED,
            facts,
            notes,
            f"lỗi không lường trước ({type(exc).__name__})",
            f"unexpected {type(exc).__name__}: {exc}",
        )
    return Report(signatures=[report])


def _failed(
    reason: Reason, facts: dict[str, Any], notes: list[tuple[str, str]], vi: str, en: str
) -> SignatureReport:
    report = SignatureReport.failed(reason, **facts)
    base_vi, base_en = MESSAGES[reason]
    details = ([(vi, en)] if vi or en else []) + notes
    if details:
        report.message_vi = base_vi + ": " + "; ".join(d[0] for d in details if d[0])
        report.message_en = base_en + ": " + "; ".join(d[1] for d in details if d[1])
    return report


def _verify(
    data: bytes,
    trust: TrustStore,
    expected_agency: str | None,
    allow_sha1: bool,
    at: datetime | None,
    facts: dict[str, Any],
    notes: list[tuple[str, str]],
) -> SignatureReport:
    root = _parse_for_verifying(data, notes)
    header = _header_of(root)
    if header is None:
        raise _Stop(
            Reason.MALFORMED,
            "không phải gói tin edXML (thiếu edXML/edXMLEnvelope/edXMLHeader)",
            "not an edXML package (no edXML/edXMLEnvelope/edXMLHeader)",
        )
    blocks = [c for c in header if _local(c) == "Signature"]
    if not blocks:
        if next(root.iter(_DS + "Signature"), None) is not None:
            raise _Stop(
                Reason.UNSUPPORTED,
                "có chữ ký XML nhưng không nằm trong edXMLHeader",
                "an XML signature exists but not as a child of edXMLHeader",
            )
        if any(_local(c) == "DigitalSignature" for c in header):
            raise _Stop(
                Reason.NOT_SIGNED,
                "phần tử DigitalSignature rỗng (biến thể SDK .NET)",
                "empty DigitalSignature element (.NET SDK variant)",
            )
        raise _Stop(Reason.NOT_SIGNED)
    if len(blocks) > 1:
        raise _Stop(
            Reason.UNSUPPORTED,
            f"edXMLHeader có {len(blocks)} khối chữ ký",
            f"edXMLHeader holds {len(blocks)} Signature blocks",
        )
    block = blocks[0]
    namespace = _namespace(block)
    if namespace != DS:
        where = namespace or "không gian tên rỗng"
        where_en = namespace or "no namespace"
        notes.append(
            (
                f"khối chữ ký nằm ngoài không gian tên XML-DSig ({where}, kiểu VNPT); "
                "kiểm tra trên bản sao chuyển về không gian tên XML-DSig",
                f"signature block outside the XML-DSig namespace ({where_en}, VNPT dialect); "
                "checked as a copy moved into the XML-DSig namespace",
            )
        )
        block = _into_xmldsig(block)
    _peek_identity(block, facts)
    method_el = block.find(f"{_DS}SignedInfo/{_DS}SignatureMethod")
    if method_el is not None:  # named in the report even when the block proves unusable
        uri = method_el.get("Algorithm") or ""
        known = _SIGNATURE_METHODS.get(uri)
        facts["algorithm"] = known.name if known else uri.rpartition("#")[2] or None
    parts = _read_block(block, allow_sha1, facts, notes)

    signed_info = _c14n(parts.signed_info, parts.c14n)
    signer, signature_ok, why = _find_signer(parts, signed_info)
    identity = identity_of(signer)
    facts.update(
        name=identity.name,
        agency=identity.agency,
        role=identity.role,
        serial=identity.serial,
    )

    _remove_keeping_tail(block)
    digest = hashlib.new(parts.digest, _c14n(root, parts.reference_c14n, with_comments=False))
    intact = hmac.compare_digest(digest.digest(), parts.digest_value)
    facts["intact"] = intact

    others = [c for c in parts.certificates if c is not signer]
    check = check_certificate(signer, extra_certs=others, trust=trust, at=at)
    facts.update(trusted=check.trusted, revoked=check.revoked)

    if not signature_ok:
        raise _Stop(Reason.BAD_SIGNATURE, why[0], why[1])
    if not intact:
        raise _Stop(
            Reason.MODIFIED,
            "giá trị băm (DigestValue) không khớp với nội dung gói tin",
            "the DigestValue does not match the package",
        )
    if check.reason is not None:
        raise _Stop(check.reason, check.detail or "", check.detail or "")
    if expected_agency is not None and _norm(identity.agency) != _norm(expected_agency):
        named = identity.agency or "không có"
        raise _Stop(
            Reason.WRONG_AGENCY,
            f"chứng thư thuộc {named}, cơ quan gửi là {expected_agency}",
            f"certificate of {identity.agency or 'no agency'}, sender is {expected_agency}",
        )
    report = SignatureReport(verdict=Verdict.VALID, **facts)
    if notes:
        report.message_vi = "; ".join(n[0] for n in notes)
        report.message_en = "; ".join(n[1] for n in notes)
    return report


def _peek_identity(block: Any, facts: dict[str, Any]) -> None:
    """Name the signer in the report even when the block later proves unusable: the first
    readable end-entity certificate of ``KeyInfo`` (best effort, nothing is trusted)."""
    readable = []
    for el in block.iterfind(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate"):
        try:
            der = base64.b64decode("".join((el.text or "").split()), validate=True)
            readable.append(x509.load_der_x509_certificate(der))
        except ValueError:
            continue
        if len(readable) >= _MAX_CERTS:
            break
    if readable:
        identity = identity_of(sorted(readable, key=_is_ca)[0])
        facts.update(
            name=identity.name, agency=identity.agency, role=identity.role, serial=identity.serial
        )


def _norm(code: str | None) -> str:
    return (code or "").strip().upper()


def _parse_for_verifying(data: bytes, notes: list[tuple[str, str]]) -> Any:
    """One parse of the whole package. Namespace prefixes that real traffic forgets to
    declare (``xlink:`` in the official samples) are declared for reading, as
    :mod:`lienthong.edxml.parser` does, and the report says so: such a package is not
    namespace-well-formed, so no signer could have canonicalised it as it is."""
    try:
        start = _check_prolog(data)
    except EdxmlError as exc:
        raise _Stop(Reason.MALFORMED, exc.problem.message_vi, exc.problem.message_en) from None
    text = data[start:] if start else data
    injected: list[str] = []
    while True:
        try:
            root = etree.fromstring(text, _parser())
            break
        except etree.XMLSyntaxError as exc:
            m = _UNDECLARED.search(exc.msg or str(exc))
            if m and m.group(1) not in injected and len(injected) < 8:
                injected.append(m.group(1))
                text = _declare_prefix(text, m.group(1))
                continue
            problem = _syntax_error(exc).problem
            reason = Reason.UNSUPPORTED if problem.code is Code.TOO_LARGE else Reason.MALFORMED
            raise _Stop(reason, problem.message_vi, problem.message_en) from None
    if root.getroottree().docinfo.internalDTD is not None:
        error = EdxmlError.of(Code.DOCTYPE_FORBIDDEN).problem
        raise _Stop(Reason.MALFORMED, error.message_vi, error.message_en)
    if injected:
        names = ", ".join(injected)
        notes.append(
            (
                f"tiền tố không gian tên chưa khai báo ({names}) được khai báo để đọc",
                f"undeclared namespace prefix(es) {names} declared for reading",
            )
        )
    return root


def _into_xmldsig(block: Any) -> Any:
    """Replace ``block`` (a Signature in another namespace) by a copy whose elements of that
    namespace are in the XML-DSig one, declared as the default namespace as .NET and VNPT
    signers write it. Attributes, text, comments and foreign elements are kept."""
    source = _namespace(block)
    new = etree.Element(_DS + "Signature", nsmap={None: DS})  # type: ignore[dict-item]
    _copy_into(block, new, source)
    new.tail = block.tail
    parent = block.getparent()
    parent.replace(block, new)
    return new


def _copy_into(src: Any, dst: Any, source_ns: str) -> None:
    for key, value in src.attrib.items():
        dst.set(key, value)
    dst.text = src.text
    for child in src:
        if isinstance(child.tag, str):
            if _namespace(child) == source_ns:
                clone = etree.SubElement(dst, _DS + _local(child))
                _copy_into(child, clone, source_ns)
            else:
                clone = copy.deepcopy(child)
                dst.append(clone)
        elif child.tag is etree.Comment:
            clone = etree.Comment(child.text)
            dst.append(clone)
        elif child.tag is etree.ProcessingInstruction:
            clone = etree.ProcessingInstruction(child.target, child.text)
            dst.append(clone)
        else:
            continue
        clone.tail = child.tail


def _schema_check(block: Any) -> None:
    schema: etree.XMLSchema = XMLSignatureProcessor.schemas()[0]  # type: ignore[no-untyped-call]
    try:
        with _schema_lock:
            schema.assertValid(block)
    except etree.DocumentInvalid as exc:
        raise _Stop(
            Reason.MALFORMED,
            f"khối chữ ký sai lược đồ XML-DSig: {exc}",
            f"the block does not follow the XML-DSig schema: {exc}",
        ) from None


def _one(parent: Any, name: str, where: str) -> Any:
    found = parent.findall(_DS + name)
    if len(found) != 1:
        what = "thiếu" if not found else "thừa"
        what_en = "missing" if not found else "repeated"
        raise _Stop(Reason.MALFORMED, f"{what} {where}/{name}", f"{what_en} {where}/{name}")
    return found[0]


def _b64(text: str | None, where: str) -> bytes:
    cleaned = "".join((text or "").split())
    try:
        value = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        value = b""
    if not value:
        raise _Stop(
            Reason.MALFORMED,
            f"{where} không phải base64 hợp lệ",
            f"{where} is empty or not valid base64",
        )
    return value


def _c14n_of(el: Any, where: str) -> _C14n:
    uri = el.get("Algorithm") or ""
    standard = _C14N_ALIASES.get(uri, uri)
    method = _C14N.get(standard)
    if method is None:
        raise _Stop(
            Reason.UNSUPPORTED,
            f"{where}: thuật toán chuẩn hóa không hỗ trợ {uri!r}",
            f"{where}: unsupported canonicalisation {uri!r}",
        )
    if method.exclusive:
        inclusive = el.find("{" + _EXC_C14N + "}InclusiveNamespaces")
        if inclusive is not None:
            prefixes = tuple((inclusive.get("PrefixList") or "").split())
            method = _C14n(True, method.with_comments, prefixes or None)
    return method


def _read_block(
    block: Any, allow_sha1: bool, facts: dict[str, Any], notes: list[tuple[str, str]]
) -> _Block:
    _schema_check(block)
    signed_info = _one(block, "SignedInfo", "Signature")
    c14n = _c14n_of(_one(signed_info, "CanonicalizationMethod", "SignedInfo"), "SignedInfo")
    method_uri = _one(signed_info, "SignatureMethod", "SignedInfo").get("Algorithm") or ""
    method = _SIGNATURE_METHODS.get(method_uri)
    if method is None:
        raise _Stop(
            Reason.UNSUPPORTED,
            f"thuật toán ký không hỗ trợ {method_uri!r}",
            f"unsupported signature method {method_uri!r}",
        )
    facts["algorithm"] = method.name
    references = signed_info.findall(_DS + "Reference")
    if len(references) != 1 or references[0].get("URI") != "":
        raise _Stop(
            Reason.UNSUPPORTED,
            'chỉ hỗ trợ đúng một Reference URI="" (toàn bộ gói tin)',
            'only exactly one Reference URI="" (the whole package) is supported',
        )
    reference = references[0]
    enveloped = False
    reference_c14n = _C14n(False, False)  # XML-DSig default: inclusive C14N 1.0
    transforms = reference.find(_DS + "Transforms")
    for transform in transforms if transforms is not None else []:
        if not isinstance(transform.tag, str):
            continue
        uri = transform.get("Algorithm") or ""
        if uri == _ENVELOPED:
            enveloped = True
        else:
            reference_c14n = _c14n_of(transform, "Transform")
            if uri in _C14N_ALIASES:
                notes.append(
                    (
                        f"URI biến đổi không chuẩn {uri} được hiểu là Exclusive C14N",
                        f"non-standard transform URI {uri} read as Exclusive C14N",
                    )
                )
    if not enveloped:
        raise _Stop(
            Reason.UNSUPPORTED,
            "thiếu biến đổi enveloped-signature",
            "the enveloped-signature transform is missing",
        )
    digest_uri = _one(reference, "DigestMethod", "Reference").get("Algorithm") or ""
    digest = _DIGESTS.get(digest_uri)
    if digest is None:
        raise _Stop(
            Reason.UNSUPPORTED,
            f"thuật toán băm không hỗ trợ {digest_uri!r}",
            f"unsupported digest method {digest_uri!r}",
        )
    if method.legacy or digest[1]:
        if not allow_sha1:
            raise _Stop(
                Reason.UNSUPPORTED,
                "chữ ký cũ dùng SHA-1, không được chấp nhận theo cấu hình",
                "legacy SHA-1 signature, not accepted by configuration",
            )
        notes.append(("chữ ký cũ dùng SHA-1", "legacy SHA-1 signature"))
    digest_value = _b64(_one(reference, "DigestValue", "Reference").text, "DigestValue")
    signature_value = _b64(_one(block, "SignatureValue", "Signature").text, "SignatureValue")
    certificates = _certificates(block)
    return _Block(
        signed_info=signed_info,
        c14n=c14n,
        method=method,
        reference_c14n=reference_c14n,
        digest=digest[0],
        digest_value=digest_value,
        signature_value=signature_value,
        certificates=certificates,
    )


def _certificates(block: Any) -> list[x509.Certificate]:
    texts = block.findall(f"{_DS}KeyInfo/{_DS}X509Data/{_DS}X509Certificate")
    if not texts:
        key_value = block.find(f"{_DS}KeyInfo/{_DS}KeyValue")
        if key_value is not None:
            raise _Stop(
                Reason.UNSUPPORTED,
                "chỉ có khóa công khai (KeyValue), không có chứng thư số",
                "a bare public key (KeyValue) without certificate is not supported",
            )
        raise _Stop(
            Reason.MALFORMED,
            "không có chứng thư số (KeyInfo/X509Data/X509Certificate)",
            "no certificate (KeyInfo/X509Data/X509Certificate)",
        )
    if len(texts) > _MAX_CERTS:
        raise _Stop(
            Reason.MALFORMED,
            f"quá nhiều chứng thư số ({len(texts)})",
            f"too many certificates ({len(texts)})",
        )
    certificates = []
    for index, el in enumerate(texts, start=1):
        der = _b64(el.text, f"X509Certificate[{index}]")
        try:
            certificates.append(x509.load_der_x509_certificate(der))
        except ValueError as exc:
            raise _Stop(
                Reason.MALFORMED,
                f"chứng thư số thứ {index} bị cắt cụt hoặc hỏng",
                f"certificate {index} is truncated or damaged ({exc})",
            ) from None
    return certificates


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except (x509.ExtensionNotFound, ValueError):
        return False


def _find_signer(
    parts: _Block, signed_info: bytes
) -> tuple[x509.Certificate, bool, tuple[str, str]]:
    """The certificate whose key verifies the SignatureValue (``KeyInfo`` order is not
    meaningful); else the most leaf-like one, with the reason it failed."""
    candidates = sorted(parts.certificates, key=_is_ca)  # stable: end entities first
    problems = []
    for cert in candidates:
        ok, problem = _check_value(cert, parts.method, parts.signature_value, signed_info)
        if ok:
            return cert, True, ("", "")
        problems.append(problem)
    if all(p is not None for p in problems):  # no key of the right type, or unreadable
        why = next(p for p in problems if p is not None)
    else:
        why = (
            "SignatureValue không khớp với khóa của chứng thư số",
            "the SignatureValue does not verify with the certificate's key",
        )
    issuers = {issuer_of(c) for c in parts.certificates}
    leafs = [c for c in candidates if subject_of(c) not in issuers or subject_of(c) == issuer_of(c)]
    return (leafs or candidates)[0], False, why


def _check_value(
    cert: x509.Certificate, method: _SigMethod, value: bytes, data: bytes
) -> tuple[bool, tuple[str, str] | None]:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return False, ("khóa của chứng thư không đọc được", "unreadable certificate key")
    try:
        if method.key == "rsa":
            if not isinstance(key, rsa.RSAPublicKey):
                return False, _mismatch(method)
            key.verify(value, data, PKCS1v15(), method.hash())
        else:
            if not isinstance(key, ec.EllipticCurvePublicKey):
                return False, _mismatch(method)
            size = (key.curve.key_size + 7) // 8
            if len(value) != 2 * size:
                return False, None
            r = int.from_bytes(value[:size], "big")
            s = int.from_bytes(value[size:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(method.hash()))
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        return False, None
    return True, None


def _mismatch(method: _SigMethod) -> tuple[str, str]:
    return (
        f"loại khóa của chứng thư không khớp thuật toán {method.name}",
        f"the certificate's key type does not match {method.name}",
    )
