import { closeSync, openSync, writeSync } from 'node:fs';

/** Severity of an engine log line. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured engine log: one event name plus fields; times are the engine Clock's, never the wall clock. */
export interface EngineLogger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  close(): void;
}

function replacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** Writes JSON lines to a file (append), buffered; deterministic for deterministic input. */
export class JsonlLogger implements EngineLogger {
  readonly #fd: number;
  #buf: string[] = [];
  #size = 0;
  readonly #echo: ((line: string) => void) | undefined;
  readonly #echoLevel: LogLevel;

  constructor(path: string, options: { echo?: (line: string) => void; echoLevel?: LogLevel } = {}) {
    this.#fd = openSync(path, 'a');
    this.#echo = options.echo;
    this.#echoLevel = options.echoLevel ?? 'warn';
  }

  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ level, event, ...fields }, replacer);
    this.#buf.push(line);
    this.#size += line.length;
    if (this.#size > 1 << 16) this.flush();
    if (this.#echo !== undefined && rank(level) >= rank(this.#echoLevel)) this.#echo(`${level}: ${event} ${JSON.stringify(fields, replacer)}`);
  }

  flush(): void {
    if (this.#buf.length === 0) return;
    writeSync(this.#fd, `${this.#buf.join('\n')}\n`);
    this.#buf = [];
    this.#size = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

/** Keeps log lines in memory (tests). */
export class MemoryLogger implements EngineLogger {
  readonly lines: { level: LogLevel; event: string; fields: Record<string, unknown> }[] = [];
  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level, event, fields });
  }
  close(): void {}
}

function rank(l: LogLevel): number {
  return l === 'debug' ? 0 : l === 'info' ? 1 : l === 'warn' ? 2 : 3;
}
