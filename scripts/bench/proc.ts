/**
 * Linux /proc readers for the benchmark: memory of the server process and CPU time of the
 * processes involved (server, PostgreSQL, load generator), so a run can say where the time went.
 * Every reader returns undefined (never throws) when /proc is missing or the process is gone.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Clock ticks per second of the utime/stime fields in /proc/<pid>/stat. */
export const CLOCK_TICKS: number = (() => {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number.parseInt(out.stdout ?? '', 10);
  return Number.isSafeInteger(value) && value > 0 ? value : 100;
})();

export interface MemoryStatus {
  /** Resident set size now, in KiB. */
  rssKb: number;
  /** Peak resident set size (high-water mark) since start or the last reset, in KiB. */
  hwmKb: number;
}

export function readMemory(pid: number): MemoryStatus | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) =>
      Number.parseInt(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? '', 10);
    const rssKb = field('VmRSS');
    const hwmKb = field('VmHWM');
    if (!Number.isFinite(rssKb) || !Number.isFinite(hwmKb)) return undefined;
    return { rssKb, hwmKb };
  } catch {
    return undefined;
  }
}

/**
 * Resets VmHWM to the current RSS (writing 5 to clear_refs, Linux 4.0+), so the next reading is
 * the peak of one scenario. Returns false when the kernel or permissions refuse.
 */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

interface StatFields {
  ppid: number;
  /** utime + stime of the process, in ticks. */
  ownTicks: number;
  /** cutime + cstime: CPU of children it has waited for, in ticks. */
  childTicks: number;
}

function readStat(pid: number): StatFields | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after "(comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const num = (index: number) => Number.parseInt(fields[index] ?? '', 10);
    return { ppid: num(1), ownTicks: num(11) + num(12), childTicks: num(13) + num(14) };
  } catch {
    return undefined;
  }
}

/** CPU seconds used by one process (user + system). */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = readStat(pid);
  return stat ? stat.ownTicks / CLOCK_TICKS : undefined;
}

/**
 * CPU seconds used by a PostgreSQL cluster: the postmaster, its live children (backends,
 * checkpointer, WAL writer...), and the children it has already reaped (cutime/cstime), so
 * backends that came and went are counted too.
 */
export function clusterCpuSeconds(postmasterPid: number): number | undefined {
  const root = readStat(postmasterPid);
  if (!root) return undefined;
  let ticks = root.ownTicks + root.childTicks;
  for (const name of listPids()) {
    if (name === postmasterPid) continue;
    const stat = readStat(name);
    if (stat && stat.ppid === postmasterPid) ticks += stat.ownTicks;
  }
  return ticks / CLOCK_TICKS;
}

/** The parent of a process (for a backend: its postmaster). */
export function parentPid(pid: number): number | undefined {
  return readStat(pid)?.ppid;
}

function listPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

export interface MachineCpu {
  /** Busy seconds summed over all cores (everything but idle and iowait). */
  busySeconds: number;
  /** Idle + iowait seconds summed over all cores. */
  idleSeconds: number;
}

export function machineCpu(): MachineCpu | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu  user nice system idle iowait irq softirq steal guest guest_nice
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
    return {
      busySeconds: (user + nice + system + irq + softirq + steal) / CLOCK_TICKS,
      idleSeconds: (idle + iowait) / CLOCK_TICKS,
    };
  } catch {
    return undefined;
  }
}
