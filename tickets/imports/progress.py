"""Progress reporting: a text bar on the command line; the upload task reports to its job."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    """A tqdm-like bar on stderr: ``导入工单 写入 [#######.......] 50% 50000/100000 12.3s``."""

    def __init__(self, label: str, stream=None, width: int = 30):
        self.label, self.stream, self.width = label, stream or sys.stderr, width
        self.started = time.monotonic()
        self._last = (None, -1)

    def __call__(self, done: int, total: int, phase: str = "") -> None:
        percent = int(done * 100 / total) if total else 100
        if (phase, percent) == self._last:
            return
        self._last = (phase, percent)
        filled = self.width * percent // 100
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r{self.label} {phase} [{bar}] {percent:3d}% {done}/{total} {elapsed:.1f}s")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
