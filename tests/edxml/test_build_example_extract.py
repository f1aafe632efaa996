"""Writing a package by hand and taking one apart: ``edxml build --example`` gives a spec
that builds, an unknown field names the valid ones, ``DocumentId`` is derived when left out,
attachment paths are relative to the spec, and ``edxml extract`` writes the attachments of a
package to a folder (safe names, nothing overwritten)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner, Result

from lienthong.cli import app
from lienthong.edxml.builder import build
from lienthong.edxml.model import Attachment, Edoc
from lienthong.edxml.parser import parse
from support import PDF_BYTES


def run(*args: str | Path) -> Result:
    return CliRunner(env={"COLUMNS": "300", "NO_COLOR": "1"}).invoke(app, [str(a) for a in args])


def test_the_example_spec_builds_a_valid_package(tmp_path: Path) -> None:
    example = run("edxml", "build", "--example")
    assert example.exit_code == 0, example.output
    spec = json.loads(example.stdout)
    folder = tmp_path / "spec"
    folder.mkdir()
    (folder / "spec.json").write_text(example.stdout, encoding="utf-8")
    # the attachment is read next to the spec file, not from the working directory
    (folder / spec["attachments"][0]["path"]).write_bytes(PDF_BYTES)
    out = tmp_path / "out.edxml"
    built = run("edxml", "build", folder / "spec.json", "-o", out)
    assert built.exit_code == 0, built.output
    assert run("edxml", "validate", out).exit_code == 0
    package = parse(out)
    try:
        assert isinstance(package, Edoc)
        # DocumentId derived: OrganId,yyyy/MM/dd,number/notation
        assert package.document_id == "000.00.12.H41,2024/03/05,215/STTTT-VP"
        assert package.attachments[0].name == "Công văn 215-STTTT-VP.pdf"
        assert package.attachments[0].content is not None
        assert package.attachments[0].content.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    finally:
        package.close()


def test_build_help_documents_paths_and_the_derived_document_id() -> None:
    text = " ".join(run("edxml", "build", "--help").output.split())
    assert "relative to the specification file" in text
    assert "OrganId,yyyy/MM/dd,number/notation" in text
    assert "``" not in text


def test_an_unknown_field_lists_the_valid_ones(tmp_path: Path) -> None:
    spec = json.loads(run("edxml", "build", "--example").stdout)
    spec["code"] = {"code_number": "215", "code_notation": "STTTT-VP"}
    spec.pop("attachments")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    result = run("edxml", "build", path, "-o", tmp_path / "o.edxml")
    assert result.exit_code == 2
    flat = " ".join(result.output.split())
    assert "unknown field(s) code_notation, code_number" in flat
    assert "valid fields: notation, number" in flat


def _package_with(tmp_path: Path, make_edoc: Callable[..., Edoc], *names: str) -> Path:
    from lienthong.edxml.attachments import Blob

    edoc = make_edoc()
    edoc.attachments = [
        Attachment(
            name=n, content_type="application/pdf", content=Blob.from_bytes(PDF_BYTES + n.encode())
        )
        for n in names
    ]
    path = tmp_path / "in.edxml"
    path.write_bytes(build(edoc))
    return path


def test_extract_writes_every_attachment_under_a_safe_name(
    tmp_path: Path, make_edoc: Callable[..., Edoc]
) -> None:
    names = ("Quyết định 123.pdf", "../../etc/passwd", "Quyết định 123.pdf")
    package = _package_with(tmp_path, make_edoc, *names)
    out = tmp_path / "out"
    result = run("edxml", "extract", package, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["Quyết định 123.pdf", "passwd", "Quyết định 123 (2).pdf"]
    )
    for entry, name in zip(report["written"], names, strict=True):
        data = Path(entry["path"]).read_bytes()
        assert data == PDF_BYTES + name.encode()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert Path(entry["path"]).parent == out
    assert not (tmp_path / "etc").exists()

    again = run("edxml", "extract", package, "-o", out)
    assert again.exit_code == 2 and "--force" in again.output
    assert run("edxml", "extract", package, "-o", out, "--force").exit_code == 0


def test_extract_of_an_unreadable_package_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.edxml"
    bad.write_bytes(b"<edXML>broken")
    result = run("edxml", "extract", bad, "-o", tmp_path / "out", "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"].startswith("EDXML_")
    assert not (tmp_path / "out").exists()
