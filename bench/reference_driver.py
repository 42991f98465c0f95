"""Run the reference Python dataMan (rwpogge/MODS2025, mods/Agents/dataMan/dataMan.py) on one
raw file and time it. Used by bench/reference-python.ts; contains none of the reference's code.

    python3 reference_driver.py run --reference DIR --raw RAW --work DIR [--repeat N]
    python3 reference_driver.py compare --reference DIR REFERENCE_OUT OURS_OUT

`run`: loads DIR/dataMan.py without its service part: only the module's imports and function
definitions are executed; the module-level program (argv, logging set-up, UDP socket, receive
loop) is left out. The service globals that modsFITSProc reads are set as the service would set
them: dataDir/procDir/repoDir under WORK/callN, procParam from the reference's own
Config/dataman_MODS1.ini through its own loadConfig (all five steps on), logger = a file logger
in the reference's format. Then modsFITSProc(<raw base name>) is called, as the UDP `proc`
command would do (minus the thread): open, UNIQNAME, fixDataSec, fixDateTime, fixArchonTemps,
fixMisc, otmProc + MERGED HDU, write to procDir, copy to repoDir, <CHAN>.new.
Each call gets fresh directories, so the no-overwrite branch is never taken. Call 1 is the
"cold" call (first use of astropy's time/coordinates machinery in the process); calls 2..N show
the steady state of the long-running service.
Prints one JSON line: import time, per-call wall/CPU/RSS and per-stage times, whole-process
CPU and peak RSS (getrusage at exit, interpreter start-up included), and a sanity summary of
the written file (read after all timing).

`compare`: MERGED pixels and the keywords both implementations write, reference vs ours.
"""
import time

T_START = time.perf_counter()

import argparse
import ast
import json
import logging
import os
import resource
import sys

import warnings


def cpu_s():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def maxrss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_rss_mb():
    try:
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
    except OSError:
        return None


def load_reference(ref_dir):
    """Execute the imports and function definitions of dataMan.py into a fresh namespace."""
    path = os.path.join(ref_dir, 'dataMan.py')
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    kept = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))]
    dropped = [type(n).__name__ for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.Expr))]
    module = ast.Module(body=kept, type_ignores=[])
    ns = {'__name__': 'dataMan_reference', '__file__': path}
    exec(compile(module, path, 'exec'), ns)
    functions = [n.name for n in kept if isinstance(n, ast.FunctionDef)]
    return ns, functions, len(dropped)


class Timed:
    """Attribute proxy of a module whose named functions are timed into `stages`."""

    def __init__(self, target, names, stages, label):
        self._target, self._names, self._stages, self._label = target, names, stages, label

    def __getattr__(self, name):
        value = getattr(self._target, name)
        if name in self._names:
            return timed(value, self._stages, self._names[name])
        return value


def timed(fn, stages, label):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            stages[label] = stages.get(label, 0.0) + (time.perf_counter() - t0) * 1000
    return wrapper


def summarise_output(proc_file, repo_file, new_file, log_file):
    from astropy.io import fits
    out = {'procFile': proc_file, 'procBytes': os.path.getsize(proc_file) if os.path.exists(proc_file) else None,
           'repoBytes': os.path.getsize(repo_file) if os.path.exists(repo_file) else None}
    if os.path.exists(new_file):
        with open(new_file) as f:
            out['newFile'] = f.read().strip()
    with fits.open(proc_file) as hdul:
        out['hdus'] = [h.name for h in hdul]
        p = hdul[0].header
        keys = ['DATE-OBS', 'MJD-OBS', 'HJD-OBS', 'BJD-OBS', 'CCDTEMP', 'BASETEMP', 'ARCHTEMP', 'TELALT', 'ZD',
                'LBTWLINK', 'CCDROI', 'CCDXBIN', 'OBJNAME', 'NONSIDER', 'IMAGETYP', 'UNIQNAME']
        out['primary'] = {k: p.get(k) for k in keys}
        out['primaryCards'] = len(p)
        out['nextendPresent'] = 'NEXTEND' in p
        out['im1'] = {k: hdul[1].header.get(k) for k in ['DETSEC', 'CCDSEC', 'LTV1', 'LTV2', 'MODSQUAD']}
        if 'MERGED' in out['hdus']:
            m = hdul['MERGED'].header
            out['merged'] = {k: m.get(k) for k in ['BITPIX', 'NAXIS1', 'NAXIS2', 'Q1BIAS', 'Q1STD', 'Q2BIAS', 'Q3BIAS', 'Q4BIAS']}
            out['mergedCards'] = len(m)
    with open(log_file) as f:
        out['log'] = [line.rstrip('\n').split(' | ', 1)[1] for line in f if ' | ' in line]
    return out


def run(args):
    # astropy's warnings (IERS download offline, …) are left on, as in the service
    t0 = time.perf_counter()
    c0 = cpu_s()
    ns, functions, dropped = load_reference(args.reference)
    import_ms = (time.perf_counter() - t0) * 1000
    import_cpu_ms = (cpu_s() - c0) * 1000
    missing = [f for f in ('loadConfig', 'fixDataSec', 'fixDateTime', 'fixArchonTemps', 'fixMisc', 'otmProc', 'modsFITSProc') if f not in ns]
    if missing:
        raise SystemExit(f'reference lacks {missing}')

    config = ns['loadConfig'](os.path.join(args.reference, 'Config', args.config))
    proc_param = config['processing']

    stages = {}
    for name, label in [('fixDataSec', 'fixDataSec'), ('fixDateTime', 'fixDateTime'), ('fixArchonTemps', 'fixArchonTemps'),
                        ('fixMisc', 'fixMisc'), ('otmProc', 'otmProc')]:
        ns[name] = timed(ns[name], stages, label)
    ns['fits'] = Timed(ns['fits'], {'open': 'open'}, stages, 'fits')
    ns['shutil'] = Timed(ns['shutil'], {'copyfile': 'repoCopy'}, stages, 'shutil')
    from astropy.io import fits
    fits.HDUList.writeto = timed(fits.HDUList.writeto, stages, 'write')

    base = os.path.basename(args.raw)
    chan, obs_date = base.split('.')[0], base.split('.')[1]
    calls = []
    summary = None
    for k in range(1, args.repeat + 1):
        work = os.path.join(args.work, f'call{k}')
        data_dir, proc_dir, repo_dir = (os.path.join(work, d) for d in ('data', 'proc', 'repo'))
        os.makedirs(os.path.join(data_dir, chan), exist_ok=True)
        os.makedirs(repo_dir, exist_ok=True)
        link = os.path.join(data_dir, chan, base)
        if not os.path.exists(link):
            os.symlink(os.path.abspath(args.raw), link)
        log_file = os.path.join(work, 'dataman.log')
        logger = logging.getLogger(f'dataMan.call{k}')
        logger.propagate = False
        handler = logging.FileHandler(log_file, mode='a')
        handler.setFormatter(logging.Formatter('%(asctime)s | %(levelname)s | %(message)s'))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        ns.update(dataDir=__import__('pathlib').Path(data_dir), procDir=__import__('pathlib').Path(proc_dir),
                  repoDir=repo_dir, procParam=proc_param, logger=logger)

        stages.clear()
        rss_before = current_rss_mb()
        c1, t1 = cpu_s(), time.perf_counter()
        ns['modsFITSProc'](base)
        wall_ms = (time.perf_counter() - t1) * 1000
        cpu_ms = (cpu_s() - c1) * 1000
        handler.close()
        steps = sum(v for key, v in stages.items() if key != 'repoCopy')
        calls.append({
            'call': k,
            'wallMs': wall_ms,
            'cpuMs': cpu_ms,
            'rssBeforeMb': rss_before,
            'maxRssMb': maxrss_mb(),
            'stagesMs': dict(stages),
            # modsFITSProc minus the copy into repoDir and the .new file: open .. write, what
            # `dataman process` does
            'processMs': wall_ms - stages.get('repoCopy', 0.0),
            'otherMs': wall_ms - steps - stages.get('repoCopy', 0.0),
        })
        if k == args.repeat:
            proc_file = os.path.join(proc_dir, obs_date, base)
            summary = (proc_file, os.path.join(repo_dir, base), os.path.join(repo_dir, f'{chan.upper()}.new'), log_file)

    r = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        'driver': 'reference_driver.py',
        'python': sys.version.split()[0],
        'astropy': __import__('astropy').__version__,
        'numpy': __import__('numpy').__version__,
        'referenceFunctions': functions,
        'moduleStatementsLeftOut': dropped,
        'processing': {k: bool(v) for k, v in proc_param.items()},
        'scriptStartToImportMs': (t0 - T_START) * 1000,
        'importMs': import_ms,
        'importCpuMs': import_cpu_ms,
        'calls': calls,
        'processCpuMs': (r.ru_utime + r.ru_stime) * 1000,
        'processMaxRssMb': r.ru_maxrss / 1024,
    }
    result['output'] = summarise_output(*summary)
    print(json.dumps(result, default=str))


def compare(args):
    import numpy as np
    from astropy.io import fits
    warnings.simplefilter('ignore')
    with fits.open(args.reference_out) as ref, fits.open(args.ours_out) as ours:
        out = {'referenceHdus': [h.name for h in ref], 'oursHdus': [h.name for h in ours]}
        a = ref['MERGED'].data.astype(np.float64)
        b = ours['MERGED'].data.astype(np.float64)
        out['mergedShape'] = [list(a.shape), list(b.shape)]
        out['mergedMaxAbsDiff'] = float(np.max(np.abs(a - b))) if a.shape == b.shape else None
        keys = {}
        for k in ['DATE-OBS', 'MJD-OBS', 'HJD-OBS', 'BJD-OBS', 'CCDTEMP', 'BASETEMP', 'ARCHTEMP', 'ZD', 'CCDROI', 'LBTWLINK']:
            keys[k] = [ref[0].header.get(k), ours[0].header.get(k)]
        for k in ['Q1BIAS', 'Q1STD', 'Q2BIAS', 'Q3BIAS', 'Q4BIAS', 'Q4STD']:
            keys[k] = [ref['MERGED'].header.get(k), ours['MERGED'].header.get(k)]
        for n in (1, 2, 3, 4):
            for k in ['DETSEC', 'LTV1', 'LTV2']:
                keys[f'IM{n}.{k}'] = [ref[n].header.get(k), ours[n].header.get(k)]
        out['keywords'] = keys
        out['keywordMismatches'] = [k for k, (x, y) in keys.items()
                                    if not (x == y or (isinstance(x, float) and isinstance(y, float) and abs(x - y) < 1e-9))]
    print(json.dumps(out, default=str))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='mode', required=True)
    p = sub.add_parser('run')
    p.add_argument('--reference', required=True, help='directory holding dataMan.py and Config/ of the reference')
    p.add_argument('--raw', required=True, help='raw file, named <chan>.<YYYYMMDD>.<NNNN>.fits')
    p.add_argument('--work', required=True, help='scratch directory for data/proc/repo trees')
    p.add_argument('--repeat', type=int, default=1, help='calls of modsFITSProc in this process')
    p.add_argument('--config', default='dataman_MODS1.ini')
    c = sub.add_parser('compare')
    c.add_argument('--reference', required=False)
    c.add_argument('reference_out')
    c.add_argument('ours_out')
    args = parser.parse_args()
    run(args) if args.mode == 'run' else compare(args)


if __name__ == '__main__':
    main()
