import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.js';

type FlagConfig = Omit<ParseArgsConfig, 'args' | 'strict'>;

/** Parse flags strictly, turning parse failures into one-line usage errors. */
export function parseFlags<T extends FlagConfig>(argv: string[], config: T) {
  try {
    return parseArgs<T & { args: string[]; strict: true }>({ ...config, args: argv, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}
