"""The hub with its payloads on an S3-compatible store (a real local moto server)."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3
from fastapi.testclient import TestClient

from lienthong.client.vdxp import VdxpClient
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization, PromulgationInfo
from lienthong.hub import directory
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings
from support import as_sent


def test_payloads_go_to_the_bucket_and_come_back_intact(
    moto: str, database_url: str, tmp_path: Path
) -> None:
    bucket = f"lienthong-{uuid.uuid4().hex[:8]}"
    hub = Hub(
        Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            blob_url=f"s3://{bucket}/payloads?endpoint={moto}",
        )
    )
    try:
        with hub.session() as s:
            directory.add_agency(s, code="000.00.00.H53", name="UBND tỉnh Tây Ninh")
            directory.add_agency(s, code="000.00.00.G12", name="Bộ Tài chính")
            a = directory.add_system(s, system_id="a", agencies=["000.00.00.H53"])
            b = directory.add_system(s, system_id="b", agencies=["000.00.00.G12"])
        package = build(
            Edoc(
                sender=Organization(organ_id="000.00.00.H53"),
                recipients=[Organization(organ_id="000.00.00.G12")],
                code=DocumentCode("7", "UBND-KT"),
                promulgation=PromulgationInfo("Tây Ninh", "2026/11/27"),
                subject="Về việc đối soát ngân sách",
            )
        )
        with TestClient(create_app(hub, start_worker=False)) as http:
            doc_id = VdxpClient("http://testserver", "a", a.secret, http=http).send_edoc(
                package, from_code="000.00.00.H53"
            )["DocId"]
            hub.dispatch_now()
            got = VdxpClient("http://testserver", "b", b.secret, http=http).get_edoc(doc_id)
        assert as_sent(got) == package  # plus this hub's TraceHeader
        s3 = boto3.client("s3", endpoint_url=moto, region_name="us-east-1")
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
        assert len(keys) == 1 and keys[0].startswith("payloads/")
    finally:
        hub.close()
