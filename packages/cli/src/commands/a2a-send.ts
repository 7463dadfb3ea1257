import type { Message, Task } from '@a2a-js/sdk';
import { Role, StreamResponse, TaskState } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { StreamFolder, isTerminalState } from '@mqtt-agents/a2a';
import { printable } from '@mqtt-agents/core';
import { openAgentClient } from '../a2a/agent-client.js';
import { parseAgentAddress, describeStreamResponse, partsText, stateName } from '../a2a/describe.js';
import type { Command, CommandContext } from '../command.js';
import { describeError } from '../errors.js';
import { brokerUrl, parseDuration, parseFlags, urlOption } from '../flags.js';
import { CommandError, UsageError } from '../io.js';

export const a2aSendHelp = `Usage: mqtt-agents a2a send <org>/<unit>/<agent> <text> [options]

Send a message to an A2A agent on MQTT and follow the task: every status and artifact update is shown as
it arrives (streaming agents), then the outcome. Exits 0 when the task completed (or the agent answered
with a message, or asks for more input), 1 when it failed, was rejected or canceled. Ctrl-C cancels the
task (CancelTask), prints its id and exits 130.

Example:
  mqtt-agents a2a send com.acme/travel/planner "plan Lisbon, 3"
  mqtt-agents a2a send com.acme/travel/planner "Lisbon, 3" --task <id> --context <id>   # answer input-required

Options:
  --task <id>            continue this task (after input-required)
  --context <id>         context of the conversation
  --no-stream            use SendMessage even when the agent streams
  --json                 print each response as JSON (one object per line)
  --wait <duration>      how long to wait for the agent's card (default 10s)
  --timeout <duration>   give up on the task after this long (default 5m)
  --url <url>            broker url (default: $MQTT_URL, else mqtt://localhost:1883)
  -h, --help             show this help
`;

/** How long a Ctrl-C waits for the agent to confirm the cancel. */
const CANCEL_TIMEOUT_MS = 5_000;

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The progress display on a terminal: one line, redrawn in place, erased when real output comes. */
class Spinner {
  #timer: ReturnType<typeof setInterval> | undefined;
  #frame = 0;
  #shown = false;

  constructor(
    private readonly io: CommandContext,
    private readonly elapsed: () => string,
  ) {}

  start(label: string): void {
    this.#timer = setInterval(() => {
      this.#frame = (this.#frame + 1) % FRAMES.length;
      this.io.stdout(`\r\x1b[2K${this.elapsed()}  ${FRAMES[this.#frame]} ${label}`);
      this.#shown = true;
    }, 100);
    this.#timer.unref?.();
  }

  clear(): void {
    if (this.#shown) this.io.stdout('\r\x1b[2K');
    this.#shown = false;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.clear();
  }
}

function userMessage(text: string, taskId: string, contextId: string): Message {
  return {
    messageId: globalThis.crypto.randomUUID(),
    contextId,
    taskId,
    role: Role.ROLE_USER,
    parts: [
      { content: { $case: 'text', value: text }, mediaType: 'text/plain', filename: '', metadata: undefined },
    ],
    metadata: undefined,
    extensions: [],
    referenceTaskIds: [],
  };
}

function isTask(result: Task | Message): result is Task {
  return 'status' in result && 'artifacts' in result;
}

async function a2aSendCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    allowPositionals: true,
    options: {
      ...urlOption,
      task: { type: 'string' },
      context: { type: 'string' },
      'no-stream': { type: 'boolean' },
      json: { type: 'boolean' },
      wait: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  if (positionals.length < 2) throw new UsageError('expected <org>/<unit>/<agent> and the text to send');
  if (positionals.length > 2) {
    throw new UsageError(`expected two arguments, got ${positionals.length}: quote the text to send`);
  }
  const [target, text] = positionals as [string, string];
  const address = parseAgentAddress(target);
  const wait = parseDuration('wait', values.wait, 10_000);
  const timeout = parseDuration('timeout', values.timeout, 300_000);
  const url = brokerUrl(values.url, context);
  const prefix = 'mqtt-agents a2a send';
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s`;
  // On a terminal, a spinner line shows the wait between updates; it is cleared before each update.
  const spinner = context.isTTY && !values.json ? new Spinner(context, elapsed) : undefined;
  const show = (line: string): void => {
    spinner?.clear();
    // What the agent sent is shown line by line, each escaped (no terminal escapes); JSON escapes itself.
    const text = line
      .split('\n')
      .map((part) => printable(part, 100_000))
      .join('\n         ');
    context.stdout(values.json ? `${line}\n` : `${elapsed()}  ${text}\n`);
  };

  // An agent whose card says offline is refused at once by the transport (AGENT_OFFLINE), in one line.
  const { client, agent, close } = await openAgentClient({ address, url, wait, prefix }, context);
  const abort = AbortSignal.any([context.signal, AbortSignal.timeout(timeout)]);
  const folder = new StreamFolder();
  try {
    const request = {
      tenant: '',
      message: userMessage(text, values.task ?? '', values.context ?? ''),
      configuration: undefined,
      metadata: undefined,
    };
    const streaming = agent.card.capabilities?.streaming === true && !values['no-stream'];
    spinner?.start(`waiting for ${agent.card.name}`);
    if (!values.json) {
      show(`→ ${address.key} (${agent.card.name}${streaming ? ', streaming' : ''}): ${text}`);
    }
    if (streaming) {
      for await (const response of client.sendMessageStream(request, { signal: abort })) {
        folder.add(response);
        show(
          values.json ? JSON.stringify(StreamResponse.toJSON(response)) : describeStreamResponse(response),
        );
      }
    } else {
      const result = await client.sendMessage(request, { signal: abort });
      const response: StreamResponse = isTask(result)
        ? { payload: { $case: 'task', value: result } }
        : { payload: { $case: 'message', value: result } };
      folder.add(response);
      if (values.json) show(JSON.stringify(StreamResponse.toJSON(response)));
    }
    const result = folder.result();
    if (!result) throw new CommandError(`agent '${address.key}' sent no answer`);
    if (!isTask(result)) {
      if (!values.json) show(`answer: ${partsText(result.parts)}`);
      return 0;
    }
    const state = result.status?.state;
    if (!values.json) {
      if (!streaming) {
        for (const artifact of result.artifacts) {
          show(
            `artifact ${artifact.name || artifact.artifactId}: ${partsText(artifact.parts).replace(/\n+$/, '')}`,
          );
        }
      }
      const note = partsText(result.status?.message?.parts);
      show(`task ${result.id} ${stateName(state)}${note ? `: ${note}` : ''}`);
    }
    if (state === TaskState.TASK_STATE_INPUT_REQUIRED || state === TaskState.TASK_STATE_AUTH_REQUIRED) {
      context.stderr(
        `the agent needs ${state === TaskState.TASK_STATE_AUTH_REQUIRED ? 'authorization' : 'more input'}: mqtt-agents a2a send ${address.key} "<answer>" --task ${result.id} --context ${result.contextId}\n`,
      );
      return 0;
    }
    if (state === TaskState.TASK_STATE_COMPLETED) return 0;
    if (isTerminalState(state)) {
      throw new CommandError(`task ${result.id} ${stateName(state)}`);
    }
    throw new CommandError(`task ${result.id} ended the stream in state ${stateName(state)}`);
  } catch (error) {
    if (context.signal.aborted) {
      spinner?.stop();
      return await interrupted(folder.result(), address.key, client, context, prefix);
    }
    if (abort.aborted) {
      const task = folder.result();
      const which =
        task && isTask(task) && task.id
          ? ` (task ${task.id}: mqtt-agents a2a get ${address.key} ${task.id})`
          : '';
      throw new CommandError(`no outcome within ${timeout} ms${which}`);
    }
    throw error;
  } finally {
    spinner?.stop();
    await close();
  }
}

/**
 * The user pressed Ctrl-C while the task ran: cancel it (the agent should not work on for nobody), say
 * which task it was and how it ended, and exit 130 as a shell expects after SIGINT.
 */
async function interrupted(
  result: Task | Message | undefined,
  key: string,
  client: Client,
  context: CommandContext,
  prefix: string,
): Promise<number> {
  if (!result || !isTask(result) || result.id === '') {
    context.stderr(`${prefix}: interrupted before the agent named the task; it may still run\n`);
    return 130;
  }
  if (isTerminalState(result.status?.state)) {
    context.stderr(
      `${prefix}: interrupted: task ${result.id} had ended (${stateName(result.status?.state)})\n`,
    );
    return 130;
  }
  try {
    const canceled = await client.cancelTask(
      { tenant: '', id: result.id, metadata: undefined },
      { signal: AbortSignal.timeout(CANCEL_TIMEOUT_MS) },
    );
    context.stderr(
      `${prefix}: interrupted: task ${result.id} ${stateName(canceled.status?.state)} (mqtt-agents a2a get ${key} ${result.id})\n`,
    );
  } catch (error) {
    context.stderr(
      `${prefix}: interrupted: task ${result.id} could not be canceled: ${describeError(error)} (mqtt-agents a2a cancel ${key} ${result.id})\n`,
    );
  }
  return 130;
}

export const a2aSend: Command = {
  help: a2aSendHelp,
  run: a2aSendCommand,
};
