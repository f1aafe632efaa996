"""Bringing a trust folder's CRLs up to date after a revocation: from a CA folder on the same
machine, or from the URLs a CA publishes its CRLs at (a hub with ``LIENTHONG_CA_DIR`` serves
them at ``/pki/root.crl`` and ``/pki/issuing.crl``).

Only newer CRLs replace held ones (higher CRL number, else later ``thisUpdate``); a CRL's
signature is checked by the verifiers when they use it, against the chain of the
certificate being checked. A hub reloads its trust folder within a minute of a change.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from cryptography import x509

from lienthong.pki.credentials import PkiCode, PkiError, TrustStore, issuer_of, name_text

#: the CRL files a lienthong CA folder holds (and ``pki trust export`` writes)
CA_CRL_FILES = ("root.crl", "issuing.crl")


def _load_crl(data: bytes, where: str) -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise PkiError.of(PkiCode.TRUST_UNREADABLE, path=where, detail="not a CRL") from None


def crls_from_ca(ca_dir: Path) -> list[x509.CertificateRevocationList]:
    """The current CRLs of a lienthong CA folder (no password needed)."""
    found = [ca_dir / name for name in CA_CRL_FILES if (ca_dir / name).is_file()]
    if not found:
        raise PkiError.of(PkiCode.CA_NOT_FOUND, path=str(ca_dir))
    return [_load_crl(path.read_bytes(), str(path)) for path in found]


def crls_from_urls(
    urls: list[str], *, http: httpx.Client | None = None, timeout: float = 20.0
) -> list[x509.CertificateRevocationList]:
    """The CRLs at ``urls`` (each a full CRL URL, e.g. ``https://hub/pki/issuing.crl``)."""
    client = http or httpx.Client(timeout=timeout, follow_redirects=True)
    try:
        out = []
        for url in urls:
            try:
                response = client.get(url)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise PkiError.of(
                    PkiCode.TRUST_UNREADABLE, path=url, detail=str(exc) or type(exc).__name__
                ) from None
            out.append(_load_crl(response.content, url))
        return out
    finally:
        if http is None:
            client.close()


def refresh_trust_dir(trust_dir: Path, crls: list[x509.CertificateRevocationList]) -> list[str]:
    """Put the newer of ``crls`` into the trust folder; returns the issuers whose CRL was
    replaced or added (empty: the folder was up to date, nothing written)."""
    store = TrustStore.load(trust_dir)
    updated = [name_text(issuer_of(crl)) for crl in crls if store.add_crl(crl)]
    if updated:
        store.save(trust_dir)
    return updated
