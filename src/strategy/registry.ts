import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AxonError } from '../core/errors.js';
import { parseConfig } from '../core/schema.js';
import { smaCross } from './sma-cross.js';
import { vwapReversion } from './vwap-reversion.js';
import type { StrategyFactory } from './types.js';

/** Error codes of strategy lookup and loading. */
export type StrategyErrorCode = 'StrategyNotFound' | 'StrategyInvalid' | 'ConfigInvalid';

export class StrategyError extends AxonError<StrategyErrorCode> {
  override readonly name = 'StrategyError';
  readonly exitCode = 2;
}

/** Named strategies; the built-ins are registered up front. */
export class StrategyRegistry {
  readonly #factories = new Map<string, StrategyFactory>();

  constructor(builtins: readonly StrategyFactory[] = [smaCross, vwapReversion]) {
    for (const f of builtins) this.register(f);
  }

  register(factory: StrategyFactory): void {
    checkFactory(factory, factory.name);
    this.#factories.set(factory.name, factory);
  }

  names(): string[] {
    return [...this.#factories.keys()].sort();
  }

  /** @throws StrategyError StrategyNotFound */
  get(name: string): StrategyFactory {
    const f = this.#factories.get(name);
    if (f === undefined) throw new StrategyError('StrategyNotFound', `no strategy named ${JSON.stringify(name)} (built-in: ${this.names().join(', ')}; or give a .js/.ts file path)`);
    return f;
  }

  /**
   * A strategy by name, or loaded from a `.js`/`.ts`/`.mjs` file path whose default export (or
   * `strategy` export) is a StrategyFactory. TypeScript files are loaded through tsx.
   * @throws StrategyError StrategyNotFound | StrategyInvalid
   */
  async resolve(nameOrPath: string): Promise<StrategyFactory> {
    if (!/\.(m?js|ts|mts)$/.test(nameOrPath)) return this.get(nameOrPath);
    const path = isAbsolute(nameOrPath) ? nameOrPath : resolve(nameOrPath);
    let mod: Record<string, unknown>;
    try {
      if (/\.m?ts$/.test(path)) {
        const { tsImport } = (await import('tsx/esm/api')) as { tsImport: (p: string, from: string) => Promise<Record<string, unknown>> };
        mod = await tsImport(pathToFileURL(path).href, import.meta.url);
      } else {
        mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
      }
    } catch (e) {
      throw new StrategyError('StrategyNotFound', `cannot load strategy file ${path}: ${(e as Error).message}`, { cause: e });
    }
    // a .ts file outside an ESM package loads as CommonJS: its exports sit one level down, under default
    const cjs = mod.default as Record<string, unknown> | undefined;
    const exports = cjs !== undefined && typeof cjs.create !== 'function' ? cjs : mod;
    const factory = (exports.default ?? exports.strategy) as StrategyFactory | undefined;
    checkFactory(factory, path);
    this.register(factory as StrategyFactory);
    return factory as StrategyFactory;
  }
}

function checkFactory(f: StrategyFactory | undefined, where: string): void {
  if (f === undefined || f === null || typeof f !== 'object' || typeof f.name !== 'string' || typeof f.create !== 'function' || typeof f.params !== 'object') {
    throw new StrategyError('StrategyInvalid', `${where}: a strategy must export { name: string, description, params, create(params, context) }`);
  }
}

/** Validates parameters against the factory's schema (unknown keys and bad values refused, all listed). */
export function resolveParams(factory: StrategyFactory, params: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return parseConfig<Record<string, unknown>>(factory.params, params, `strategy ${factory.name} params`);
}
