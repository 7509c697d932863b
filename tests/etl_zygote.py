"""A Python process with the ETL already imported that forks one child per command line it is given.

The reliability tests run the ETL some 100 times: a fresh interpreter spends ~1.7 s importing pandas, DuckDB
and the ETL, and reading the reference CSVs, before it reads a byte of the file. A forked child starts with all
of that in memory, then behaves as `python -m etl ARGS` would: its own process, stdout and stderr, exit code,
address space limit and time limit (SIGALRM, whose default action ends it).

Protocol (one JSON object per line): on stdin {"args", "cwd", "stdout", "stderr", "memory", "seconds"},
on stdout {"returncode"} (negative: killed by that signal), once the child has ended.
"""
from __future__ import annotations

import json
import os
import resource
import signal
import sys

import etl.__main__ as cli
from etl.perimeter import resolve


def _child(req: dict) -> None:
    code = 70
    try:
        os.chdir(req["cwd"])
        resource.setrlimit(resource.RLIMIT_AS, (req["memory"], req["memory"]))
        for fd, path in ((1, req["stdout"]), (2, req["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), fd)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        signal.alarm(int(req["seconds"]))
        code = cli.run(req["args"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:   # what an uncaught exception does to `python -m etl`: a traceback, exit 1
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)


def main() -> None:
    resolve()   # the reference tables read once (a cache of the module), as the imports
    for line in sys.stdin:
        req = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(req)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":
    main()
