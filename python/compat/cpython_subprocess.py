# SPDX-License-Identifier: MIT
"""CPython's own test_subprocess.py against tether.Popen.

    PYTHONPATH=build/python /usr/bin/python3 python/compat/cpython_subprocess.py [--json OUT]

Runs Debian's libpython3.X-testsuite test.test_subprocess twice, each in a
fresh interpreter: as shipped (subprocess.Popen), then with
subprocess.Popen replaced by tether.Popen before the test module is
imported (so its own Popen subclasses, subprocess.run(), call() and
check_output() all use tether). Reports how many of the tests that pass
with subprocess.Popen also pass with tether.Popen, and lists the others,
marking the ones that are out of scope: they mock or inspect CPython's
private _posixsubprocess/_fork_exec machinery, or use preexec_fn,
user/group/extra_groups (refused by tether.Popen on purpose).
"""

import argparse
import inspect
import json
import os
import re
import subprocess
import sys
import time

OUT_OF_SCOPE = [
    (re.compile(r'preexec_fn'), 'preexec_fn (refused by tether.Popen)'),
    (re.compile(r'\b(user|group|extra_groups)\s*='), 'user/group/extra_groups (refused by tether.Popen)'),
    (re.compile(r'_posixsubprocess|_fork_exec|_USE_VFORK|_USE_POSIX_SPAWN|_posix_spawn|'
                r'fork_exec|_can_fork_exec'), 'mocks or inspects CPython\'s private _posixsubprocess'),
    (re.compile(r"mock\.patch\(['\"]subprocess\.os\.waitpid"),
     'mocks os.waitpid, which tether.Popen does not call (it waits through the pidfd)'),
]


def child(mode, out):
    """Run the suite in this interpreter; write {test id: outcome} to out."""
    import unittest
    if mode == 'tether':
        import tether
        subprocess.Popen = tether.Popen
    from test import support
    from test import test_subprocess as ts
    support.verbose = False
    outcomes = {}

    class Result(unittest.TextTestResult):
        def addSuccess(self, test):
            super().addSuccess(test)
            outcomes[test.id()] = 'pass'

        def addFailure(self, test, err):
            super().addFailure(test, err)
            outcomes[test.id()] = 'fail'

        def addError(self, test, err):
            super().addError(test, err)
            outcomes[test.id()] = 'error'

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            outcomes[test.id()] = 'skip'

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            outcomes[test.id()] = 'pass'

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            outcomes[test.id()] = 'fail'

    loader = unittest.TestLoader()
    suite = loader.loadTestsFromModule(ts)
    with open(os.devnull, 'w') as devnull:
        runner = unittest.TextTestRunner(stream=devnull, resultclass=Result, verbosity=0)
        runner.run(suite)
    with open(out, 'w') as f:
        json.dump(outcomes, f, indent=0, sort_keys=True)


def test_source(test_id):
    from test import test_subprocess as ts
    _, cls, meth = test_id.rsplit('.', 2)
    try:
        return inspect.getsource(getattr(getattr(ts, cls), meth))
    except (AttributeError, OSError, TypeError):
        return ''


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--json', help='write the comparison here')
    ap.add_argument('--child', choices=['subprocess', 'tether'], help=argparse.SUPPRESS)
    ap.add_argument('--out', help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        child(a.child, a.out)
        return 0

    work = os.environ.get('TMPDIR', '/tmp')
    results = {}
    for mode in ('subprocess', 'tether'):
        out = os.path.join(work, 'tether-compat-%s-%d.json' % (mode, os.getpid()))
        t0 = time.monotonic()
        r = subprocess.run([sys.executable, __file__, '--child', mode, '--out', out], timeout=3600)
        with open(out) as f:
            results[mode] = json.load(f)
        os.unlink(out)
        print('%s: %d tests in %.0f s (runner exit %d)' % (mode, len(results[mode]), time.monotonic() - t0,
                                                         r.returncode), file=sys.stderr)

    base, teth = results['subprocess'], results['tether']
    passing = sorted(t for t, o in base.items() if o == 'pass')
    also = [t for t in passing if teth.get(t) == 'pass']
    lost = [t for t in passing if teth.get(t) != 'pass']
    reasons = {}
    for t in lost:
        src = test_source(t)
        reasons[t] = next((why for rx, why in OUT_OF_SCOPE if rx.search(src)), None)
    out_of_scope = [t for t in lost if reasons[t]]
    in_scope = [t for t in lost if not reasons[t]]

    print('CPython %s test_subprocess: %d tests; %d pass with subprocess.Popen; '
          '%d of those also pass with tether.Popen' % (
              '.'.join(map(str, sys.version_info[:3])), len(base), len(passing), len(also)))
    print('not passing with tether.Popen, out of scope (%d):' % len(out_of_scope))
    for t in out_of_scope:
        print('  %s [%s] -> %s' % (t, teth.get(t, 'missing'), reasons[t]))
    print('not passing with tether.Popen, in scope (%d):' % len(in_scope))
    for t in in_scope:
        print('  %s [%s]' % (t, teth.get(t, 'missing')))
    if a.json:
        with open(a.json, 'w') as f:
            json.dump({'python': sys.version.split()[0], 'tests': len(base), 'pass_subprocess': len(passing),
                       'pass_both': len(also), 'out_of_scope': {t: reasons[t] for t in out_of_scope},
                       'in_scope': {t: teth.get(t) for t in in_scope}}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
