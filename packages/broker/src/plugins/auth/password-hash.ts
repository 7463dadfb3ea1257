// Password hashes for the password file: scrypt from node:crypto (no dependency), a random salt per entry,
// compared in constant time. Written in the PHC string format: `$scrypt$ln=15,r=8,p=1$<salt>$<key>`
// (salt and key in base64 without padding).
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** log2 of scrypt's N by default: N = 32768, r = 8, p = 1 takes 32 MiB and ~0.1 s per check. */
export const DEFAULT_SCRYPT_COST = 15;
/** The weakest parameters a password file may hold: N = 16384, r = 8 (scrypt's interactive-login setting). */
export const MIN_SCRYPT_COST = 14;
/** The most memory one check may take (128 × N × r bytes): 256 MiB. */
export const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]+$/;
const PARAMETERS = /^ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})$/;

/** A parsed scrypt hash. */
export interface ScryptHash {
  /** log2 of N. */
  readonly cost: number;
  readonly blockSize: number;
  readonly parallelization: number;
  readonly salt: Buffer;
  readonly key: Buffer;
}

/** The scrypt parameters `hashPassword` uses: by default cost 15 (N = 32768), block size 8, parallelization 1. */
export interface HashPasswordOptions {
  /** log2 of scrypt's N; default 15 (at least 14). */
  cost?: number;
  /** scrypt's r; default 8. */
  blockSize?: number;
  /** scrypt's p; default 1. */
  parallelization?: number;
}

function unpadded(buffer: Buffer): string {
  return buffer.toString('base64').replace(/=+$/, '');
}

function scryptOptions(hash: Pick<ScryptHash, 'cost' | 'blockSize' | 'parallelization'>): ScryptOptions {
  const N = 2 ** hash.cost;
  const memory = 128 * N * hash.blockSize;
  return {
    N,
    r: hash.blockSize,
    p: hash.parallelization,
    maxmem: memory + 128 * hash.blockSize * hash.parallelization + 1024 * 1024,
  };
}

/** Why scrypt parameters are refused, or undefined when they are acceptable. */
function parameterProblem(cost: number, blockSize: number, parallelization: number): string | undefined {
  if (!Number.isInteger(cost) || cost < MIN_SCRYPT_COST || cost > 24) {
    return `scrypt cost ln=${cost} is out of range (${MIN_SCRYPT_COST} to 24)`;
  }
  if (!Number.isInteger(blockSize) || blockSize < 8 || blockSize > 32) {
    return `scrypt block size r=${blockSize} is out of range (8 to 32)`;
  }
  if (!Number.isInteger(parallelization) || parallelization < 1 || parallelization > 16) {
    return `scrypt parallelization p=${parallelization} is out of range (1 to 16)`;
  }
  if (128 * 2 ** cost * blockSize > MAX_SCRYPT_MEMORY) {
    return `scrypt parameters ln=${cost},r=${blockSize} need more than ${MAX_SCRYPT_MEMORY / 1024 / 1024} MiB`;
  }
  return undefined;
}

/**
 * Parse a `$scrypt$ln=..,r=..,p=..$salt$key` hash; throws a TypeError naming the problem. Anything else
 * (a plain-text password, another scheme) is refused.
 */
export function parseScryptHash(text: string): ScryptHash {
  if (!text.startsWith('$scrypt$')) {
    throw new TypeError(
      text.startsWith('$')
        ? 'unsupported password hash (only $scrypt$ hashes are accepted)'
        : 'plain-text password (only $scrypt$ hashes are accepted: create entries with `mqtt-agents passwd`)',
    );
  }
  const parts = text.split('$');
  // ['', 'scrypt', 'ln=..,r=..,p=..', salt, key]
  const match = parts.length === 5 ? PARAMETERS.exec(parts[2] as string) : null;
  if (!match) throw new TypeError('malformed scrypt hash (expected $scrypt$ln=<n>,r=<r>,p=<p>$<salt>$<key>)');
  const cost = Number(match[1]);
  const blockSize = Number(match[2]);
  const parallelization = Number(match[3]);
  const problem = parameterProblem(cost, blockSize, parallelization);
  if (problem) throw new TypeError(problem);
  const [saltText, keyText] = [parts[3] as string, parts[4] as string];
  if (!BASE64.test(saltText) || !BASE64.test(keyText)) {
    throw new TypeError('malformed scrypt hash (salt and key must be base64 without padding)');
  }
  const salt = Buffer.from(saltText, 'base64');
  const key = Buffer.from(keyText, 'base64');
  if (salt.length < SALT_BYTES) throw new TypeError(`scrypt salt is shorter than ${SALT_BYTES} bytes`);
  if (key.length < KEY_BYTES || key.length > 64) throw new TypeError('scrypt key must be 32 to 64 bytes');
  return Object.freeze({ cost, blockSize, parallelization, salt, key });
}

function derive(password: Buffer | string, hash: Omit<ScryptHash, 'key'>, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, hash.salt, length, scryptOptions(hash), (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** Hash a password with scrypt and a fresh 16-byte salt, as a PHC string for the password file. */
export async function hashPassword(
  password: string | Buffer,
  options: HashPasswordOptions = {},
): Promise<string> {
  const cost = options.cost ?? DEFAULT_SCRYPT_COST;
  const blockSize = options.blockSize ?? 8;
  const parallelization = options.parallelization ?? 1;
  const problem = parameterProblem(cost, blockSize, parallelization);
  if (problem) throw new RangeError(problem);
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, { cost, blockSize, parallelization, salt }, KEY_BYTES);
  return `$scrypt$ln=${cost},r=${blockSize},p=${parallelization}$${unpadded(salt)}$${unpadded(key)}`;
}

/** True when `password` hashes to `hash` (the derived keys are compared in constant time). */
export async function verifyPassword(hash: ScryptHash, password: Buffer | string): Promise<boolean> {
  const derived = await derive(password, hash, hash.key.length);
  return timingSafeEqual(derived, hash.key);
}
