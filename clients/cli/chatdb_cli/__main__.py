"""``python -m chatdb_cli``: the same command as ``chatdb``, with only the client installed."""

import sys

from chatdb_cli.app import main

sys.exit(main())
