import type { Message, Task } from '@a2a-js/sdk';
import { Role, StreamResponse, TaskState } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { StreamFolder, discoverAgents, isTerminalState, mqttTransportFactory } from '@mqtt-agents/a2a';
import { MqttAgentsError, connectMqtt, printable } from '@mqtt-agents/core';
import { parseAgentAddress, describeStreamResponse, partsText, stateName } from '../a2a/describe.js';
import { cliLogger } from '../cli-logger.js';
import type { Command, CommandContext } from '../command.js';
import { brokerUrl, parseDuration, parseFlags, urlOption } from '../flags.js';
import { CommandError, UsageError } from '../io.js';

export const a2aSendHelp = `Usage: mqtt-agents a2a send <org>/<unit>/<agent> <text> [options]

Send a message to an A2A agent on MQTT and follow the task: every status and artifact update is shown as
it arrives (streaming agents), then the outcome. Exits 0 when the task completed (or the agent answered
with a message, or asks for more input), 1 when it failed, was rejected or canceled.

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
  const logger = cliLogger(context, 'mqtt-agents a2a send', context.debug);
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

  // One MQTT connection for discovery and requests, as requester {org}/{unit}/cli-<random>.
  const requesterId = `cli-${globalThis.crypto.randomUUID().slice(0, 8)}`;
  const connection = await connectMqtt({
    url,
    clientId: `${address.org}/${address.unit}/${requesterId}`,
    connectTimeoutMs: 5_000,
    logger,
    signal: context.signal,
  });
  logger.ready();
  const shared = { connection };
  const registry = await discoverAgents({ mqtt: shared, org: address.org, unit: address.unit, logger });
  const transports = mqttTransportFactory({
    mqtt: shared,
    org: address.org,
    unit: address.unit,
    agentId: requesterId,
    logger,
  });
  const abort = AbortSignal.any([context.signal, AbortSignal.timeout(timeout)]);
  try {
    let agent;
    try {
      agent = await registry.waitFor(address.agentId, { timeoutMs: wait, signal: context.signal });
    } catch (error) {
      if (MqttAgentsError.hasCode(error, 'REQUEST_TIMEOUT')) {
        throw new CommandError(`agent '${address.key}' not found on ${url}: no agent card within ${wait} ms`);
      }
      throw error;
    }
    if (agent.status === 'offline') {
      context.stderr(
        `mqtt-agents a2a send: warning: the card of '${address.key}' says offline; sending anyway\n`,
      );
    }
    const client = await new ClientFactory({
      transports: [transports, ...transports.aliases()],
    }).createFromAgentCard(agent.card);
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
    const folder = new StreamFolder();
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
    if (abort.aborted && !context.signal.aborted) throw new CommandError(`no outcome within ${timeout} ms`);
    throw error;
  } finally {
    spinner?.stop();
    await transports.close();
    await registry.close();
    await connection.close();
  }
}

export const a2aSend: Command = {
  help: a2aSendHelp,
  run: a2aSendCommand,
};
