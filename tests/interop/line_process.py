"""A child process read line by line, for the interop and seed drivers: its stdout lines are
queued (turned into items by `parse`), its stderr lines kept, and `expect` waits for an item."""
import queue
import subprocess
import threading
import time


class Failure(Exception):
    pass


EOF_ITEM = object()


class LineProcess:
    def __init__(self, label, popen, argv, parse=lambda line: line, **popen_args):
        """`popen(argv, **kwargs)` starts the process (subprocess.Popen, or a namespace's popen)."""
        self.label = label
        self.parse = parse
        self.items = queue.Queue()
        self.seen = []  # what expect() has taken, for dump()
        self.stderr = []
        self.started = time.monotonic()
        popen_args.setdefault("stdin", subprocess.PIPE)
        self.proc = popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, **popen_args)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            if line.strip():
                self.items.put(self.parse(line))
        self.items.put(EOF_ITEM)

    def _read_stderr(self):
        for line in self.proc.stderr:
            if line.strip():
                self.stderr.append(line.rstrip("\n"))

    def expect(self, what, match, timeout, required=True):
        """The first truthy `match(item)` within `timeout` seconds; None when not `required`
        and the time is up. Fails if the process closes its stdout first."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if not required:
                    return None
                raise Failure(f"{self.label}: no {what} within {timeout:g} s")
            try:
                item = self.items.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            if item is EOF_ITEM:
                self.items.put(EOF_ITEM)  # later calls fail the same way
                raise Failure(f"{self.label}: closed its stdout (rc={self.returncode(1)}) before {what}")
            self.seen.append(item)
            result = match(item)
            if result:
                return result

    def write(self, line):
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise Failure(f"{self.label}: cannot write {line!r}, process gone")

    def returncode(self, wait):
        """The exit code after up to `wait` seconds, or None if it still runs."""
        try:
            return self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None

    def dump(self, show=str, last=30):
        """The items seen (and any not yet taken) and the stderr lines, for a failure report."""
        while True:
            try:
                item = self.items.get_nowait()
            except queue.Empty:
                break
            if item is not EOF_ITEM:
                self.seen.append(item)
        lines = [f"  {self.label} (rc={self.proc.poll()}) stdout:"] + [f"    {show(i)}" for i in self.seen[-last:]]
        lines += [f"  {self.label} stderr:"] + [f"    {line}" for line in self.stderr[-last:]]
        return "\n".join(lines)
