"""``python -m chatdb_cli``: the same command as ``chatdb``, with only the client installed."""

import sys

from chatdb_cli.app import exit_status, main

sys.exit(exit_status(main()))
