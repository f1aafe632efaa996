"""Identifiers outside the standard form (``vxp.saas.03``, the national platform's hosted
units) and ``null`` organisation ids, as real platform traffic carries them: an error
unless registered, a warning naming the standard form when registered; ``null``, empty
and blank OrganIds of an optional ResponseFor count as absent, with a warning."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from lienthong.cli import app
from lienthong.edxml.agency import is_nonstandard_identifier, level1_of
from lienthong.edxml.builder import BuildError, build, prepare
from lienthong.edxml.errors import Code, Problem, Severity
from lienthong.edxml.model import Edoc, Organization, ResponseFor, Status, TraceHeader
from lienthong.edxml.parser import parse
from lienthong.edxml.validate import errors, validate

SAAS = "vxp.saas.03"
MakeEdoc = Callable[..., Edoc]
MakeStatus = Callable[..., Status]


def recorded_shape(make_edoc: MakeEdoc, *, response_for_organ: str = "null") -> Edoc:
    """A new document as recorded from the platform's test environment: the hosted unit in
    From, in TraceHeader and ``null`` in ResponseFor/OrganId."""
    return prepare(
        make_edoc(
            sender=Organization(organ_id=SAAS, organ_name="Đơn vị dùng chung 03"),
            recipients=[Organization(organ_id="000.00.12.H41", organ_name="Sở TT&TT Nghệ An")],
            response_for=[
                ResponseFor(
                    organ_id=response_for_organ, code="", promulgation_date="", document_id=""
                )
            ],
            trace_headers=[TraceHeader(organ_id=SAAS, timestamp="2025/06/12 09:41:07")],
        )
    )


def found(problems: list[Problem]) -> set[tuple[Code, str, Severity]]:
    return {(p.code, p.field, p.severity) for p in problems}


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("for_output", [False, True], ids=["input", "output"])
def test_an_unregistered_nonstandard_identifier_is_an_error_that_says_so(
    for_output: bool, make_edoc: MakeEdoc
) -> None:
    edoc = recorded_shape(make_edoc, response_for_organ="")
    for registered in (set(), {"vxp.saas.04"}, lambda code: False):
        [problem] = errors(validate(edoc, for_output=for_output, registered=registered))
        assert (problem.code, problem.field) == (
            Code.AGENCY_CODE_INVALID,
            "MessageHeader/From/OrganId",
        )
        assert SAAS in problem.message_en and "NNN.NN.NN.XNN" in problem.message_en
        assert "not registered in the directory" in problem.message_en
        assert "không có trong danh bạ" in problem.message_vi
    # without any directory to ask, the message stays about the form only (as before)
    [plain] = errors(validate(edoc, for_output=for_output))
    assert plain.code is Code.AGENCY_CODE_INVALID and "registered" not in plain.message_en


@pytest.mark.parametrize("for_output", [False, True], ids=["input", "output"])
def test_a_registered_nonstandard_identifier_is_a_warning_naming_the_standard_form(
    for_output: bool, make_edoc: MakeEdoc, make_status: MakeStatus
) -> None:
    edoc = recorded_shape(make_edoc, response_for_organ="")
    edoc.recipients.append(Organization(organ_id=" vxp.saas.05"))
    registry = {SAAS, "vxp.saas.05"}
    problems = validate(edoc, for_output=for_output, registered=registry)
    assert errors(problems) == []
    assert found(problems) == {
        (Code.AGENCY_CODE_NONSTANDARD, "MessageHeader/From/OrganId", Severity.WARNING),
        (Code.AGENCY_CODE_NONSTANDARD, "MessageHeader/To[2]/OrganId", Severity.WARNING),
        (Code.AGENCY_CODE_WHITESPACE, "MessageHeader/To[2]/OrganId", Severity.WARNING),
    }
    warning = next(p for p in problems if p.code is Code.AGENCY_CODE_NONSTANDARD)
    assert "NNN.NN.NN.XNN" in warning.message_vi and "NNN.NN.NN.XNN" in warning.message_en
    assert SAAS in warning.message_vi
    # a status answering the hosted unit: its ResponseFor/OrganId is checked the same way
    status = make_status(response_for=ResponseFor(SAAS, "12/UBND", "2025/06/12", "x"))
    assert found(validate(status, for_output=for_output, registered=registry.__contains__)) == {
        (Code.AGENCY_CODE_NONSTANDARD, "MessageHeader/ResponseFor/OrganId", Severity.WARNING)
    }
    assert [p.code for p in errors(validate(status, for_output=for_output))] == [
        Code.AGENCY_CODE_INVALID
    ]


@pytest.mark.parametrize("value", ["null", "NULL", "", "   "])
def test_a_null_or_blank_response_for_organ_id_of_a_document_is_absent_with_a_warning(
    value: str, make_edoc: MakeEdoc
) -> None:
    edoc = prepare(make_edoc(response_for=[ResponseFor(value, "12/UBND", "2025/06/12", "x")]))
    for for_output in (False, True):
        assert found(validate(edoc, for_output=for_output)) == {
            (Code.AGENCY_CODE_ABSENT, "MessageHeader/ResponseFor[1]/OrganId", Severity.WARNING)
        }


def test_the_recorded_null_response_for_is_a_warning_not_an_error(make_edoc: MakeEdoc) -> None:
    edoc = recorded_shape(make_edoc)  # <OrganId>null</OrganId>, every other child empty
    assert found(validate(edoc, registered={SAAS})) == {
        (Code.AGENCY_CODE_NONSTANDARD, "MessageHeader/From/OrganId", Severity.WARNING),
        (Code.AGENCY_CODE_ABSENT, "MessageHeader/ResponseFor[1]/OrganId", Severity.WARNING),
    }


def test_a_present_response_for_organ_id_of_a_document_is_checked_softly(
    make_edoc: MakeEdoc,
) -> None:
    edoc = prepare(
        make_edoc(response_for=[ResponseFor("vxp.saas.07", "12/UBND", "2025/06/12", "x")])
    )
    field = "MessageHeader/ResponseFor[1]/OrganId"
    assert found(validate(edoc)) == {(Code.AGENCY_CODE_INVALID, field, Severity.WARNING)}
    assert found(validate(edoc, for_output=True)) == {
        (Code.AGENCY_CODE_INVALID, field, Severity.ERROR)
    }
    assert found(validate(edoc, registered={"vxp.saas.07"})) == {
        (Code.AGENCY_CODE_NONSTANDARD, field, Severity.WARNING)
    }


@pytest.mark.parametrize("value", ["null", " NULL ", "  "])
def test_a_null_organ_id_where_one_is_required_is_missing(
    value: str, make_edoc: MakeEdoc, make_status: MakeStatus
) -> None:
    edoc = make_edoc()
    edoc.recipients[0].organ_id = value
    assert found(validate(edoc, registered={"null"})) == {
        (Code.REQUIRED, "MessageHeader/To[1]/OrganId", Severity.ERROR)
    }
    status = make_status(response_for=ResponseFor(value, "12/UBND", "2025/06/12", "x"))
    assert found(validate(status)) == {
        (Code.REQUIRED, "MessageHeader/ResponseFor/OrganId", Severity.ERROR)
    }


# --------------------------------------------------------------------------- identifiers


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("vxp.saas.03", True),
        ("VN:GOV:000.00.00.G22:sub", True),
        ("00.53.W00", False),  # a provincial hub's platform id reads as a legacy code
        ("000.00.00.H41", False),  # a standard code is not "non-standard"
        ("28.22.H17", False),  # nor is a legacy short form
        ("null", False),
        ("NULL", False),
        ("", False),
        ("vxp saas", False),
        (".vxp", False),
        ("x" * 33, False),
        ("Sở Y tế", False),
    ],
)
def test_what_may_be_registered_as_a_nonstandard_identifier(text: str, ok: bool) -> None:
    assert is_nonstandard_identifier(text) is ok


def test_a_nonstandard_identifier_has_no_level_1_part() -> None:
    assert level1_of("000.01.31.H41") == "H41"
    assert level1_of("01.02.G22") == "G22"
    assert level1_of(SAAS) is None  # not "03": the last dotted part is no level-1 code


# --------------------------------------------------------------------------- builder


def test_the_builder_writes_a_nonstandard_identifier_only_when_registered(
    make_edoc: MakeEdoc,
) -> None:
    with pytest.raises(BuildError) as info:
        build(recorded_shape(make_edoc))
    assert [p.code for p in info.value.problems] == [Code.AGENCY_CODE_INVALID]
    data = build(recorded_shape(make_edoc), registered={SAAS})
    package = parse(data)
    assert isinstance(package, Edoc)
    assert package.sender.organ_id == SAAS and package.trace_headers[0].organ_id == SAAS
    assert package.response_for[0].organ_id == "null"  # read as written (faithful model)
    assert package.document_id is not None and package.document_id.startswith(SAAS + ",")


# --------------------------------------------------------------------------- CLI


def _validate(*args: str | Path) -> Result:
    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})
    return runner.invoke(app, ["edxml", "validate", *[str(a) for a in args], "--json"])


def test_the_cli_refuses_an_unregistered_identifier_and_accepts_a_registered_one(
    tmp_path: Path, make_edoc: MakeEdoc
) -> None:
    path = tmp_path / "saas.edxml"
    path.write_bytes(build(recorded_shape(make_edoc), registered={SAAS}))

    refused = _validate(path)
    assert refused.exit_code == 1, refused.output
    answer = json.loads(refused.stdout)
    assert answer["ok"] is False
    invalid = [p for p in answer["problems"] if p["severity"] == "error"]
    assert [(p["code"], p["field"]) for p in invalid] == [
        ("AGENCY_CODE_INVALID", "MessageHeader/From/OrganId")
    ]
    assert "not registered in the directory" in invalid[0]["message_en"]

    accepted = _validate(path, "--registered", SAAS)
    assert accepted.exit_code == 0, accepted.output
    codes = {(p["code"], p["severity"]) for p in json.loads(accepted.stdout)["problems"]}
    assert codes == {("AGENCY_CODE_NONSTANDARD", "warning"), ("AGENCY_CODE_ABSENT", "warning")}


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_the_cli_reads_registered_identifiers_from_a_directory_export(
    suffix: str, tmp_path: Path, make_edoc: MakeEdoc
) -> None:
    path = tmp_path / "saas.edxml"
    path.write_bytes(build(recorded_shape(make_edoc), registered={SAAS}))
    export = tmp_path / f"directory{suffix}"
    rows = [
        {"code": "000.00.12.H41", "name": "Sở TT&TT", "nonstandard": False},
        {"code": SAAS, "name": "Đơn vị dùng chung 03", "nonstandard": True},
    ]
    if suffix == ".json":
        export.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    else:
        lines = ["code,name,nonstandard"] + [
            f"{r['code']},{r['name']},{r['nonstandard']}" for r in rows
        ]
        export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _validate(path, "--directory", export)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True

    broken = tmp_path / "broken.json"
    broken.write_text("{}", encoding="utf-8")
    unreadable = _validate(path, "--directory", broken)
    assert unreadable.exit_code == 2
    assert "Traceback" not in unreadable.output
