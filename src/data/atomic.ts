import { closeSync, existsSync, fsync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError } from './errors.js';

/** Test hook: called before the i-th rename of a commit; throwing there simulates a crash or a failed rename. */
export type BeforeRenameHook = (index: number, target: string) => void;

let sequence = 0;

function tempName(target: string, tag: string): string {
  sequence += 1;
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${sequence}`);
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
}

function fsyncAsync(fd: number): Promise<void> {
  return new Promise((done, fail) => {
    fsync(fd, (e) => (e === null ? done() : fail(e)));
  });
}

/**
 * Files written before their fsyncs are started together: bounds the open descriptors, while all
 * fsyncs of a batch wait in libuv's pool at once, so the filesystem can commit them in few journal
 * transactions instead of one per file.
 */
const SYNC_BATCH = 256;

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // directory fsync is not supported everywhere (e.g. some CI filesystems); the rename is still atomic
  }
}

function tryUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Writes every file to a temp file in its target directory, fsyncs the temps concurrently (unless
 * `fsync: false`: still atomic against a process crash, not against power loss), then renames all
 * into place and fsyncs each directory once; if a
 * write or rename fails, removes the temps and restores every already-replaced target, so the set of
 * files is all-new or all-old. `replaces` (when known) says whether the target exists, saving a stat per
 * file; the store is single-writer, so a target cannot appear between planning and commit. Directories
 * must exist.
 * @throws DataError WriteFailed
 */
export async function commitFiles(files: readonly { path: string; bytes: Uint8Array; replaces?: boolean }[], beforeRename?: BeforeRenameHook, options: { fsync?: boolean } = {}): Promise<void> {
  const sync = options.fsync !== false;
  const staged = files.map((f) => ({ path: f.path, temp: tempName(f.path, 'tmp'), backup: undefined as string | undefined, replaces: f.replaces }));
  let failure: { path: string; error: unknown } | undefined;
  for (let b = 0; b < files.length && failure === undefined; b += SYNC_BATCH) {
    const fds: number[] = [];
    const end = Math.min(files.length, b + SYNC_BATCH);
    for (let i = b; i < end; i++) {
      const s = staged[i] as (typeof staged)[number];
      try {
        const fd = openSync(s.temp, 'wx');
        fds.push(fd);
        writeAll(fd, (files[i] as (typeof files)[number]).bytes);
      } catch (error) {
        failure = { path: s.path, error };
        break;
      }
    }
    if (sync && failure === undefined) {
      const results = await Promise.allSettled(fds.map((fd) => fsyncAsync(fd)));
      const bad = results.findIndex((r) => r.status === 'rejected');
      if (bad >= 0) failure = { path: (staged[b + bad] as (typeof staged)[number]).path, error: (results[bad] as PromiseRejectedResult).reason };
    }
    for (const [k, fd] of fds.entries()) {
      try {
        closeSync(fd);
      } catch (error) {
        failure ??= { path: (staged[b + k] as (typeof staged)[number]).path, error };
      }
    }
  }
  if (failure !== undefined) {
    for (const s of staged) tryUnlink(s.temp);
    const e = failure.error;
    throw new DataError('WriteFailed', `could not write ${failure.path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  let done = 0;
  try {
    for (const s of staged) {
      // the planner knows which targets are new; only unknown ones cost a stat
      if (s.replaces === true || (s.replaces === undefined && existsSync(s.path))) {
        s.backup = tempName(s.path, 'bak');
        linkSync(s.path, s.backup);
      }
      beforeRename?.(done, s.path);
      renameSync(s.temp, s.path);
      done += 1;
    }
  } catch (e) {
    for (let i = staged.length - 1; i >= 0; i--) {
      const s = staged[i] as (typeof staged)[number];
      if (i < done) {
        if (s.backup !== undefined) renameSync(s.backup, s.path);
        else tryUnlink(s.path);
      } else {
        tryUnlink(s.temp);
        if (s.backup !== undefined) tryUnlink(s.backup);
      }
    }
    throw new DataError('WriteFailed', `could not move ${staged[done]?.path ?? 'file'} into place, rolled back: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  for (const s of staged) if (s.backup !== undefined) tryUnlink(s.backup);
  if (sync) for (const dir of new Set(staged.map((s) => dirname(s.path)))) fsyncDir(dir);
}
