"""The ChatDB console: connect, train, ask and see what happened, in a browser.

A client of the public API like any other: every page is built from calls of the Python SDK's
asyncio client made with the signed-in person's API key, so it shows exactly what a gRPC caller
would get, and every action is authorised and audited by the services themselves.

>>> from chatdb_console import ConsoleConfig, create_app
>>> app = create_app(ConsoleConfig(target="127.0.0.1:50051", secret=new_secret()))
"""

from chatdb_console.app import create_app
from chatdb_console.config import ConsoleConfig, load_or_create_secret, new_secret
from chatdb_console.host import ConsoleServer

__all__ = ["ConsoleConfig", "ConsoleServer", "create_app", "load_or_create_secret", "new_secret"]
