import { chmod, readFile, rename, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DEFAULT_SCRYPT_COST,
  hashPassword,
  parseClientIdPattern,
  parsePasswordFile,
  updatePasswordFile,
} from '@mqtt-agents/broker';
import type { Command } from '../command.js';
import { parseFlags } from '../flags.js';
import { UsageError, type CliIo } from '../io.js';

export const passwdHelp = `Usage: mqtt-agents passwd <file> <user> --client-id <pattern>... [options]
       mqtt-agents passwd <file> <user> --delete

Add or replace <user> in a password file for 'mqtt-agents broker --password-file <file>'. The password is
read from stdin (its first line), or asked for twice on a terminal without echo; it never goes on the
command line. It is stored as a salted scrypt hash. The file is created (mode 0600) if it does not exist;
its other lines are kept.

Options:
  --client-id <pattern>  a client id the user may connect with (repeatable, at least one):
                         acme/line/planner   exactly that id
                         acme/line/*         '*' is one or more of [A-Za-z0-9_.-] within one level
                         {name}              the user name itself (when it is a valid client id)
  --role <role>          a role of the user (repeatable), e.g. operator: reads all agent traffic
  --cost <n>             scrypt cost, log2 of N (default ${DEFAULT_SCRYPT_COST}; at least 14)
  --delete               remove the user instead
  -h, --help             show this help
`;

const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_BYTES = 1024;

/** The first line of a stream (at most MAX_PASSWORD_BYTES; more is refused). */
async function firstLine(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    const end = text.search(/\r?\n/);
    if (end !== -1) return text.slice(0, end);
    if (Buffer.byteLength(text) > MAX_PASSWORD_BYTES) break;
  }
  if (Buffer.byteLength(text) > MAX_PASSWORD_BYTES) {
    throw new UsageError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
  }
  return text;
}

/** Ask on a terminal without echo (raw mode): characters until Enter; Ctrl-C aborts. */
function promptHidden(
  io: CliIo,
  stdin: Readable & { setRawMode(mode: boolean): void },
  label: string,
): Promise<string> {
  io.stderr(label);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.setEncoding('utf8');
    const finish = (error?: Error): void => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.stderr('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const character of chunk) {
        if (character === '\r' || character === '\n') return finish();
        if (character === '\u0003') return finish(new UsageError('aborted'));
        if (character === '\u007f' || character === '\b') value = value.slice(0, -1);
        else if (character >= ' ') value += character;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

async function readPassword(io: CliIo): Promise<string> {
  const stdin = io.stdin;
  if (!stdin) throw new UsageError('no stdin to read the password from');
  const terminal = stdin as Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => void };
  if (terminal.isTTY && typeof terminal.setRawMode === 'function') {
    const tty = terminal as Readable & { setRawMode(mode: boolean): void };
    const first = await promptHidden(io, tty, 'Password: ');
    const second = await promptHidden(io, tty, 'Password again: ');
    if (first !== second) throw new UsageError('the passwords do not match');
    return first;
  }
  return firstLine(stdin);
}

async function readExisting(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return '';
    throw new UsageError(`cannot read '${file}' (${(error as { code?: string }).code ?? 'error'})`);
  }
}

/** Write through a temporary file and a rename, so a crash never leaves half a password file. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, file);
}

/** `mqtt-agents passwd <file> <user>`: add, replace or delete a password-file entry. */
export async function passwdCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    allowPositionals: true,
    options: {
      'client-id': { type: 'string', multiple: true },
      role: { type: 'string', multiple: true },
      cost: { type: 'string' },
      delete: { type: 'boolean' },
    },
  });
  const [file, user, ...extra] = positionals;
  if (file === undefined || user === undefined) throw new UsageError('expected <file> <user>');
  if (extra.length > 0)
    throw new UsageError(`unexpected argument '${extra[0]}' (the password is read from stdin)`);
  const existing = await readExisting(file);
  try {
    parsePasswordFile(existing, `password file ${file}`);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.delete) {
    if (values['client-id'] || values.role) throw new UsageError('--delete takes no --client-id or --role');
    const updated = updatePasswordFile(existing, { user });
    if (updated === existing) throw new UsageError(`no user '${user}' in ${file}`);
    await writeAtomically(file, updated);
    io.stderr(`mqtt-agents passwd: removed '${user}' from ${file}\n`);
    return 0;
  }
  const clientIds = values['client-id'] ?? [];
  if (clientIds.length === 0)
    throw new UsageError('missing --client-id <pattern> (the client ids the user may use)');
  for (const pattern of clientIds) {
    try {
      parseClientIdPattern(pattern);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const cost = values.cost === undefined ? DEFAULT_SCRYPT_COST : Number(values.cost);
  if (!/^\d+$/.test(values.cost ?? '15') || cost < 14 || cost > 18) {
    throw new UsageError(`invalid --cost '${values.cost}': expected an integer from 14 to 18`);
  }
  const password = await readPassword(io);
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  const hash = await hashPassword(password, { cost });
  let updated: string;
  try {
    updated = updatePasswordFile(existing, { user, hash, clientIds, roles: values.role ?? [] });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  await writeAtomically(file, updated);
  const replaced = updatePasswordFile(existing, { user }) !== existing;
  io.stderr(`mqtt-agents passwd: ${replaced ? 'updated' : 'added'} '${user}' in ${file}\n`);
  return 0;
}

export const passwd: Command = {
  help: passwdHelp,
  run: passwdCommand,
};
