import { inspect } from 'node:util';
import { AlpacaError } from './errors.js';
import { ENV_KEY_ID, ENV_SECRET_KEY } from './protocol.js';

const REDACTED = 'AlpacaCredentials(<redacted>)';

/**
 * Alpaca API keys. The values live in private fields and are readable only through `headers()` and
 * `streamAuth()`; `toString`, `util.inspect` and `JSON.stringify` never show them.
 */
export class AlpacaCredentials {
  readonly #keyId: string;
  readonly #secretKey: string;

  /** @throws AlpacaError MissingCredentials when either value is empty */
  constructor(keyId: string, secretKey: string) {
    if (keyId.trim() === '') throw new AlpacaError('MissingCredentials', `the Alpaca key id is empty (set ${ENV_KEY_ID})`);
    if (secretKey.trim() === '') throw new AlpacaError('MissingCredentials', `the Alpaca secret key is empty (set ${ENV_SECRET_KEY})`);
    this.#keyId = keyId;
    this.#secretKey = secretKey;
    Object.freeze(this);
  }

  /** The REST authentication headers. */
  headers(): Record<string, string> {
    return { 'APCA-API-KEY-ID': this.#keyId, 'APCA-API-SECRET-KEY': this.#secretKey };
  }

  /** The stream `auth` message (trading and market data streams). */
  streamAuth(): { action: 'auth'; key: string; secret: string } {
    return { action: 'auth', key: this.#keyId, secret: this.#secretKey };
  }

  /** Removes every occurrence of either key from `text` (for messages echoed back by a server). */
  redact(text: string): string {
    return text.split(this.#secretKey).join('<redacted>').split(this.#keyId).join('<redacted>');
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

/**
 * Reads the keys from `APCA_API_KEY_ID` and `APCA_API_SECRET_KEY` (the only place keys come from).
 * @throws AlpacaError MissingCredentials naming the variable that is missing or empty
 */
export function alpacaCredentialsFromEnv(env: NodeJS.ProcessEnv = process.env): AlpacaCredentials {
  const keyId = env[ENV_KEY_ID];
  const secret = env[ENV_SECRET_KEY];
  if (keyId === undefined || keyId.trim() === '') throw new AlpacaError('MissingCredentials', `environment variable ${ENV_KEY_ID} is not set: it must hold the Alpaca API key id`);
  if (secret === undefined || secret.trim() === '') throw new AlpacaError('MissingCredentials', `environment variable ${ENV_SECRET_KEY} is not set: it must hold the Alpaca API secret key`);
  return new AlpacaCredentials(keyId, secret);
}
