"""One place that decides whether a signing certificate can be relied on: its chain to a
trusted root, its validity period and its revocation status. Used by the package (XML-DSig)
verifier and meant for every other verifier too, so that all of them agree.

How it decides
--------------

1. **pyhanko-certvalidator** builds and validates the path from the certificate to one of
   the trust store's roots (only the roots are anchors; the certificates the signature
   carries and the store's intermediates only help to build the path), at the moment
   ``at``, with ``revocation_mode="require"``: *every* certificate of the path must be
   covered by revocation information the store holds (CRLs; nothing is fetched,
   ``allow_fetching=False``). A missing or stale CRL therefore gives
   :attr:`~lienthong.pki.verdict.Reason.NO_REVOCATION_INFO` (verdict ``unknown``), never a
   silent pass. When that happens the path is validated once more with revocation left
   out, to tell whether the chain itself is sound (``trusted``). Note that a CRL issued
   after ``at`` does not count for ``at`` (no retroactive revocation information), so
   checking at a past moment with today's CRLs gives ``NO_REVOCATION_INFO``.
2. **An explicit serial check** of the certificate against the CRLs of the store that its
   issuer signed: python-stack.md §2 measured that pyHanko's "hard-fail" mode ignored a CRL
   when the certificate named no CRL distribution point. Whatever the validator concluded,
   a certificate listed on its issuer's CRL (revoked at or before ``at``) is ``REVOKED``.

Exceptions of the validator map to reasons: expired / not yet valid → ``EXPIRED``; revoked
→ ``REVOKED``; no path to a root, a bad signature in the path, a broken constraint →
``UNTRUSTED``; not usable for ``usage`` → ``WRONG_USAGE``; an algorithm the validator bans
(e.g. an MD5- or SHA-1-signed certificate) → ``UNSUPPORTED``. When several problems hold the
most serious one is reported: untrusted, revoked, expired, wrong usage, then no revocation
information.

The validator is asynchronous; :func:`check_certificate` runs it on a private event loop
(in a worker thread when called from inside a running loop), :func:`check_certificate_async`
is the native coroutine.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import threading
import time
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.context import ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)

from lienthong.pki.credentials import TrustStore, _issued_by, issuer_of, subject_of
from lienthong.pki.verdict import Reason

__all__ = ["CertCheck", "check_certificate", "check_certificate_async", "revocation_entry"]

_T = TypeVar("_T")

#: most serious first (used when the validator and the explicit CRL check disagree)
_SEVERITY = (
    Reason.MALFORMED,
    Reason.UNTRUSTED,
    Reason.REVOKED,
    Reason.EXPIRED,
    Reason.UNSUPPORTED,
    Reason.WRONG_USAGE,
    Reason.NO_REVOCATION_INFO,
)


@dataclass(frozen=True)
class CertCheck:
    """The outcome for one certificate.

    ``trusted``: the path to a trusted root validated (revocation information aside);
    ``revoked``: ``True``/``False``, or ``None`` when it could not be established;
    ``expired``: ``at`` lies outside the certificate's own validity period;
    ``reason``: ``None`` when the certificate can be relied on, else the reason code;
    ``detail``: the validator's own words (English), for logs and reports.
    """

    trusted: bool
    revoked: bool | None
    expired: bool
    reason: Reason | None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


def check_certificate(
    cert: x509.Certificate,
    *,
    extra_certs: Iterable[x509.Certificate] = (),
    trust: TrustStore,
    at: datetime | None = None,
    usage: str | Iterable[str] = "digital_signature",
) -> CertCheck:
    """Validate ``cert`` (chain, validity at ``at`` — default now —, revocation, key usage)
    against ``trust``. ``extra_certs``: certificates that came with the signature (the
    intermediates). Never raises for a bad certificate: the answer is in the result."""
    return _run(
        check_certificate_async(cert, extra_certs=extra_certs, trust=trust, at=at, usage=usage)
    )


# Checks "at now" are cached: path validation dominates verification (≈ 6 ms per
# certificate, bench/signatures.py) and a hub sees the same few signers all day. The key
# covers the certificate, the certificates that came with it, every root, intermediate and
# CRL of the trust store (by fingerprint) and the usages, so a new CRL or root is a new key;
# an entry lives at most _CACHE_SECONDS and never past the certificate's expiry or the
# earliest CRL's next update.
_CACHE_SECONDS = 300
_CACHE_MAX = 2048
_cache: dict[bytes, tuple[float, CertCheck]] = {}
_cache_lock = threading.Lock()


def _cache_key(
    cert: x509.Certificate, extra: list[x509.Certificate], trust: TrustStore, usages: set[str]
) -> bytes:
    h = hashlib.sha256()
    for c in (cert, *extra, *trust.roots, *trust.intermediates):
        h.update(c.fingerprint(hashes.SHA256()))
    for crl in trust.crls:
        h.update(hashlib.sha256(crl.public_bytes(Encoding.DER)).digest())
    h.update(",".join(sorted(usages)).encode())
    return h.digest()


def _cache_until(cert: x509.Certificate, trust: TrustStore, now: datetime) -> float:
    limits = [cert.not_valid_after_utc]
    limits += [c.next_update_utc for c in trust.crls if c.next_update_utc is not None]
    seconds = min((t - now).total_seconds() for t in limits)
    return time.monotonic() + max(0.0, min(seconds, _CACHE_SECONDS))


async def check_certificate_async(
    cert: x509.Certificate,
    *,
    extra_certs: Iterable[x509.Certificate] = (),
    trust: TrustStore,
    at: datetime | None = None,
    usage: str | Iterable[str] = "digital_signature",
) -> CertCheck:
    """The coroutine behind :func:`check_certificate` (cached for checks at "now")."""
    if at is not None:
        return await _check(cert, extra_certs=extra_certs, trust=trust, at=at, usage=usage)
    extra = list(extra_certs)
    usages = {usage} if isinstance(usage, str) else set(usage)
    key = _cache_key(cert, extra, trust, usages)
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    now = _utc(None)
    result = await _check(cert, extra_certs=extra, trust=trust, at=now, usage=usages)
    with _cache_lock:
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[key] = (_cache_until(cert, trust, now), result)
    return result


async def _check(
    cert: x509.Certificate,
    *,
    extra_certs: Iterable[x509.Certificate],
    trust: TrustStore,
    at: datetime | None,
    usage: str | Iterable[str],
) -> CertCheck:
    moment = _utc(at)
    extra = list(extra_certs)
    usages = {usage} if isinstance(usage, str) else set(usage)
    expired = not (cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc)
    if not trust.roots:
        return CertCheck(
            trusted=False,
            revoked=None,
            expired=expired,
            reason=Reason.UNTRUSTED,
            detail="the trust store holds no root certificate",
        )
    try:
        leaf = _asn1(cert)
        others = [_asn1(c) for c in [*extra, *trust.intermediates]]
        roots = [_asn1(c) for c in trust.roots]
        crls = [crl.public_bytes(Encoding.DER) for crl in trust.crls]
    except ValueError as exc:
        return CertCheck(False, None, expired, Reason.MALFORMED, f"unreadable certificate: {exc}")

    reason, detail = await _validate(leaf, others, roots, crls, moment, usages, "require")
    trusted = reason is None
    revoked: bool | None = False if reason is None else None
    if reason is Reason.NO_REVOCATION_INFO:
        # is the chain itself sound? (the same path, revocation left out entirely)
        second, second_detail = await _validate(
            leaf, others, roots, [], moment, usages, "soft-fail"
        )
        if second is None:
            trusted = True
        else:
            reason, detail = second, second_detail
    if reason is Reason.REVOKED:
        revoked = True

    # explicit serial check: the validator must not be the only line of defence
    entry = revocation_entry(
        cert, candidates=[*extra, *trust.intermediates, *trust.roots], trust=trust, at=moment
    )
    if entry is not None:
        revoked = True
        if reason is None or _SEVERITY.index(Reason.REVOKED) < _SEVERITY.index(reason):
            when = entry.revocation_date_utc.isoformat()
            reason, detail = Reason.REVOKED, f"listed on the issuer's CRL (revoked {when})"
            trusted = False
    elif reason is None:
        revoked = False
    return CertCheck(
        trusted=trusted, revoked=revoked, expired=expired, reason=reason, detail=detail
    )


def revocation_entry(
    cert: x509.Certificate,
    *,
    candidates: Iterable[x509.Certificate],
    trust: TrustStore,
    at: datetime | None = None,
) -> x509.RevokedCertificate | None:
    """The entry of ``cert`` on a CRL of ``trust`` signed by its issuer (found among
    ``candidates`` by name and signature), if it was revoked at or before ``at``."""
    moment = _utc(at)
    seen: set[bytes] = set()
    for issuer in candidates:
        if subject_of(issuer) != issuer_of(cert) or not _issued_by(cert, issuer):
            continue
        key = issuer.public_bytes(Encoding.DER)
        if key in seen:
            continue
        seen.add(key)
        crl = trust.crl_for(issuer)
        if crl is None:
            continue
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None and entry.revocation_date_utc <= moment:
            return entry
    return None


# ---------------------------------------------------------------------------- internals


async def _validate(
    leaf: asn1_x509.Certificate,
    others: list[asn1_x509.Certificate],
    roots: list[asn1_x509.Certificate],
    crls: list[bytes],
    moment: datetime,
    usages: set[str],
    mode: str,
) -> tuple[Reason | None, str | None]:
    try:
        context = ValidationContext(
            trust_roots=roots,
            other_certs=others,
            crls=crls,
            revocation_mode=mode,
            allow_fetching=False,
            moment=moment,
        )
        validator = CertificateValidator(leaf, validation_context=context)
        await validator.async_validate_usage(usages)  # type: ignore[no-untyped-call]
    except RevokedError as exc:
        return Reason.REVOKED, _words(exc)
    except (ExpiredError, NotYetValidError) as exc:
        return Reason.EXPIRED, _words(exc)
    except InsufficientRevinfoError as exc:
        return Reason.NO_REVOCATION_INFO, _words(exc)
    except DisallowedAlgorithmError as exc:
        return Reason.UNSUPPORTED, _words(exc)
    except InvalidCertificateError as exc:
        return Reason.WRONG_USAGE, _words(exc)
    except (PathBuildingError, PathValidationError, ValidationError) as exc:
        return Reason.UNTRUSTED, _words(exc)
    except (ValueError, TypeError, KeyError) as exc:  # asn1crypto on odd certificates
        return Reason.UNTRUSTED, f"certificate path could not be processed: {exc}"
    return None, None


def _words(exc: Exception) -> str:
    text = getattr(exc, "failure_msg", None) or str(exc) or type(exc).__name__
    return str(text)


def _asn1(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _run(coro: Coroutine[Any, Any, _T]) -> _T:
    """Run a coroutine to completion from synchronous code, inside a running event loop
    too (then on a short-lived worker thread: the caller's loop is never blocked on
    itself)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
