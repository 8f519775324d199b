"""A server process exits after it stopped serving even when a task refuses to end when cancelled: the task is
named in the log and the process exits 0 (asyncio.run alone would wait for it for ever)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import asyncio, atexit
    from chatdb_server import log
    from chatdb_server.server import runtime

    runtime.LEFTOVER_GRACE_S = 0.2
    atexit.register(lambda: print("exit handlers ran", flush=True))

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                continue  # refuses to end

    async def obliging() -> None:
        await asyncio.Event().wait()

    async def main() -> None:
        log.configure("info", "json")
        asyncio.ensure_future(stubborn())
        asyncio.ensure_future(obliging())
        await asyncio.sleep(0)
        await runtime._settle_leftover_tasks(0.0)
        print("not reached", flush=True)

    asyncio.run(main())
""")


def test_a_task_that_will_not_end_is_named_and_the_process_exits() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "not reached" not in done.stdout
    assert "exit handlers ran" in done.stdout
    output = done.stdout + done.stderr
    assert "server.tasks_left_running" in output and "stubborn" in output
    assert "obliging" not in output.split("server.tasks_left_running", 1)[1]
