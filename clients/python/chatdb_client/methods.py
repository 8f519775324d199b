"""Client methods made from operations, so that each RPC is written once (in
:mod:`chatdb_client.operations`) and appears in both clients with the operation's
signature and docstring.

``ChatDBClient.get_table = sync_unary(ops.get_table)`` makes a method that builds the
operation from its arguments and runs it with the client's ``_call``; the ``async_*``
makers do the same with coroutines and async iterators for
:class:`~chatdb_client.AsyncChatDBClient`. Listings give two methods: ``iter_*``, which
follows ``next_page_token`` lazily, and ``list_*``, which collects every page.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine, Generator, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

from chatdb_client.operations import Listing, Operation

P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=Callable[..., Any])

_PAGED = "Reads the listing a page at a time, as the iteration goes."
_COLLECTED = "Reads every page and returns all the items."


def sync_unary(factory: Callable[P, Operation[T]]) -> Callable[Concatenate[Any, P], T]:
    """A method making one call of the operation and returning what its reader makes of the reply."""
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self._call(factory(*args, **kwargs))  # type: ignore[no-any-return]

    return _like(method, factory, "{}")


def sync_stream(factory: Callable[P, Operation[T]]) -> Callable[Concatenate[Any, P], Generator[T, None, None]]:
    """A method returning an iterator over the messages of a server stream; closing it cancels the call."""
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> Generator[T, None, None]:
        return self._stream(factory(*args, **kwargs))  # type: ignore[no-any-return]

    return _like(method, factory, "Iterator[{}]")


def sync_pages(factory: Callable[P, Listing[T]]) -> Callable[Concatenate[Any, P], Iterator[T]]:
    """A method returning a lazy iterator over every item of a listing, one page call at a time."""
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> Iterator[T]:
        listing = factory(*args, **kwargs)
        token = ""
        while True:
            page = self._call(listing.page(token))
            yield from page.items
            if not page.next_page_token:
                return
            token = page.next_page_token

    return _like(method, factory, "Iterator[{}]", _PAGED)


def sync_list(factory: Callable[P, Listing[T]]) -> Callable[Concatenate[Any, P], list[T]]:
    """A method returning every item of a listing, all pages read."""
    pages = sync_pages(factory)

    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> list[T]:
        return list(pages(self, *args, **kwargs))

    return _like(method, factory, "list[{}]", _COLLECTED)


def async_unary(factory: Callable[P, Operation[T]]) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, T]]:
    """A coroutine method making one call of the operation."""
    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self._call(factory(*args, **kwargs))  # type: ignore[no-any-return]

    return _like(method, factory, "{}")


def async_stream(factory: Callable[P, Operation[T]]) -> Callable[Concatenate[Any, P], AsyncGenerator[T, None]]:
    """A method returning an async iterator over the messages of a server stream; ``aclose()`` cancels the call."""
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncGenerator[T, None]:
        return self._stream(factory(*args, **kwargs))  # type: ignore[no-any-return]

    return _like(method, factory, "AsyncIterator[{}]")


def async_pages(factory: Callable[P, Listing[T]]) -> Callable[Concatenate[Any, P], AsyncIterator[T]]:
    """A method returning a lazy async iterator over every item of a listing."""
    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        listing = factory(*args, **kwargs)
        token = ""
        while True:
            page = await self._call(listing.page(token))
            for item in page.items:
                yield item
            if not page.next_page_token:
                return
            token = page.next_page_token

    return _like(method, factory, "AsyncIterator[{}]", _PAGED)


def async_list(factory: Callable[P, Listing[T]]) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, list[T]]]:
    """A coroutine method returning every item of a listing, all pages read."""
    pages = async_pages(factory)

    async def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> list[T]:
        return [item async for item in pages(self, *args, **kwargs)]

    return _like(method, factory, "list[{}]", _COLLECTED)


def _like(method: M, factory: Callable[..., Any], returns: str, note: str = "") -> M:
    """``method`` named and documented as ``factory``, with its signature plus ``self`` (so ``help()``
    and ``inspect.signature`` show the parameters a caller passes)."""
    functools.update_wrapper(method, factory, assigned=("__name__", "__qualname__"), updated=())
    method.__doc__ = (factory.__doc__ or "") + (f"\n\n    {note}" if note else "")
    signature = inspect.signature(factory)
    self_parameter = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    reply = signature.return_annotation
    inner = str(reply).removeprefix("Operation[").removeprefix("Listing[").removesuffix("]")
    method.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[self_parameter, *signature.parameters.values()], return_annotation=returns.format(inner))
    return method
