"""``lienthong edxml inspect | validate | build`` through typer's CliRunner."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from lienthong.cli import app
from lienthong.edxml.builder import build
from lienthong.edxml.model import Edoc, Organization, OtherInfo

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


def run(runner: CliRunner, *args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def json_of(result: Result) -> Any:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return json.loads(result.stdout)


def assert_clean_exit(result: Result, code: int) -> None:
    """The command ended through its own exit code, not an uncaught exception."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output


def unzipped_sha256(raw_package: bytes) -> str:
    text = re.search(rb"<edXML:ContentTransferEncoded[^>]*>([^<]*)<", raw_package)
    assert text is not None
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(text.group(1)))) as archive:
        (name,) = archive.namelist()
        return hashlib.sha256(archive.read(name)).hexdigest()


# --------------------------------------------------------------------------- inspect --json


def test_inspect_json_of_an_edoc(runner: CliRunner, sample: Callable[[str], Path]) -> None:
    path = sample("edoc_revocation.edxml")
    result = run(runner, "edxml", "inspect", path, "--json")
    assert_clean_exit(result, 0)
    data = json_of(result)
    assert {
        "kind",
        "from",
        "to",
        "document_id",
        "code",
        "promulgation",
        "document_type",
        "subject",
        "priority",
        "business",
        "attachments",
    } <= set(data)
    assert data["kind"] == "edoc"
    assert data["from"]["organ_id"] == "000.00.00.G22"
    assert data["from"]["organ_name"] == "Văn phòng Chính phủ"
    assert [t["organ_id"] for t in data["to"]] == [
        "000.00.00.H41",
        "000.00.00.H14",
        "000.00.00.G17",
    ]
    assert data["to"][0]["organ_name"] == "UBND Tỉnh Nghệ An"
    assert data["document_id"] == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert data["code"] == {"number": "7816", "notation": "VPCP-TTĐT"}
    assert data["promulgation"] == {"place": "Hà Nội", "date": "2018-09-28"}
    assert ISO_DATE.fullmatch(data["promulgation"]["date"])
    assert data["document_type"] == {"type": 1, "type_detail": 0, "type_name": "Công văn"}
    assert data["subject"] == "V/v kết nối, liên thông phần mềm quản lý văn bản"
    assert data["priority"] == 0
    assert data["business"]["doc_type"] == 1
    assert data["business"]["reason"] == "Thu hồi văn bản điện tử"
    (att,) = data["attachments"]
    assert {"content_id", "name", "content_type", "size", "sha256"} <= set(att)
    assert att["content_id"] == "cid:209"
    assert att["name"] == "1896_QD-TTg_m_294779.doc"
    assert att["content_type"] == "application/zip"
    assert att["size"] == 388347
    assert att["sha256"] == unzipped_sha256(path.read_bytes())


def test_inspect_json_of_a_status(runner: CliRunner, sample: Callable[[str], Path]) -> None:
    result = run(runner, "edxml", "inspect", sample("status_finish_06.edxml"), "--json")
    assert_clean_exit(result, 0)
    data = json_of(result)
    assert data["kind"] == "status"
    assert data["from"]["organ_id"] == "000.00.00.H41"
    assert data["from"]["organ_name"] == "UBND Tỉnh Nghệ An"
    status = data["status"]
    assert status["code"] == "06"
    assert status["description"] == "Văn thư: Ban hành văn bản đến, hoàn thành xử lý"
    stamp = datetime.fromisoformat(status["timestamp"])
    assert stamp.replace(tzinfo=None) == datetime(2015, 9, 20, 11, 8, 36)
    assert stamp.utcoffset() == timedelta(hours=7)  # the wire carries Vietnam local time
    assert status["response_for"]["organ_id"] == "000.00.00.G22"
    assert status["response_for"]["code"] == "7816/VPCP-TTĐT"
    assert status["response_for"]["document_id"] == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert status["response_for"]["promulgation_date"] == "2015-09-30"


def test_inspect_json_of_every_status_sample_has_its_code(
    runner: CliRunner, status_sample_name: str, sample: Callable[[str], Path]
) -> None:
    result = run(runner, "edxml", "inspect", sample(status_sample_name), "--json")
    assert_clean_exit(result, 0)
    code = re.search(r"_(\d{2})\.edxml$", status_sample_name)
    assert json_of(result)["status"]["code"] == (code.group(1) if code else "01")


# --------------------------------------------------------------------------- inspect (human)


def test_inspect_shows_vietnamese_labels(runner: CliRunner, sample: Callable[[str], Path]) -> None:
    result = run(runner, "edxml", "inspect", sample("edoc_update.edxml"))
    assert_clean_exit(result, 0)
    out = result.stdout
    for label in ("Loại gói tin", "Nơi gửi", "Nơi nhận", "Số, ký hiệu", "Ban hành", "Trích yếu"):
        assert label in out
    assert "Văn bản (edoc)" in out
    assert "7816/VPCP-TTĐT" in out
    assert "Cập nhật văn bản điện tử" in out
    assert "Tệp đính kèm" in out and "388347" in out
    assert not out.lstrip().startswith("{")


def test_inspect_status_shows_the_status_label(
    runner: CliRunner, sample: Callable[[str], Path]
) -> None:
    result = run(runner, "edxml", "inspect", sample("status_finish_06.edxml"))
    assert_clean_exit(result, 0)
    assert "Trạng thái (status)" in result.stdout
    assert "06 Hoàn thành xử lý" in result.stdout
    assert "Thời điểm" in result.stdout


def test_inspect_unreadable_package(runner: CliRunner, sample: Callable[[str], Path]) -> None:
    result = run(runner, "edxml", "inspect", sample("edoc_new.edxml"), "--json")
    assert_clean_exit(result, 2)
    error = json_of(result)["error"]
    assert error["code"] == "EDXML_STRAY_BYTES"
    assert "'1212'" in error["message_vi"] and "'1212'" in error["message_en"]


def test_inspect_missing_file(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "edxml", "inspect", tmp_path / "không-có.edxml")
    assert_clean_exit(result, 2)
    assert "EDXML_MALFORMED" in result.output


def test_inspect_json_survives_odd_digits(
    runner: CliRunner, tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    # "²".isdigit() is true but int("²") fails: the value must come back as text
    path = tmp_path / "odd.edxml"
    path.write_bytes(build(make_edoc(other_info=OtherInfo(priority="²")), check=False))
    result = run(runner, "edxml", "inspect", path, "--json")
    assert_clean_exit(result, 0)
    assert json_of(result)["priority"] == "²"


# --------------------------------------------------------------------------- validate


@pytest.mark.parametrize(
    "name", ["edoc_revocation.edxml", "edoc_update.edxml", "edoc_replacement.edxml", "status.edxml"]
)
def test_validate_valid_sample_exits_0(
    name: str, runner: CliRunner, sample: Callable[[str], Path]
) -> None:
    result = run(runner, "edxml", "validate", sample(name))
    assert_clean_exit(result, 0)
    assert "Hợp lệ / valid" in result.stdout
    as_json = run(runner, "edxml", "validate", sample(name), "--json")
    assert_clean_exit(as_json, 0)
    data = json_of(as_json)
    assert data["ok"] is True
    assert data["kind"] in ("edoc", "status")
    assert [p for p in data["problems"] if p["severity"] == "error"] == []


def test_validate_invalid_package_exits_1(
    runner: CliRunner, tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    edoc = make_edoc(
        recipients=[Organization(organ_id="000.00.00.G22"), Organization(organ_id="000.00.00.G22")],
        other_info=OtherInfo(priority="9"),
    )
    path = tmp_path / "sai.edxml"
    path.write_bytes(build(edoc, check=False))
    result = run(runner, "edxml", "validate", path)
    assert_clean_exit(result, 1)
    assert "Không hợp lệ / invalid" in result.stdout
    assert "EDXML_DUPLICATE_RECIPIENT" in result.stdout
    as_json = run(runner, "edxml", "validate", path, "--json")
    assert_clean_exit(as_json, 1)
    data = json_of(as_json)
    assert data["ok"] is False
    found = {(p["code"], p["field"], p["severity"]) for p in data["problems"]}
    assert found == {
        ("EDXML_DUPLICATE_RECIPIENT", "MessageHeader/To[2]/OrganId", "error"),
        ("EDXML_OUT_OF_RANGE", "MessageHeader/OtherInfo/Priority", "error"),
    }
    assert all(p["message_vi"] and p["message_en"] for p in data["problems"])


def test_validate_warnings_only_exits_0(
    runner: CliRunner, tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    edoc = make_edoc()
    path = tmp_path / "cu.edxml"
    data = build(edoc).replace(b">000.00.12.H41</", b">12.H41</")  # legacy short code
    path.write_bytes(data)
    result = run(runner, "edxml", "validate", path, "--json")
    assert_clean_exit(result, 0)
    problems = json_of(result)["problems"]
    assert {(p["code"], p["severity"]) for p in problems} == {("AGENCY_CODE_LEGACY", "warning")}


def test_validate_unreadable_package_exits_2(
    runner: CliRunner, sample: Callable[[str], Path]
) -> None:
    result = run(runner, "edxml", "validate", sample("edoc_new.edxml"))
    assert_clean_exit(result, 2)
    assert "EDXML_STRAY_BYTES" in result.stderr
    assert "byte lạ" in result.stderr
    as_json = run(runner, "edxml", "validate", sample("edoc_new.edxml"), "--json")
    assert_clean_exit(as_json, 2)
    data = json_of(as_json)
    assert data["ok"] is False
    assert data["error"]["code"] == "EDXML_STRAY_BYTES"
    assert data["error"]["severity"] == "error"


def test_validate_edoc_sample_reports_the_placeholder_attachment(
    runner: CliRunner, sample: Callable[[str], Path]
) -> None:
    result = run(runner, "edxml", "validate", sample("edoc.edxml"), "--json")
    assert_clean_exit(result, 1)
    errors = [p for p in json_of(result)["problems"] if p["severity"] == "error"]
    assert [p["code"] for p in errors] == ["EDXML_BASE64_INVALID"]


# --------------------------------------------------------------------------- build


def edoc_spec(attachment: Path) -> dict[str, Any]:
    """A build specification in the ``inspect --json`` shape."""
    return {
        "kind": "edoc",
        "from": {
            "organ_id": "000.00.12.H41",
            "organization_in_charge": "UBND tỉnh Nghệ An",
            "organ_name": "Sở Thông tin và Truyền thông tỉnh Nghệ An",
            "organ_add": "Số 16 Trường Thi, Thành phố Vinh",
            "email": "stttt@nghean.gov.vn",
            "telephone": "0238 3598 555",
        },
        "to": [
            {"organ_id": "000.00.00.G22", "organ_name": "Văn phòng Chính phủ"},
            {"organ_id": "000.00.00.H14", "organ_name": "UBND tỉnh Cao Bằng"},
        ],
        "code": {"number": "215", "notation": "STTTT-VP"},
        "promulgation": {"place": "Nghệ An", "date": "2024-03-05"},
        "document_type": {"type": 1, "type_detail": 0, "type_name": "Công văn"},
        "subject": "V/v triển khai kết nối <trục liên thông> & báo cáo",
        "content": "Đề nghị các đơn vị hoàn thành trước ngày 31/3/2024.",
        "signer": {
            "competence": "KT. GIÁM ĐỐC",
            "position": "Phó Giám đốc",
            "full_name": "Lê Văn Hùng",
        },
        "due_date": "2024-03-31",
        "priority": 2,
        "other_info": {
            "sphere_of_promulgation": "Liên thông văn bản quốc gia",
            "promulgation_amount": 5,
            "page_amount": 3,
            "appendixes": ["Phụ lục I: Danh sách đơn vị"],
        },
        "response_for": [
            {
                "organ_id": "000.00.00.G22",
                "code": "7816/VPCP-TTĐT",
                "promulgation_date": "2015-09-30",
                "document_id": "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
            }
        ],
        "steering_type": 1,
        "to_places": ["Như trên;", "Lưu: VT, VP."],
        "trace": [{"organ_id": "000.00.12.H41", "timestamp": "2024-03-05T08:30:00+07:00"}],
        "business": {
            "doc_type": 0,
            "reason": "Văn bản điện tử mới",
            "paper": 0,
            "staff": {"department": "Văn thư", "staff": "Nguyễn Thị Ngọc Trâm"},
        },
        "attachments": [
            {
                "content_id": "cid:7f3c9a2e-1b4d-4c5e-8f60-123456789abc",
                "name": "Công văn 215-STTTT-VP.signed.pdf",
                "description": "Văn bản ký số",
                "content_type": "application/pdf",
                "path": attachment.name,  # relative to the specification's folder
            }
        ],
    }


def assert_contains(actual: Any, expected: Any, where: str = "") -> None:
    """Every value of ``expected`` is in ``actual`` (extra keys in ``actual`` are fine)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            assert_contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_contains(a, e, f"{where}[{i}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def test_build_then_inspect_gives_back_the_spec(
    runner: CliRunner, pdf_file: Path, tmp_path: Path
) -> None:
    spec = edoc_spec(pdf_file)
    spec_path = tmp_path / "đặc-tả.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "goi-tin.edxml"
    result = run(runner, "edxml", "build", spec_path, "-o", out)
    assert_clean_exit(result, 0)
    assert out.is_file()
    assert not list(tmp_path.glob("*.part"))

    inspected = run(runner, "edxml", "inspect", out, "--json")
    assert_clean_exit(inspected, 0)
    data = json_of(inspected)
    attachments = spec.pop("attachments")
    assert_contains(data, spec)
    assert data["document_id"] == "000.00.12.H41,2024/03/05,215/STTTT-VP"
    (att,) = data["attachments"]
    expected = {k: v for k, v in attachments[0].items() if k != "path"}
    assert_contains(att, expected)
    assert att["size"] == pdf_file.stat().st_size
    assert att["sha256"] == hashlib.sha256(pdf_file.read_bytes()).hexdigest()

    validated = run(runner, "edxml", "validate", out)
    assert_clean_exit(validated, 0)


def test_build_a_status(runner: CliRunner, tmp_path: Path) -> None:
    spec = {
        "kind": "status",
        "from": {"organ_id": "000.00.00.H41", "organ_name": "UBND tỉnh Nghệ An"},
        "status": {
            "code": "03",
            "description": "Văn thư: Tiếp nhận văn bản điện tử, vào sổ văn bản đến",
            "timestamp": "2024-03-05T14:20:11+07:00",
            "response_for": {
                "organ_id": "000.00.00.G22",
                "code": "7816/VPCP-TTĐT",
                "document_id": "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT",
                "promulgation_date": "2015-09-30",
            },
        },
        "staff": {"department": "Văn thư", "staff": "Nguyễn Thị Ngọc Trâm"},
    }
    spec_path = tmp_path / "status.json"
    spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "status.edxml"
    assert_clean_exit(run(runner, "edxml", "build", spec_path, "-o", out), 0)
    data = json_of(run(runner, "edxml", "inspect", out, "--json"))
    assert_contains(data, spec)


def test_inspect_output_of_a_built_package_can_be_built_again(
    runner: CliRunner, tmp_path: Path
) -> None:
    spec = {
        "from": {"organ_id": "000.00.12.H41"},
        "to": [{"organ_id": "000.00.00.G22"}],
        "code": {"number": "16", "notation": "STTTT-VP"},
        "promulgation": {"place": "Nghệ An", "date": "2024-03-05"},
        "subject": "V/v thử nghiệm",
        "trace": [{"organ_id": "000.00.12.H41", "timestamp": "2024-03-05T08:30:00+07:00"}],
    }
    first_spec, first = tmp_path / "a.json", tmp_path / "a.edxml"
    first_spec.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    assert_clean_exit(run(runner, "edxml", "build", first_spec, "-o", first), 0)
    inspected = run(runner, "edxml", "inspect", first, "--json")
    second_spec, second = tmp_path / "b.json", tmp_path / "b.edxml"
    second_spec.write_text(inspected.stdout, encoding="utf-8")
    assert_clean_exit(run(runner, "edxml", "build", second_spec, "-o", second), 0)
    assert second.read_bytes() == first.read_bytes()


def _write_spec(tmp_path: Path, spec: Any) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        (lambda s: s.update(ten_file="x"), "ten_file"),
        (lambda s: s["from"].update(organ_code="x"), "organ_code"),
        (lambda s: s["attachments"][0].update(duong_dan="x"), "duong_dan"),
        (lambda s: s["attachments"][0].update(path="không-có.pdf"), "không-có.pdf"),
        (lambda s: s["attachments"][0].pop("path"), "path"),
        (lambda s: s.update(kind="thư"), "kind"),
        (lambda s: s.update(to={"organ_id": "000.00.00.G22"}), "to"),
        (lambda s: s.update(priority=True), "priority"),
    ],
    ids=[
        "unknown-field",
        "unknown-nested-field",
        "unknown-attachment-field",
        "missing-attachment-file",
        "attachment-without-path",
        "unknown-kind",
        "to-not-a-list",
        "boolean",
    ],
)
def test_bad_spec_is_a_typed_error(
    change: Callable[[dict[str, Any]], None],
    mentions: str,
    runner: CliRunner,
    pdf_file: Path,
    tmp_path: Path,
) -> None:
    spec = edoc_spec(pdf_file)
    change(spec)
    out = tmp_path / "out.edxml"
    result = run(runner, "edxml", "build", _write_spec(tmp_path, spec), "-o", out)
    assert_clean_exit(result, 2)
    assert "EDXML_SPEC_INVALID" in result.stderr
    assert mentions in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("change", "mentions"),
    [
        (lambda s: s["from"].update(organ_id=["000.00.12.H41"]), "organ_id"),
        (lambda s: s["business"].update(reason=["a", "b"]), "reason"),
        # a text where a list is expected must not be split into one entry per character
        (lambda s: s["other_info"].update(appendixes="Phụ lục I"), "appendixes"),
    ],
    ids=["list-for-organ-id", "list-for-reason", "text-for-appendixes"],
)
def test_wrongly_typed_spec_value_is_a_typed_error(
    change: Callable[[dict[str, Any]], None],
    mentions: str,
    runner: CliRunner,
    pdf_file: Path,
    tmp_path: Path,
) -> None:
    spec = edoc_spec(pdf_file)
    change(spec)
    result = run(runner, "edxml", "build", _write_spec(tmp_path, spec), "-o", tmp_path / "o.edxml")
    assert_clean_exit(result, 2)
    assert "EDXML_SPEC_INVALID" in result.stderr
    assert mentions in result.stderr


def test_spec_that_is_not_json(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text("{ không phải JSON", encoding="utf-8")
    result = run(runner, "edxml", "build", path, "-o", tmp_path / "out.edxml")
    assert_clean_exit(result, 2)
    assert "EDXML_SPEC_INVALID" in result.stderr


def test_spec_breaking_output_rules_exits_1_and_lists_them(
    runner: CliRunner, pdf_file: Path, tmp_path: Path
) -> None:
    spec = edoc_spec(pdf_file)
    spec["code"]["notation"] = "X" * 31
    spec["priority"] = 7
    del spec["subject"]
    out = tmp_path / "out.edxml"
    result = run(runner, "edxml", "build", _write_spec(tmp_path, spec), "-o", out)
    assert_clean_exit(result, 1)
    for code in ("EDXML_TOO_LONG", "EDXML_OUT_OF_RANGE", "EDXML_REQUIRED"):
        assert code in result.stdout
    assert not out.exists()
    assert not list(tmp_path.glob("*.part"))


def test_control_character_in_spec_leaves_no_partial_file(
    runner: CliRunner, pdf_file: Path, tmp_path: Path
) -> None:
    spec = edoc_spec(pdf_file)
    spec["subject"] = "V/v thử\x01nghiệm"
    out = tmp_path / "out.edxml"
    result = run(runner, "edxml", "build", _write_spec(tmp_path, spec), "-o", out)
    assert_clean_exit(result, 2)
    assert "EDXML_SPEC_INVALID" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([pdf_file.name, "spec.json"])


def test_output_into_a_missing_folder_is_a_typed_error(
    runner: CliRunner, pdf_file: Path, tmp_path: Path
) -> None:
    spec_path = _write_spec(tmp_path, edoc_spec(pdf_file))
    result = run(runner, "edxml", "build", spec_path, "-o", tmp_path / "không-có" / "out.edxml")
    assert_clean_exit(result, 2)
