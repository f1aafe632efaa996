"""Certificate checks "at now" are cached, and a new CRL is never answered from the cache."""

from __future__ import annotations

from typing import Any

from lienthong.pki.revocation import check_certificate


def test_a_repeated_check_is_served_from_the_cache(ca: Any, person_creds: Any) -> None:
    trust = ca.trust_store()
    first = check_certificate(person_creds.certificate, extra_certs=person_creds.chain, trust=trust)
    again = check_certificate(person_creds.certificate, extra_certs=person_creds.chain, trust=trust)
    assert first.reason is None and again is first


def test_a_revocation_is_seen_at_once_despite_the_cache(fresh_ca: Any) -> None:
    creds = fresh_ca.issue_person(agency="000.00.00.H41", name="Phạm Thu Hà", position="Văn thư")
    before = check_certificate(
        creds.certificate, extra_certs=creds.chain, trust=fresh_ca.trust_store()
    )
    assert before.reason is None
    fresh_ca.revoke(creds.certificate.serial_number, reason="keyCompromise")
    after = check_certificate(
        creds.certificate, extra_certs=creds.chain, trust=fresh_ca.trust_store()
    )
    assert after.revoked is True and after.reason is not None
    assert after.reason.value == "SIG_REVOKED"
