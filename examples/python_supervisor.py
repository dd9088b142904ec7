#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Supervise a few commands with tether from Python.

    PYTHONPATH=build/python /usr/bin/python3 examples/python_supervisor.py

1. tether.run(): a command with a timeout; on expiry it is SIGKILLed
   through its pidfd (never a reused pid) and TimeoutExpired is raised.
2. tether.Popen(autokill=True, nnp=True): a helper tied to this Python
   process; it cannot gain privileges by exec, is never a zombie, and dies
   when this process ends in any way - even by SIGKILL, where no finally:
   block or atexit handler would run.
3. tether.asyncio: several jobs at once, each awaited through its pidfd
   (loop.add_reader), no child watcher thread and no SIGCHLD handler; the
   ones still running at the deadline are killed, and each one's exit_info
   says how it ended.
"""

import asyncio
import signal
import sys

import tether
import tether.asyncio


def with_timeout():
    try:
        tether.run(['sleep', '10'], timeout=0.5, autokill=True, nnp=True)
    except tether.TimeoutExpired as e:
        print('run: %r killed after %.1f s' % (e.cmd, e.timeout))


def tied_helper():
    helper = tether.Popen(['sleep', '3600'], autokill=True, nnp=True)
    with open('/proc/%d/status' % helper.pid) as f:
        nnp = next(line.split()[1] for line in f if line.startswith('NoNewPrivs:'))
    print('helper: pid %d, pidfd %d, backend %s, NoNewPrivs %s' % (helper.pid, helper.pidfd, helper.backend, nnp))
    helper.release()  # dropping the last handle kills an autokill child...
    print('helper released: it is being killed by the kernel (or the emulation)')


async def jobs(deadline=1.0):
    cmds = {'quick': ['sleep', '0.1'], 'fails': ['sh', '-c', 'exit 3'],
            'crashes': ['sh', '-c', 'kill -SEGV $$'], 'slow': ['sleep', '30']}
    procs = {name: await tether.asyncio.create_subprocess_exec(*argv, autokill=True, nnp=True)
             for name, argv in cmds.items()}
    waits = {asyncio.ensure_future(p.wait()): name for name, p in procs.items()}
    done, pending = await asyncio.wait(waits, timeout=deadline)
    for fut in pending:
        procs[waits[fut]].kill()
    await asyncio.gather(*waits)
    for name, p in procs.items():
        ei = p.exit_info
        how = ('exit %d' % ei.exit_code if ei.exited else
               'signal %s%s' % (signal.Signals(ei.signal).name, ' (core dumped)' if ei.core_dumped else ''))
        print('job %-8s %s%s' % (name, how, ', killed at the deadline' if name == 'slow' else ''))


def main():
    print('tether %s, kernel features: %s, backend %s' % (
        tether.__version__, ' '.join(tether.feature_names()), tether.get_backend()))
    with_timeout()
    tied_helper()
    asyncio.run(jobs())
    return 0


if __name__ == '__main__':
    sys.exit(main())
