import { Task } from '@a2a-js/sdk';
import { openAgentClient } from '../a2a/agent-client.js';
import { parseAgentAddress, partsText, stateName } from '../a2a/describe.js';
import type { Command, CommandContext } from '../command.js';
import { brokerUrl, parseDuration, parseFlags, urlOption } from '../flags.js';
import { UsageError } from '../io.js';

const commonOptions = `  --json                 print the task as A2A JSON
  --wait <duration>      how long to wait for the agent's card (default 10s)
  --timeout <duration>   how long to wait for the agent's answer (default 30s)
  --url <url>            broker url (default: $MQTT_URL, else mqtt://localhost:1883)
  -h, --help             show this help`;

export const a2aGetHelp = `Usage: mqtt-agents a2a get <org>/<unit>/<agent> <task-id> [options]

Show a task of an A2A agent on MQTT (GetTask): its state, status message and artifacts. The task id is
the one \`a2a send\` printed.

Options:
  --history <n>          at most this many messages of the task's history (default: the agent's choice)
${commonOptions}
`;

export const a2aCancelHelp = `Usage: mqtt-agents a2a cancel <org>/<unit>/<agent> <task-id> [options]

Cancel a task of an A2A agent on MQTT (CancelTask) and show the state it ended in. Exits 1 when the agent
refuses (the task ended already, or cannot be canceled).

Options:
${commonOptions}
`;

const options = {
  ...urlOption,
  json: { type: 'boolean' },
  wait: { type: 'string' },
  timeout: { type: 'string' },
} as const;

/** The lines `a2a get` and `a2a cancel` print for a task. */
export function describeTask(task: Task): string {
  const note = partsText(task.status?.message?.parts);
  const lines = [`task ${task.id} ${stateName(task.status?.state)}${note ? `: ${note}` : ''}`];
  if (task.contextId) lines.push(`  context ${task.contextId}`);
  for (const artifact of task.artifacts) {
    lines.push(
      `  artifact ${artifact.name || artifact.artifactId}: ${partsText(artifact.parts).replace(/\n+$/, '')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function taskArguments(positionals: string[]): { target: string; taskId: string } {
  if (positionals.length !== 2) {
    throw new UsageError(`expected <org>/<unit>/<agent> and <task-id>, got ${positionals.length} arguments`);
  }
  const [target, taskId] = positionals as [string, string];
  if (taskId.trim() === '') throw new UsageError('the <task-id> is empty');
  return { target, taskId };
}

async function runTaskCommand(
  argv: string[],
  context: CommandContext,
  name: 'get' | 'cancel',
): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    allowPositionals: true,
    options: name === 'get' ? { ...options, history: { type: 'string' } } : options,
  });
  const { target, taskId } = taskArguments(positionals);
  const address = parseAgentAddress(target);
  const wait = parseDuration('wait', values.wait, 10_000);
  const timeout = parseDuration('timeout', values.timeout, 30_000);
  const history = (values as { history?: string }).history;
  if (history !== undefined && !/^\d+$/.test(history)) {
    throw new UsageError(`invalid --history '${history}': expected a number of messages`);
  }
  const url = brokerUrl(values.url, context);
  const prefix = `mqtt-agents a2a ${name}`;
  const { client, close } = await openAgentClient({ address, url, wait, prefix }, context);
  try {
    const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeout)]);
    const task =
      name === 'get'
        ? await client.getTask(
            {
              tenant: '',
              id: taskId,
              ...(history === undefined ? {} : { historyLength: Number(history) }),
            },
            { signal },
          )
        : await client.cancelTask({ tenant: '', id: taskId, metadata: undefined }, { signal });
    context.stdout(values.json ? `${JSON.stringify(Task.toJSON(task))}\n` : describeTask(task));
    return 0;
  } finally {
    await close();
  }
}

export const a2aGet: Command = {
  help: a2aGetHelp,
  run: (argv, context) => runTaskCommand(argv, context, 'get'),
};

export const a2aCancel: Command = {
  help: a2aCancelHelp,
  run: (argv, context) => runTaskCommand(argv, context, 'cancel'),
};
