import { closeSync, fsyncSync, linkSync, openSync, renameSync, unlinkSync, existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DataError } from './errors.js';

/** Test hook: called before the i-th rename of a commit; throwing there simulates a crash or a failed rename. */
export type BeforeRenameHook = (index: number, target: string) => void;

let sequence = 0;

function tempName(target: string, tag: string): string {
  sequence += 1;
  return join(dirname(target), `.${basename(target)}.${tag}-${process.pid}-${sequence}`);
}

async function writeDurable(path: string, bytes: Uint8Array, sync: boolean): Promise<void> {
  const fh = await open(path, 'wx');
  try {
    await fh.writeFile(bytes);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Parallelism of temp-file writes: fsyncs overlap in libuv's thread pool. */
const WRITE_CONCURRENCY = 8;

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
 * Writes every file to a temp file in its target directory (fsync unless `fsync: false`: still atomic
 * against a process crash, not against power loss), then renames all into place; if a
 * write or rename fails, removes the temps and restores every already-replaced target, so the set of
 * files is all-new or all-old. Directories must exist.
 * @throws DataError WriteFailed
 */
export async function commitFiles(files: readonly { path: string; bytes: Uint8Array }[], beforeRename?: BeforeRenameHook, options: { fsync?: boolean } = {}): Promise<void> {
  const sync = options.fsync !== false;
  const staged = files.map((f) => ({ path: f.path, temp: tempName(f.path, 'tmp'), backup: undefined as string | undefined }));
  let next = 0;
  let failure: { path: string; error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failure === undefined && next < files.length) {
      const i = next++;
      const s = staged[i] as (typeof staged)[number];
      try {
        await writeDurable(s.temp, (files[i] as (typeof files)[number]).bytes, sync);
      } catch (error) {
        failure ??= { path: s.path, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_CONCURRENCY, files.length) }, worker));
  if (failure !== undefined) {
    for (const s of staged) tryUnlink(s.temp);
    const e = failure.error;
    throw new DataError('WriteFailed', `could not write ${failure.path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  let done = 0;
  try {
    for (const s of staged) {
      if (existsSync(s.path)) {
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
