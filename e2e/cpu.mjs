// CPU seconds spent while something runs, for the benchmark: the whole machine's (from
// /proc/stat) and each process's, grouped by what it is (Chromium's renderer, network service,
// GPU process and browser process; the S3 store with its Ceph daemons; the signer; curl, counted
// as the children the benchmark's node process reaped). Linux only: elsewhere every figure is null.
// Read from /proc directly, so measuring costs next to nothing (no `ps` per sample).

import { readFileSync, readdirSync } from 'node:fs';

const TICK = 100; // USER_HZ: clock ticks a second in /proc on Linux

function read(path) {
  try { return readFileSync(path, 'utf8'); } catch { return null; }
}

/// Every running process's pid.
function pids() {
  return readdirSync('/proc').filter(name => /^\d+$/.test(name)).map(Number);
}

/// A process's arguments and program name; null once it has ended. Chromium rewrites its
/// children's command lines into one string, so spaces split too.
function command(pid) {
  const cmdline = read(`/proc/${pid}/cmdline`);
  if (!cmdline) return null;
  const args = cmdline.split(/[\0 ]/);
  return { args, exe: args[0].split('/').at(-1) };
}

/// What a process is, from its command line; null for processes the benchmark does not own.
function group(pid) {
  const { args, exe } = command(pid) ?? {};
  if (!exe) return null;
  if (exe.startsWith('chrom')) {
    const type = args.find(a => a.startsWith('--type='))?.slice(7);
    if (!type) return 'browser';
    if (type === 'utility') return args.some(a => a.includes('NetworkService')) ? 'network' : 'utility';
    return { renderer: 'renderer', 'gpu-process': 'gpu', zygote: 'zygote' }[type] ?? type;
  }
  if (['radosgw', 'ceph-osd', 'ceph-mon', 'ceph-mgr', 'local-s3'].includes(exe)) return 'store';
  if (exe === 'signer') return 'signer';
  if (pid === process.pid) return 'curl'; // this process's reaped children's time
  return null;
}

/// Every owned process's ticks: its own, or for this process its reaped children's (curl).
function processes() {
  const out = new Map();
  for (const pid of pids()) {
    const stat = read(`/proc/${pid}/stat`);
    if (!stat) continue;
    const which = group(pid);
    if (!which) continue;
    // Fields after the command name in parentheses: state is the first, utime the 12th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const ticks = pid === process.pid ? fields[13] + fields[14] : fields[11] + fields[12];
    out.set(pid, { group: which, ticks });
  }
  return out;
}

function machineBusy() {
  const line = read('/proc/stat')?.split('\n')[0];
  if (!line) return null;
  const [user, nice, system, , , irq, softirq, steal] = line.split(/\s+/).slice(1).map(Number);
  return user + nice + system + irq + softirq + steal;
}

/// A snapshot; `cpuSince(snapshot)` gives `{ machine, groups }` in CPU seconds since it. A process
/// started since counts from zero; one that ended since is lost (take the second reading before
/// closing what it measures).
export function cpuSnapshot() {
  if (process.platform !== 'linux') return null;
  return { machine: machineBusy(), processes: processes() };
}

export function cpuSince(before) {
  if (!before) return { machine: null, groups: {} };
  const now = processes();
  const groups = {};
  for (const [pid, { group: which, ticks }] of now) {
    const was = before.processes.get(pid);
    const spent = ticks - (was && was.group === which ? was.ticks : 0);
    groups[which] = (groups[which] ?? 0) + spent / TICK;
  }
  return { machine: (machineBusy() - before.machine) / TICK, groups };
}

/// Resident memory of Chromium's processes, in bytes (0 where /proc cannot say).
export function chromiumResident() {
  if (process.platform !== 'linux') return 0;
  let total = 0;
  for (const pid of pids()) {
    if (!command(pid)?.exe.startsWith('chrom')) continue;
    const statm = read(`/proc/${pid}/statm`);
    if (statm) total += Number(statm.split(' ')[1]) * 4096;
  }
  return total;
}
