"""argilla-server's own command line, with rbkit's in-process search engine registered first.

Run by the argilla-server virtual environment's Python as a script (so that `sql_search`
beside it is importable), with the same arguments as `python -m argilla_server`:

    argilla-venv/bin/python launch.py database migrate
    argilla-venv/bin/python launch.py start --host 127.0.0.1 --port 6900
    argilla-venv/bin/python launch.py worker --num-workers 1

The server and the worker both look the engine up by name (`ARGILLA_SEARCH_ENGINE`), so both
must import it before argilla-server handles anything; doing it here covers every command.
"""

from __future__ import annotations

import sql_search  # noqa: F401  (registers the "rbkit-sql" engine on import)
from argilla_server.cli import app

if __name__ == "__main__":
    app()
