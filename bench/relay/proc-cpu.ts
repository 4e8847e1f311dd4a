/** CPU time of processes, read from /proc (Linux): user + system, in seconds. */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on Linux builds of this kind). */
const USER_HZ = 100;

export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ; // utime, stime (fields 14 and 15)
  } catch {
    return 0; // the process is gone
  }
}

/** Pids whose command name is one of `names` (e.g. every postgres backend). */
export function pidsNamed(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${d}/comm`, 'utf8').trim())) out.push(Number(d));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** CPU seconds of a set of processes, sampled now; processes that appear later are picked up by name. */
export function cpuOf(pids: readonly number[], names: readonly string[] = []): number {
  const all = new Set([...pids, ...pidsNamed(names)]);
  let total = 0;
  for (const p of all) total += cpuSeconds(p);
  return total;
}
