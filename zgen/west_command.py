"""The `west zgen` extension command: forwards its arguments to the zgen CLI,
so `west zgen new ...` is `zgen new ...` run inside a west workspace."""
from __future__ import annotations

import sys

from west.commands import WestCommand


class ZgenCommand(WestCommand):
    def __init__(self):
        super().__init__(
            "zgen",
            "Zephyr TinyML apps from one YAML manifest (zgen)",
            "Runs zgen; `west zgen --help` lists its commands.",
            accepts_unknown_args=True,
        )

    def do_add_parser(self, parser_adder):
        # No options of our own: everything, --help included, goes to zgen.
        return parser_adder.add_parser(self.name, help=self.help, description=self.description, add_help=False)

    def do_run(self, args, unknown):
        from zgen.cli import main

        sys.exit(main(unknown))
