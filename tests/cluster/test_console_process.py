"""KubectlProcess on its own (cluster/console/process.py), with a stand-in program for kubectl."""
from __future__ import annotations

import asyncio
import sys

import pytest

from cluster.console.process import Bounds, KubectlProcess

pytestmark = pytest.mark.asyncio


async def test_output_cut_after_the_program_has_exited_still_says_why(tmp_path):
    """The program prints past the bound and exits before the reader gets to the limit (as a
    fast kubectl does on a loaded machine): what was shown is cut, and the end says so."""
    process = KubectlProcess([sys.executable, "-c", "print('x' * 5000)"], {}, str(tmp_path),
                             Bounds(10.0, 300, 1.0))
    shown = []

    async def output(stream: str, text: str) -> None:
        async with asyncio.timeout(10):
            await process.proc.wait()   # hold the reader until the program has been reaped
        shown.append(text)

    ended = await process.run(output)
    assert ended.exit_code == 0
    assert ended.reason == "output-limit", ended
    assert len("".join(shown)) <= 300
