"""Whether a grammar of constrained decoding accepts a statement, decided by the engine vLLM decodes
with (xgrammar), character by character, to its end."""

from __future__ import annotations

from typing import Any

import pytest


class GrammarMatcher:
    """One grammar compiled once, matched against many statements."""

    def __init__(self, ebnf: str) -> None:
        self._xgrammar = _xgrammar()
        self._compiled = self._xgrammar.GrammarCompiler(self._xgrammar.TokenizerInfo([])).compile_grammar(
            self._xgrammar.Grammar.from_ebnf(ebnf))

    def accepts(self, sql: str) -> bool:
        """Whether ``sql`` is a whole sentence of the grammar."""
        matcher = self._xgrammar.GrammarMatcher(self._compiled, terminate_without_stop_token=True)
        return bool(matcher.accept_string(sql)) and bool(matcher.is_terminated())


def _xgrammar() -> Any:
    try:
        import xgrammar
    except ImportError:  # the serving extra is not installed
        pytest.skip("xgrammar (installed with vllm) is needed to match grammars")
    return xgrammar
