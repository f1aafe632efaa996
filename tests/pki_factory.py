"""Test PKI for the signature tests (CA, PDF and package signing, hub policy).

``build_world(directory)`` creates, once per session (see the fixtures at the end of
``tests/conftest.py``):

* a CA (root P-384 → issuing CA) dated 60 days back, with fresh CRLs, and its exported
  trust directory (``root.pem``, ``root.crl``, ``issuing.crl``);
* credentials for agency ``000.00.00.H41`` (UBND tỉnh Nghệ An): a person (RSA-2048 and
  ECDSA P-256) and the organisation (RSA and ECDSA);
* a person of another agency (``000.00.00.G22``, Văn phòng Chính phủ);
* an expired certificate (valid 10 days, ended 20 days ago), a revoked one
  (``keyCompromise``, an hour ago; the CRLs in the trust directory list it);
* a person certified by an unrelated second CA, and that CA's trust directory;
* every credential also as a ``.p12`` file protected by :data:`P12_PASSWORD`.

The session CA must not be changed by tests (do not revoke or issue on it): use the
``fresh_ca`` fixture (a new CA in the test's tmp directory) for that.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lienthong.pki.ca import CertificateAuthority
from lienthong.pki.credentials import Credentials

AGENCY = "000.00.00.H41"
AGENCY_NAME = "Ủy ban nhân dân tỉnh Nghệ An"
PERSON_NAME = "Nguyễn Thị Ngọc Trâm"
PERSON_POSITION = "Phó Chủ tịch"
OTHER_AGENCY = "000.00.00.G22"
OTHER_AGENCY_NAME = "Văn phòng Chính phủ"
OTHER_PERSON_NAME = "Trần Văn Đức"
OTHER_PERSON_POSITION = "Vụ trưởng"
P12_PASSWORD = "mật-khẩu-thử-nghiệm"
CA_NAME = "lienthong CA (thử nghiệm)"
STRANGER_CA_NAME = "CA lạ (không tin cậy)"
CRL_BASE_URL = "http://127.0.0.1:8080/pki"


@dataclass
class PkiWorld:
    """Everything :func:`build_world` made (see the module docstring)."""

    base: Path
    ca: CertificateAuthority
    ca_dir: Path
    trust_dir: Path
    person: Credentials
    person_ec: Credentials
    org: Credentials
    org_ec: Credentials
    other_person: Credentials
    expired: Credentials
    revoked: Credentials
    stranger_ca: CertificateAuthority
    stranger_trust_dir: Path
    stranger: Credentials
    p12: dict[str, Path] = field(default_factory=dict)

    def credentials(self, label: str) -> Credentials:
        """By label: ``person``, ``person_ec``, ``org``, ``org_ec``, ``other_person``,
        ``expired``, ``revoked``, ``stranger``."""
        creds: Credentials = getattr(self, label)
        return creds


def without_chain(creds: Credentials) -> Credentials:
    """The same key and certificate without the intermediate ("missing intermediate")."""
    return dataclasses.replace(creds, chain=[])


def write_p12(creds: Credentials, path: Path, password: str = P12_PASSWORD) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(creds.to_p12(password))
    return path


def build_world(base: Path, now: datetime | None = None) -> PkiWorld:
    now = now or datetime.now(UTC).replace(microsecond=0)
    ca_dir = base / "ca"
    ca = CertificateAuthority.init(
        ca_dir, name=CA_NAME, crl_base_url=CRL_BASE_URL, now=now - timedelta(days=60)
    )
    person = ca.issue_person(
        agency=AGENCY,
        name=PERSON_NAME,
        position=PERSON_POSITION,
        organization=AGENCY_NAME,
        not_before=now - timedelta(days=30),
    )
    person_ec = ca.issue_person(
        agency=AGENCY,
        name="Lê Văn Hùng",
        position="Chủ tịch",
        organization=AGENCY_NAME,
        key_type="ec",
        not_before=now - timedelta(days=30),
    )
    org = ca.issue_org(agency=AGENCY, name=AGENCY_NAME, not_before=now - timedelta(days=30))
    org_ec = ca.issue_org(
        agency=AGENCY, name=AGENCY_NAME, key_type="ec", not_before=now - timedelta(days=30)
    )
    other_person = ca.issue_person(
        agency=OTHER_AGENCY,
        name=OTHER_PERSON_NAME,
        position=OTHER_PERSON_POSITION,
        organization=OTHER_AGENCY_NAME,
        not_before=now - timedelta(days=30),
    )
    expired = ca.issue_person(
        agency=AGENCY,
        name="Phạm Thị Hết Hạn",
        position="Chuyên viên",
        organization=AGENCY_NAME,
        not_before=now - timedelta(days=30),
        valid_days=10,
    )
    revoked = ca.issue_person(
        agency=AGENCY,
        name="Hoàng Văn Thu Hồi",
        position="Phó Giám đốc",
        organization=AGENCY_NAME,
        not_before=now - timedelta(days=30),
    )
    ca.revoke(
        revoked.certificate.serial_number, reason="keyCompromise", at=now - timedelta(hours=1)
    )
    ca.renew_crls(now)
    trust_dir = base / "trust"
    ca.export_trust(trust_dir)

    stranger_ca = CertificateAuthority.init(
        base / "stranger-ca", name=STRANGER_CA_NAME, now=now - timedelta(days=60)
    )
    stranger = stranger_ca.issue_person(
        agency=AGENCY,
        name=PERSON_NAME,
        position=PERSON_POSITION,
        organization=AGENCY_NAME,
        not_before=now - timedelta(days=30),
    )
    stranger_ca.renew_crls(now)
    stranger_trust_dir = base / "stranger-trust"
    stranger_ca.export_trust(stranger_trust_dir)

    world = PkiWorld(
        base=base,
        ca=ca,
        ca_dir=ca_dir,
        trust_dir=trust_dir,
        person=person,
        person_ec=person_ec,
        org=org,
        org_ec=org_ec,
        other_person=other_person,
        expired=expired,
        revoked=revoked,
        stranger_ca=stranger_ca,
        stranger_trust_dir=stranger_trust_dir,
        stranger=stranger,
    )
    for label in (
        "person",
        "person_ec",
        "org",
        "org_ec",
        "other_person",
        "expired",
        "revoked",
        "stranger",
    ):
        world.p12[label] = write_p12(world.credentials(label), base / "p12" / f"{label}.p12")
    return world
