"""Settings that let test servers register the databases tests use on this machine.

ChatDB refuses loopback hosts and SQLite files outside ``allowed_sqlite_dirs`` by default
(``chatdb_server.sql.admission``). Tests register the local PostgreSQL and MariaDB
(127.0.0.1 / localhost / ::1) and SQLite files under the system temp dir (where pytest's
``tmp_path`` lives) and the Spider data beside the repository, so their servers allow
exactly those.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from chatdb_server.settings import Settings
from chatdb_server.sql.admission import SourceAdmission
from tests.support.spider import REPO_ROOT, spider_dir

TRUSTED_HOSTS = ("127.0.0.1", "localhost", "::1")
"""The local test database servers, by address and by name."""


def _trusted_sqlite_dirs() -> list[Path]:
    candidates = [Path(tempfile.gettempdir()), REPO_ROOT.parent / "shared" / "data", spider_dir()]
    found: list[Path] = []
    for candidate in candidates:
        if candidate.is_dir() and candidate.resolve() not in found:
            found.append(candidate.resolve())
    return found


TRUSTED_TARGET_SETTINGS: dict[str, str] = {
    "allowed_hosts": ",".join(TRUSTED_HOSTS),
    "allowed_sqlite_dirs": ",".join(str(d) for d in _trusted_sqlite_dirs()),
}
"""Settings field → value, for ``Settings.from_env({}, **TRUSTED_TARGET_SETTINGS)``."""

TRUSTED_TARGET_ENV: dict[str, str] = {f"CHATDB_{name.upper()}": value
                                      for name, value in TRUSTED_TARGET_SETTINGS.items()}
"""The same as ``CHATDB_*`` environment variables, for ``chatdb serve`` child processes."""


def trusted_admission(data_dir: Path, metadata_url: str) -> SourceAdmission:
    """The admission rules of a test server with ``data_dir`` and ``metadata_url``, trusting the test targets."""
    return SourceAdmission.from_settings(Settings.from_env({}, data_dir=data_dir, metadata_url=metadata_url,
                                                           **TRUSTED_TARGET_SETTINGS))
