"""The ``battrace`` command line: thin wrappers over the services.

Every command takes ``--db`` (a SQLite path or a ``postgresql://`` URL; default: the
``BATTRACE_DATABASE_URL`` environment variable, else ``./battrace.db``) and ``--json`` for
machine-readable output. Errors are turned into output in one place, :func:`main`: one line on
stderr, or the JSON error shape on stdout with ``--json``; the exit code is 1.
"""

from __future__ import annotations

import sys

from battrace.cli import (
    alerts,
    codes,
    enterprises,
    events,
    export,
    log,
    serve,
    simulate,
    tokens,
)
from battrace.cli.common import app, err, print_json
from battrace.cli.figures import figures_app
from battrace.errors import BattraceError

# the command modules register their commands on the apps when imported
COMMAND_MODULES = (alerts, codes, enterprises, events, export, log, serve, simulate, tokens)
app.add_typer(figures_app)  # battrace figures KIND


def main(argv: list[str] | None = None) -> int:
    """Run the command line; the one place that turns errors into output and exit codes."""
    args = sys.argv[1:] if argv is None else argv
    try:
        # standalone mode: click prints usage errors itself and exits 2
        app(args=args, standalone_mode=True)
    except BattraceError as exc:
        if "--json" in args:
            print_json(exc.to_dict())
        else:
            err.print(f"error: {exc.message}", markup=False)
        return 1
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


__all__ = ["app", "main"]


if __name__ == "__main__":
    raise SystemExit(main())
