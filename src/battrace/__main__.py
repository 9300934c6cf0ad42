"""``battrace`` and ``python -m battrace``: the command line, imported when it runs.

Kept this small on purpose: a worker process started with ``spawn`` (the report writer, the
rule and figure workers of ``battrace serve``) first runs its parent's main script again, as
``__mp_main__``. With the command line itself as that script, every worker imported every
command and what they use (ibis, DuckDB, pandas, the simulator ...): 0.8 s to import on a
quiet core, three workers at once, while the first reports after a start waited for the writer.
"""

from __future__ import annotations


def main() -> int:
    """Run the command line (:func:`battrace.cli.main`)."""
    from battrace.cli import main as run

    return run()


if __name__ == "__main__":
    raise SystemExit(main())
