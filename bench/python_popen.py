# SPDX-License-Identifier: MIT
"""Python spawn benchmark: tether.Popen(['true']).wait() against subprocess.Popen's.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_popen.py [--quick] [--csv FILE]
        [--rss 64M,4G] [--md FILE] [--c-calls]

Throughput (spawns per second, a spawn being Popen(['true']).wait()) of
subprocess.Popen, tether.Popen without lifecycle keywords, and
tether.Popen with autoreap, autoreap+nnp and autoreap+nnp+autokill (each
on the backend the process would use; a backend that cannot serve them is
reported as such). Measured at each Python process size given by --rss (the
interpreter holds a touched ballast of that size); each round visits every
size and, at each size, every method, so that drift on a shared machine
hits them alike; the figure is the median of the rounds.
Each round visits every size and, at each size, every method. Rows go to --csv in bench/run.sh's
format (part,method,backend,param,metric,value,unit); a Markdown table to
--md and stdout.

--c-calls adds, per tether.Popen row, the C calls alone that it makes
(tether._tether's spawn, wait and release: same program, flags, file
actions and signals), so that one run shows apart what the Python layer
costs and what the C library (the emulation, where it serves the
keywords) costs.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import tether
from tether import _popen, _tether

UNITS = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}


def size(s):
    s = s.strip().upper()
    return int(s[:-1]) * UNITS[s[-1]] if s[-1] in UNITS else int(s)


def rss_bytes():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) * 1024
    return 0


KEYWORDS = (('autoreap', dict(autoreap=True)),
            ('autoreap+nnp', dict(autoreap=True, nnp=True)),
            ('autoreap+nnp+autokill', dict(autokill=True, nnp=True)))


def c_calls(kw):
    """What tether.Popen(['true'], **kw).wait() asks of the C layer, and nothing else."""
    autokill = kw.get('autokill', False)
    autoreap = kw.get('autoreap', autokill)
    flags = ((_tether.CLONE_AUTOREAP if autoreap else 0) | (_tether.CLONE_NNP if kw.get('nnp') else 0) |
             (_tether.CLONE_PIDFD_AUTOKILL if autokill else 0))
    actions = [(_tether.ACT_CLOSE_ALL_BUT, [])]  # close_fds=True, no pass_fds

    def run():
        child = _tether.spawn(b'true', ['true'], None, actions, flags=flags, search_path=True,
                              sigdefault=_popen._RESTORE_SIGNALS)
        child.wait()
        child.release()
    return run


def methods(with_c_calls=False):
    yield 'subprocess.Popen', None, lambda: subprocess.Popen(['true']).wait()
    yield 'tether.Popen', 'plain', lambda: tether.Popen(['true']).wait()
    for label, kw in KEYWORDS:
        yield 'tether.Popen ' + label, kw, (lambda kw=kw: tether.Popen(['true'], **kw).wait())
    if with_c_calls:
        yield 'C calls', 'plain', c_calls({})
        for label, kw in KEYWORDS:
            yield 'C calls ' + label, kw, c_calls(kw)


def backend_of(kw):
    if kw is None:
        return '-'
    try:
        p = tether.Popen(['true'], **({} if kw == 'plain' else kw))
    except OSError as e:
        return 'refused: %s' % os.strerror(e.errno)
    p.wait()
    return p.backend


def measure(ms, sizes, n, rounds):
    """{(method, size): [spawns per second per round]}, {size: RSS reached}.

    Each round visits every size, and at each size every method, so that
    drift on a shared machine falls on all of them alike: the ballast is
    made (and filled, so that every page is resident) and dropped again per
    size and round.
    """
    rates = {(name, size): [] for name, _, _ in ms for size in sizes}
    reached = {}
    for r in range(rounds):
        order = ms[r % len(ms):] + ms[:r % len(ms)]  # no method always first after the ballast
        for size in sizes:
            ballast = None
            base = rss_bytes()
            if size > base:
                ballast = b'\x01' * (size - base)
            reached[size] = rss_bytes()
            for name, _, fn in order:
                t0 = time.perf_counter()
                for _ in range(n):
                    fn()
                rates[(name, size)].append(n / (time.perf_counter() - t0))
            del ballast
    return rates, reached


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--quick', action='store_true', help='small counts: a smoke run')
    ap.add_argument('--rss', default='64M,4G', help='Python process sizes to measure at (default 64M,4G)')
    ap.add_argument('--n', type=int, help='spawns per method per round')
    ap.add_argument('--rounds', type=int, help='rounds')
    ap.add_argument('--csv', help='append rows to this CSV')
    ap.add_argument('--md', help='write the Markdown table here')
    ap.add_argument('--c-calls', action='store_true',
                    help="also time each tether.Popen row's C calls alone (tether._tether), for the Python layer's share")
    a = ap.parse_args()
    n = a.n or (50 if a.quick else 200)
    rounds = a.rounds or (3 if a.quick else 7)

    all_ms = list(methods(a.c_calls))
    backends = {name: backend_of(kw) for name, kw, _ in all_ms}
    ms = [m for m in all_ms if not backends[m[0]].startswith('refused')]

    labels = [s.strip() for s in a.rss.split(',')]
    sizes = [size(s) for s in labels]
    for name, _, fn in ms:  # warm up: first-use costs (imports, the emulation's helpers)
        for _ in range(5):
            fn()
    rates, reached = measure(ms, sizes, n, rounds)
    rows = []
    table = {}
    for target, label in zip(sizes, labels):
        param = 'rss=%s' % label
        ref = statistics.median(rates[('subprocess.Popen', target)])
        for name, _, _ in ms:
            med = statistics.median(rates[(name, target)])
            table[(name, target)] = med
            be = backends[name]
            rows.append(('python', name, be, param, 'throughput', '%.1f' % med, 'spawns/s'))
            rows.append(('python', name, be, param, 'throughput_ratio', '%.3f' % (med / ref),
                         'x subprocess.Popen'))
        rows.append(('python', 'interpreter', '-', param, 'rss', '%d' % reached[target], 'bytes'))

    lines = []
    hdr = '| method | backend | ' + ' | '.join('spawns/s at %s' % s.strip() for s in a.rss.split(',')) + \
          ' | ÷ subprocess.Popen | %s ÷ %s | flatness ÷ subprocess\'s |' % (
              a.rss.split(',')[-1].strip(), a.rss.split(',')[0].strip())
    lines.append(hdr)
    lines.append('|---|---|' + '---:|' * (len(sizes) + 3))
    ref_flat = table[('subprocess.Popen', sizes[-1])] / table[('subprocess.Popen', sizes[0])]
    for name, _, _ in all_ms:
        if name not in dict((m[0], 1) for m in ms):
            lines.append('| %s | %s |%s - | - | - |' % (name, backends[name], ' - |' * len(sizes)))
            continue
        cells = ['%.0f' % table[(name, s)] for s in sizes]
        ratio = ' / '.join('%.2f' % (table[(name, s)] / table[('subprocess.Popen', s)]) for s in sizes)
        flat = table[(name, sizes[-1])] / table[(name, sizes[0])]
        lines.append('| %s | %s | %s | %s | %.2f | %.2f |' % (name, backends[name], ' | '.join(cells), ratio, flat,
                                                             flat / ref_flat))
        rows.append(('python', name, backends[name], '', 'rss_flatness', '%.3f' % flat,
                     'throughput ratio largest/smallest'))
    text = '\n'.join(lines)
    print(text)
    print('\n%d rounds x %d spawns per method and size; medians of the rounds; Python %s; %s' % (
        rounds, n, sys.version.split()[0], 'kernel ' + os.uname().release))
    if a.md:
        with open(a.md, 'w') as f:
            f.write(text + '\n')
    if a.csv:
        new = not os.path.exists(a.csv) or os.path.getsize(a.csv) == 0
        with open(a.csv, 'a') as f:
            if new:
                f.write('part,method,backend,param,metric,value,unit\n')
            for r in rows:
                f.write(','.join(str(x) for x in r) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
