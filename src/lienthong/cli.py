"""The ``lienthong`` command. Each part adds its own sub-commands."""

from __future__ import annotations

import typer

from lienthong.client.cli import register as register_client_commands
from lienthong.core.version import python_version, version
from lienthong.edxml.cli import code_command, edxml_app
from lienthong.hub.cli import register as register_hub_commands
from lienthong.office.cli import office_app
from lienthong.pki.cli_ca import pki_app
from lienthong.pki.cli_groups import sign_app, verify_app
from lienthong.pki.cli_pdf import sign_app as _pdf_commands  # noqa: F401 - registers `pdf`
from lienthong.pki.cli_xml import register as register_xml_commands

app = typer.Typer(
    help="lienthong — trục liên thông văn bản điện tử / national e-document exchange",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(edxml_app, name="edxml")
app.command("code")(code_command)
app.add_typer(pki_app, name="pki")
register_xml_commands(sign_app, verify_app)
app.add_typer(sign_app, name="sign")
app.add_typer(verify_app, name="verify")
register_hub_commands(app)
register_client_commands(app)
app.add_typer(office_app, name="office")


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"lienthong {version()} (Python {python_version()})")
        raise typer.Exit()


@app.callback()
def _root(
    _version: bool = typer.Option(
        False,
        "--version",
        callback=_show_version,
        is_eager=True,
        help="In phiên bản / print the version",
    ),
) -> None:
    """lienthong — trục liên thông văn bản điện tử / national e-document exchange."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
