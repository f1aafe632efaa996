from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from lienthong.edxml.agency import (
    AgencyCode,
    agency_code_json,
    is_valid_agency_code,
    parse_agency_code,
)
from lienthong.edxml.cli_code import code_command
from lienthong.edxml.errors import Code, EdxmlError, Severity


def parse(text: str) -> AgencyCode:
    code, problems = parse_agency_code(text)
    assert problems == []
    return code


class TestCanonicalCodes:
    def test_reads_the_four_groups_right_to_left(self) -> None:
        code = parse("001.02.03.H53")
        assert code.groups == ("001", "02", "03", "H53")
        assert (code.level4, code.level3, code.level2, code.level1) == code.groups
        assert code.canonical == str(code) == "001.02.03.H53"
        assert len(code.canonical) == 13

    @pytest.mark.parametrize(
        ("text", "level"),
        [
            ("000.00.00.H53", 1),
            ("000.00.01.H53", 2),
            ("000.00.32.H53", 2),
            ("000.01.01.H53", 3),
            ("000.20.31.H53", 3),
            ("001.01.01.H53", 4),
        ],
    )
    def test_level_is_the_deepest_non_zero_group(self, text: str, level: int) -> None:
        assert parse(text).level == level

    def test_parents_go_up_to_level_1(self) -> None:
        code = parse("001.01.01.H53")
        chain = []
        parent = code.parent
        while parent is not None:
            chain.append(parent.canonical)
            parent = parent.parent
        assert chain == ["000.01.01.H53", "000.00.01.H53", "000.00.00.H53"]
        assert [a.canonical for a in code.ancestors()] == chain

    def test_level_1_has_no_parent_and_no_ancestors(self) -> None:
        code = parse("000.00.00.G22")
        assert code.parent is None
        assert code.ancestors() == []

    def test_is_under_its_ancestors_only(self) -> None:
        office = parse("000.01.01.H53")
        assert office.is_under(parse("000.00.01.H53"))
        assert office.is_under(parse("000.00.00.H53"))
        assert not office.is_under(office)
        assert not office.is_under(parse("000.00.32.H53"))
        assert not office.is_under(parse("000.00.00.H41"))
        assert not parse("000.00.01.H53").is_under(office)

    @pytest.mark.parametrize(
        ("text", "letter", "kind"),
        [
            ("000.00.00.G22", "G", "central"),
            ("000.00.18.G12", "G", "central"),
            ("000.00.00.H41", "H", "province"),
            ("000.00.00.A53", "A", "other"),
            ("000.00.01.K36", "K", "other"),
            ("000.00.00.TT2", "T", "other"),
        ],
    )
    def test_letter_and_kind_guess(self, text: str, letter: str, kind: str) -> None:
        code = parse(text)
        assert code.level1 == text[-3:]
        assert code.letter == letter
        assert code.kind == kind

    def test_codes_are_frozen_values(self) -> None:
        code = parse("000.00.01.H53")
        assert code == AgencyCode("000", "00", "01", "H53")
        assert hash(code) == hash(AgencyCode("000", "00", "01", "H53"))
        with pytest.raises(AttributeError):
            code.level2 = "02"  # type: ignore[misc]

    @pytest.mark.parametrize("groups", [("0", "00", "00", "H41"), ("000", "00", "00", "41H")])
    def test_constructing_a_malformed_code_raises_the_typed_error(
        self, groups: tuple[str, str, str, str]
    ) -> None:
        with pytest.raises(EdxmlError) as info:
            AgencyCode(*groups)
        assert info.value.code is Code.AGENCY_CODE_INVALID


class TestTolerance:
    @pytest.mark.parametrize(
        ("text", "canonical", "level"),
        [
            ("28.22.H17", "000.28.22.H17", 3),
            ("01.02.G22", "000.01.02.G22", 3),
            ("01.K36", "000.00.01.K36", 2),
        ],
    )
    def test_legacy_short_forms_are_canonicalised_with_a_warning(
        self, text: str, canonical: str, level: int
    ) -> None:
        code, problems = parse_agency_code(text, "MessageHeader/From/OrganId")
        assert code.canonical == canonical
        assert code.level == level
        assert [p.code for p in problems] == [Code.AGENCY_CODE_LEGACY]
        assert problems[0].severity is Severity.WARNING
        assert problems[0].field == "MessageHeader/From/OrganId"
        assert canonical in problems[0].message_vi
        assert canonical in problems[0].message_en

    def test_surrounding_whitespace_is_stripped_with_a_warning(self) -> None:
        code, problems = parse_agency_code(" 000.00.01.H53\n")
        assert code.canonical == "000.00.01.H53"
        assert [p.code for p in problems] == [Code.AGENCY_CODE_WHITESPACE]
        assert not problems[0].is_error

    def test_whitespace_and_legacy_form_give_two_warnings(self) -> None:
        code, problems = parse_agency_code("\t01.K36 ")
        assert code.canonical == "000.00.01.K36"
        assert [p.code for p in problems] == [Code.AGENCY_CODE_WHITESPACE, Code.AGENCY_CODE_LEGACY]

    @pytest.mark.parametrize(
        ("text", "level", "parent"),
        [
            ("002.00.20.H13", 4, "000.00.20.H13"),
            ("001.00.20.TT2", 4, "000.00.20.TT2"),
            ("001.00.00.H41", 4, "000.00.00.H41"),
            ("000.05.00.H41", 3, "000.00.00.H41"),
        ],
    )
    def test_gaps_are_read_with_a_warning(self, text: str, level: int, parent: str) -> None:
        code, problems = parse_agency_code(text)
        assert code.canonical == text
        assert code.level == level
        assert code.has_gap
        assert code.parent is not None
        assert code.parent.canonical == parent
        assert [p.code for p in problems] == [Code.AGENCY_CODE_GAP]
        assert f"level {level}" in problems[0].message_en

    def test_ancestors_of_a_gapped_code_skip_the_empty_level(self) -> None:
        code = parse_agency_code("002.00.20.H13")[0]
        assert [a.canonical for a in code.ancestors()] == ["000.00.20.H13", "000.00.00.H13"]

    @pytest.mark.parametrize("text", ["000.00.00.H41", "000.01.01.H53", "001.01.01.H53"])
    def test_codes_without_gaps_have_no_gap(self, text: str) -> None:
        assert not parse(text).has_gap


INVALID = [
    "",
    "   ",
    "abc",
    "ABC",
    "H41",
    "000.00.00.411",
    "0000.00.00.H41",
    "000.00.00.H4",
    "000.00.00.H411",
    "000.00.00.h41",
    "000.0a.00.H41",
    "000.00.00.H41.1",
    "000-00-00-H41",
    "000.00.00 H41",
    "001.02.G22",
    "1.02.G22",
    "١٢٣.00.00.H41",
]


class TestInvalidCodes:
    @pytest.mark.parametrize("text", INVALID)
    def test_unreadable_codes_raise_the_typed_error(self, text: str) -> None:
        with pytest.raises(EdxmlError) as info:
            parse_agency_code(text, "To[1]/OrganId")
        problem = info.value.problem
        assert info.value.code is Code.AGENCY_CODE_INVALID
        assert problem.is_error
        assert problem.field == "To[1]/OrganId"
        assert "NNN.NN.NN.XNN" in problem.message_vi
        assert "NNN.NN.NN.XNN" in problem.message_en

    @pytest.mark.parametrize("text", INVALID)
    def test_unreadable_codes_are_not_valid(self, text: str) -> None:
        assert not is_valid_agency_code(text)


class TestStrictValidity:
    @pytest.mark.parametrize("text", ["000.00.00.G22", "000.20.31.H53", "002.00.20.H13"])
    def test_canonical_codes_are_valid(self, text: str) -> None:
        assert is_valid_agency_code(text)

    @pytest.mark.parametrize("text", ["28.22.H17", "01.K36", " 000.00.00.G22", "000.00.00.G22\n"])
    def test_legacy_and_padded_forms_are_not_valid(self, text: str) -> None:
        assert not is_valid_agency_code(text)


class TestJson:
    def test_describes_the_code(self) -> None:
        data = agency_code_json("000.01.32.H53")
        assert data == {
            "canonical": "000.01.32.H53",
            "level": 3,
            "parent": "000.00.32.H53",
            "level1": "H53",
            "letter": "H",
            "kind": "province",
            "groups": {"level4": "000", "level3": "01", "level2": "32", "level1": "H53"},
            "ancestors": ["000.00.32.H53", "000.00.00.H53"],
            "warnings": [],
        }

    def test_includes_warnings_as_problem_dicts_and_serialises(self) -> None:
        data = agency_code_json("28.22.H17")
        assert data["warnings"][0]["code"] == "AGENCY_CODE_LEGACY"
        assert data["warnings"][0]["severity"] == "warning"
        assert json.loads(json.dumps(data)) == data

    def test_accepts_an_agency_code(self) -> None:
        data = agency_code_json(AgencyCode("000", "00", "00", "G22"))
        assert data["level"] == 1
        assert data["parent"] is None

    def test_raises_on_an_unreadable_code(self) -> None:
        with pytest.raises(EdxmlError):
            agency_code_json("abc")


app = typer.Typer()
app.command()(code_command)
runner = CliRunner()


class TestCli:
    def test_prints_a_table_with_vietnamese_labels(self) -> None:
        result = runner.invoke(app, ["000.01.32.H53"])
        assert result.exit_code == 0
        assert "000.01.32.H53" in result.stdout
        assert "Mã đầy đủ" in result.stdout
        assert "Cấp" in result.stdout
        assert "000.00.32.H53" in result.stdout
        assert "tỉnh, thành phố" in result.stdout

    def test_prints_warnings_on_stderr(self) -> None:
        result = runner.invoke(app, ["01.K36"])
        assert result.exit_code == 0
        assert "000.00.01.K36" in result.stdout
        assert "AGENCY_CODE_LEGACY" in result.stderr

    def test_prints_json_keeping_vietnamese_characters(self) -> None:
        result = runner.invoke(app, ["002.00.20.H13", "--json"])
        assert result.exit_code == 0
        data = json.loads(result.stdout)
        assert data["canonical"] == "002.00.20.H13"
        assert data["level"] == 4
        assert data["warnings"][0]["code"] == "AGENCY_CODE_GAP"
        assert "Mã định danh" in result.stdout

    def test_unreadable_code_exits_2_with_the_typed_error_on_stderr(self) -> None:
        result = runner.invoke(app, ["000.00.00.411"])
        assert result.exit_code == 2
        assert result.stdout == ""
        assert "AGENCY_CODE_INVALID" in result.stderr
        assert "không đúng cấu trúc" in result.stderr
        assert "does not match" in result.stderr

    def test_unreadable_code_with_json_prints_the_error_as_json(self) -> None:
        result = runner.invoke(app, ["abc", "--json"])
        assert result.exit_code == 2
        assert result.stdout == ""
        error = json.loads(result.stderr)["error"]
        assert error["code"] == "AGENCY_CODE_INVALID"
        assert error["message_vi"].startswith("Mã định danh 'abc'")
        assert error["message_en"].startswith("Identification code 'abc'")
