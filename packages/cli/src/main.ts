import { brokerCommand, brokerHelp } from './commands/broker.js';
import { processIo, UsageError, type CliIo } from './io.js';

const commands: Record<string, { run: (argv: string[], io: CliIo) => Promise<number>; help: string }> = {
  broker: { run: brokerCommand, help: brokerHelp },
};

const mainHelp = `Usage: mqtt-agents <command> [options]

Commands:
  broker    run the embedded MQTT 5 broker in the foreground

Options:
  --help     show help for a command (mqtt-agents <command> --help)
  --debug    print stack traces on errors
`;

/** Run the CLI with the given arguments; resolves with the process exit code. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const debug = argv.includes('--debug');
  const args = argv.filter((arg) => arg !== '--debug');
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(mainHelp);
    return name === undefined ? 1 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.stderr(`mqtt-agents: unknown command '${name}' (see mqtt-agents --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.help);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`mqtt-agents ${name}: ${message}\n`);
    if (debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
