"""The ``lienthong`` command. Each part adds its own sub-commands."""

from __future__ import annotations

import typer

from lienthong.edxml.cli import code_command, edxml_app
from lienthong.hub.cli import register as register_hub_commands

app = typer.Typer(
    help="lienthong — trục liên thông văn bản điện tử / national e-document exchange",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(edxml_app, name="edxml")
app.command("code")(code_command)
register_hub_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
