"""Arrival numbers: sequential per register per year, shared by paper and electronic
documents, distinct and gap-free under concurrent registration (SQLite and PostgreSQL)."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from lienthong.edxml.builder import build
from lienthong.office import incoming, numbering, tenants
from lienthong.office.accounts import Principal
from lienthong.office.runtime import Office

from .officekit import PASSWORD, PROVINCE, Province, edoc

CLERKS = 20


def _arrive(office: Office, n: int) -> list[int]:
    ids = []
    for i in range(n):
        data = build(edoc(subject=f"Văn bản thứ {i}", number=str(100 + i)))
        received = office.run(
            lambda s, d=data, i=i: incoming.receive(
                s, data=d, message_id=f"msg-{i:04d}", blobs=office.blobs, trust=office.trust
            )
        )
        ids.append(received.documents[0].id)
    return ids


def test_twenty_clerks_registering_at_once_get_twenty_consecutive_numbers(
    office: Office, province: Province
) -> None:
    def add_clerks(s: Any) -> None:
        for i in range(CLERKS):
            tenants.add_user(
                s,
                username=f"vanthu{i:02d}",
                agency=PROVINCE,
                role="clerk",
                full_name=f"Văn thư {i}",
                password=PASSWORD,
            )

    office.run(add_clerks)
    clerks: list[Principal] = [province.login(office, f"vanthu{i:02d}") for i in range(CLERKS)]
    documents = _arrive(office, CLERKS)
    barrier = threading.Barrier(CLERKS)
    numbers: dict[int, int] = {}
    errors: list[BaseException] = []

    def clerk(i: int) -> None:
        try:
            barrier.wait(timeout=60)
            doc = office.run_once(  # no hidden retry: every registration must succeed first time
                incoming.register,
                who=clerks[i],
                document_id=documents[i],
                register_id=province.register_id,
            )
            numbers[documents[i]] = doc.arrival_number or 0
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(CLERKS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert sorted(numbers.values()) == list(range(1, CLERKS + 1))
    year = office.read(lambda s: incoming.get(s, who=clerks[0], document_id=documents[0]).year)
    assert year is not None
    assert (
        office.read(lambda s: numbering.last_number(s, register_id=province.register_id, year=year))
        == CLERKS
    )


def test_paper_and_electronic_documents_share_the_sequence_and_registers_are_separate(
    office: Office, province: Province
) -> None:
    clerk = province.login(office, "vanthu")
    [electronic] = _arrive(office, 1)
    paper = office.run(
        lambda s: incoming.enter_paper(
            s,
            who=clerk,
            data=incoming.PaperInput(
                register_id=province.register_id,
                issuer="Sở Y tế (mẫu)",
                number="7",
                notation="SYT-VP",
                subject="Về phòng chống dịch",
            ),
            scan=("scan.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n"),
            blobs=office.blobs,
        )
    )
    assert paper.arrival_number == 1
    doc = office.run(
        lambda s: incoming.register(
            s, who=clerk, document_id=electronic, register_id=province.register_id
        )
    )
    assert doc.arrival_number == 2
    # a second register of the agency starts its own sequence
    second = office.run(lambda s: tenants.add_register(s, agency=PROVINCE, name="Sổ văn bản mật"))
    other = office.run(
        lambda s: incoming.enter_paper(
            s,
            who=clerk,
            data=incoming.PaperInput(
                register_id=second.id,
                issuer="Công an tỉnh",
                number="1",
                notation="CAT",
                subject="x",
            ),
            scan=None,
            blobs=office.blobs,
        )
    )
    assert other.arrival_number == 1


def test_a_failed_registration_gives_its_number_to_the_next_one(
    office: Office, province: Province
) -> None:
    """The counter moves with the document in one transaction: a number is never skipped by
    a failure, and a registered document keeps its number (documents are never deleted)."""
    clerk = province.login(office, "vanthu")
    first, second = _arrive(office, 2)

    class Boom(Exception):
        pass

    def fail_after_numbering(s: Any) -> None:
        incoming.register(s, who=clerk, document_id=first, register_id=province.register_id)
        raise Boom()

    with contextlib.suppress(Boom):
        office.run(fail_after_numbering)
    doc = office.run(
        lambda s: incoming.register(
            s, who=clerk, document_id=second, register_id=province.register_id
        )
    )
    assert doc.arrival_number == 1
    again = office.run(
        lambda s: incoming.register(
            s, who=clerk, document_id=first, register_id=province.register_id
        )
    )
    assert again.arrival_number == 2
