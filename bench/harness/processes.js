// Child processes (every one started here is killed on the way out, whatever the way), the bench's
// temporary directory, and what /proc says about a process: memory and CPU.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, sleep } from './config.js';
import { request } from './http.js';

const children = new Set();
let tmp;

/** The bench's temporary directory (data directories, logs, profiles), deleted on the way out. */
export function tmpDir() {
  tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-'));
  return tmp;
}

/** Starts `node <args>` from the repository root, its output appended to `logFile`. */
export function startChild(name, args, env, logFile) {
  const log = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const entry = { name, child, logFile, exited: false, exitCode: null };
  child.once('exit', (code, signal) => {
    entry.exited = true;
    entry.exitCode = code ?? signal;
    children.delete(entry);
  });
  children.add(entry);
  return entry;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export async function stopChild(entry, graceMs = 10_000) {
  if (entry.exited) return;
  const exited = new Promise((resolve) => entry.child.once('exit', resolve));
  entry.child.kill('SIGTERM');
  const timer = setTimeout(() => entry.child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Kills every child at once and deletes the temporary directory (on error, on a signal, at exit). */
export function killAllNow() {
  for (const { child } of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Waits until `GET /health/ready` answers 200; throws with the child's last log lines if it exits or takes too long. */
export async function waitReady(entry, port, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (entry.exited) throw new Error(`${entry.name} exited (${entry.exitCode}) before it was ready\n${tail(entry.logFile)}`);
    try {
      const res = await request(port, 'GET', '/health/ready');
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = error.code ?? error.message;
    }
    await sleep(100);
  }
  throw new Error(`${entry.name} not ready after ${timeoutMs / 1000} s (last: ${last})\n${tail(entry.logFile)}`);
}

export function tail(file, lines = 30) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    return text ? `--- last lines of ${file} ---\n${text}` : `(${file} is empty)`;
  } catch {
    return '';
  }
}

/** VmRSS, its anonymous and file-backed parts, and VmHWM (peak) of a process, in kB. */
export function memoryOf(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: field('VmRSS'), anon: field('RssAnon'), file: field('RssFile'), hwm: field('VmHWM') };
}

/** CPU seconds (user + system) a process has used so far; /proc reports clock ticks of 1/100 s (USER_HZ). */
export function cpuSecondsOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds the whole machine has been busy (all cores, everything but idle and iowait), from /proc/stat. */
export function machineBusySeconds() {
  const [, ...ticks] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = ticks.map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

/**
 * CPU seconds used so far by every process named `postgres` on this machine (the server's
 * backends, WAL writer, checkpointer...), by pid. Only meaningful when the server is local.
 */
export function postgresCpu() {
  const byPid = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      byPid.set(entry, (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the process is gone
    }
  }
  return byPid;
}

/** CPU seconds used between two postgresCpu() snapshots (processes started in between count in full). */
export function postgresCpuBetween(before, after) {
  let seconds = 0;
  for (const [pid, cpu] of after) seconds += cpu - (before.get(pid) ?? 0);
  return seconds;
}
