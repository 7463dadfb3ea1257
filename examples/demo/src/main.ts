// The README's demo: a small agent world on the embedded MQTT 5 broker, in this one process, with no
// network and no API keys. Two MCP servers (one with two instances), three A2A agents (one streaming), and
// a client that discovers them, calls tools across instances and delegates a multi-step task; an impostor
// tries to read and plant traffic and the broker's identity-binding ACL refuses it. Then an instance
// crashes and another drains: the client's session fails over each time and the same SDK Client goes on.
// Every message that crosses the broker is printed as it goes.
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { discoverAgents, mqttTransportFactory } from '@mqtt-agents/a2a';
import { agentTopicAcl, startBroker } from '@mqtt-agents/broker';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import type { McpClientHost, McpFailoverEvent, McpServerChange } from '@mqtt-agents/mcp';
import { colorStyle, plainStyle, traceBroker } from './trace.js';
import { CAMERA, PRESS } from './world/mcp-servers.js';
import { ORG, UNIT, crash, startAgents, startMcpServers } from './world/start-world.js';
import { tryImpostor } from './world/impostor.js';
import { artifactText, userMessage } from './world/parts.js';

const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
const style = color ? colorStyle : plainStyle;
const write = (line = ''): void => void process.stdout.write(`${line}\n`);
const bold = (text: string): string => (color ? `\x1b[1m${text}\x1b[22m` : text);
let step = 0;
const section = (title: string, explanation: string): void => {
  step += 1;
  write();
  write(bold(`${step}. ${title}`));
  write(`   ${explanation}`);
};
const say = (line: string): void => write(`   ${bold('»')} ${line}`);

function toolText(result: unknown): string {
  const content = (result as { content?: Array<{ text?: string }> }).content ?? [];
  return content.map((part) => part.text ?? '').join(' ');
}

/** The next presence change that matches; subscribe (call this) before the change can happen. */
async function nextChange(
  tools: McpClientHost,
  matches: (change: McpServerChange) => boolean,
): Promise<McpServerChange> {
  const stop = new AbortController();
  try {
    for await (const change of tools.discover({ signal: stop.signal })) if (matches(change)) return change;
  } finally {
    stop.abort();
  }
  throw new Error('the client host closed before the change');
}

/** The next failover event of the client host. */
function nextFailover(tools: McpClientHost): Promise<McpFailoverEvent> {
  return new Promise((resolve) => {
    const off = tools.on('failover', (event) => {
      off();
      resolve(event);
    });
  });
}

function describeFailover(event: McpFailoverEvent): string {
  const counts = `${event.retried} retried, ${event.failed} failed`;
  return `${event.from} → ${event.to ?? 'nowhere'} (reason: ${event.reason}, ${event.outcome} in ${event.durationMs} ms, ${counts})`;
}

async function main(): Promise<void> {
  const started = Date.now();
  // The identity-binding ACL: each agent's topics belong to the client id they name (scene 5).
  await using broker = await startBroker({ port: 0, ...agentTopicAcl().hooks });
  const mqtt = { url: broker.url };
  write(bold('mqtt-agents demo: MCP servers and A2A agents on one MQTT 5 broker'));
  write(`embedded broker on ${broker.url}. Lines starting with ⇢ are messages crossing it:`);
  write('topic, [QoS, retain] and sender, then what the payload says and its MQTT 5 properties ‹…›');
  write('(UUIDs are shortened to 8 digits).');
  const trace = traceBroker(broker, write, style);

  // --- the world ---------------------------------------------------------------------------------------
  section(
    'Two MCP servers come online',
    `${PRESS} runs as two instances, ${CAMERA} as one. Each publishes a retained presence; its will clears it.`,
  );
  // No reconnect: a crashed instance stays dead (scene 7).
  await using mcpServers = await startMcpServers({ ...mqtt, reconnectPeriodMs: 0 });

  section(
    'Three A2A agents come online',
    `Each connects as ${ORG}/${UNIT}/<agent> and retains its Agent Card. The reporter streams; the inspector uses the camera's MCP tool.`,
  );
  await using _agents = await startAgents(mqtt);

  // --- the client --------------------------------------------------------------------------------------
  section(
    'A client discovers everything',
    'It subscribes to $mcp-server/presence/+/factory/# and $a2a/v1/discovery/com.acme/plant-1/+: the broker hands it the retained presences and cards at once.',
  );
  await using tools = await createMcpMqttClientHost({
    mqtt,
    clientId: 'demo-client',
    serverNameFilters: ['factory/#'],
  });
  await using agents = await discoverAgents({ mqtt, org: ORG, unit: UNIT, agentId: 'demo-client' });
  await tools.waitForServer(CAMERA);
  await Promise.all(['planner', 'inspector', 'reporter'].map((id) => agents.waitFor(id, { online: true })));
  for (const [name, instances] of [...tools.servers()].sort(([a], [b]) => a.localeCompare(b))) {
    say(
      `MCP server ${name}: ${instances.length} instance(s) ${instances.map((instance) => instance.serverId).join(', ')}`,
    );
  }
  for (const agent of agents.list().sort((a, b) => a.key.localeCompare(b.key))) {
    const streaming = agent.card.capabilities?.streaming ? ', streaming' : '';
    say(
      `A2A agent ${agent.key}: "${agent.card.name}" (${agent.status}${streaming}), skills: ${agent.card.skills.map((skill) => skill.id).join(', ')}`,
    );
  }

  section(
    'The client calls tools across the two press instances',
    'One MCP session per instance (round-robin): initialize goes to the control topic, the rest to $mcp-rpc/{client}/{server-id}/{name}.',
  );
  const first = new Client({ name: 'demo-client', version: '1.0.0' });
  const second = new Client({ name: 'demo-client', version: '1.0.0' });
  const firstSession = await tools.connect(first, PRESS, { select: 'round-robin' });
  const secondSession = await tools.connect(second, PRESS, { select: 'round-robin' });
  say(`sessions with ${firstSession.serverId} and ${secondSession.serverId}`);
  say(toolText(await first.callTool({ name: 'stroke', arguments: { count: 5 } })));
  say(toolText(await second.callTool({ name: 'stroke', arguments: { count: 3 } })));
  say(toolText(await first.callTool({ name: 'status', arguments: {} })));
  say(toolText(await second.callTool({ name: 'status', arguments: {} })));

  section(
    'An impostor tries to listen in and to plant a request',
    'The broker binds every topic level that names an agent to the client id it must be (agentTopicAcl): mallory, a plain MQTT client, gets reason codes, not traffic.',
  );
  const attempts = await tryImpostor(broker.url, {
    mcpClientId: 'demo-client',
    serverId: firstSession.serverId,
    serverName: PRESS,
  });
  for (const { attempt, answer } of attempts) say(`${attempt}: ${answer}`);
  if (attempts.some((attempt) => !attempt.refused)) throw new Error('the broker let the impostor through');

  section(
    'The client delegates a multi-step task to the planner',
    'The planner asks the inspector about each part (the inspector asks the camera over MCP), then has the reporter stream a report.',
  );
  await using requests = mqttTransportFactory({
    mqtt,
    org: ORG,
    unit: UNIT,
    agentId: 'demo-client-requests',
  });
  const planning = await new ClientFactory({ transports: [requests] }).createFromAgentCard(
    (agents.get('planner') ?? (await agents.waitFor('planner'))).card,
  );
  const task = (await planning.sendMessage({
    tenant: '',
    message: userMessage('inspect P-101, P-102 and P-103'),
    configuration: undefined,
    metadata: undefined,
  })) as Task;
  if (task.status?.state !== TaskState.TASK_STATE_COMPLETED)
    throw new Error('the planner did not complete the task');
  say(`task ${task.id.slice(0, 8)} completed; its report:`);
  for (const line of artifactText(task, 'report').trimEnd().split('\n')) write(`       ${line}`);

  section(
    'press-a crashes: its session fails over to press-b',
    "press-a's socket dies without DISCONNECT (as with kill -9): the broker publishes its will, which clears its retained presence. The client host moves the session to press-b (on a second MQTT connection: its own already has a session there) and replays initialize; the SDK Client goes on.",
  );
  const clientOnA = firstSession.serverId === 'press-a' ? first : second;
  const sessionOnA = clientOnA === first ? firstSession : secondSession;
  const clientOnB = clientOnA === first ? second : first;
  const crashed = nextChange(tools, (change) => change.type === 'offline');
  const crashFailover = nextFailover(tools);
  crash(mcpServers.pressA);
  say(`discovery: ${(await crashed).server.serverId} of ${PRESS} went offline (its will)`);
  const moved = await crashFailover;
  if (moved.outcome !== 'moved' || moved.to !== 'press-b')
    throw new Error('the session did not move to press-b');
  say(`failover: ${describeFailover(moved)}`);
  say(
    `the same SDK Client asks again: ${toolText(await clientOnA.callTool({ name: 'status', arguments: {} }))} (session on ${sessionOnA.serverId}, ${sessionOnA.failovers} failover)`,
  );
  if (sessionOnA.serverId !== 'press-b') throw new Error('the session is not on press-b');
  say(
    `the other session, with press-b all along, did not notice: ${toolText(await clientOnB.callTool({ name: 'status', arguments: {} }))}`,
  );
  await clientOnB.close();
  say('that client is done: client.close() ends its session (the MQTT connection stays)');

  section(
    'A replacement comes online, and press-b drains with a die change in flight',
    'press-c starts. Then press-b drains for maintenance: its presence says draining, so the client host moves the session to press-c at once, while press-b still finishes the call it holds. The operator at press-b takes a while to clamp the die.',
  );
  const replacement = nextChange(
    tools,
    (change) => change.type === 'online' && change.server.serverId === 'press-c',
  );
  await mcpServers.startPress('press-c');
  await replacement;
  say(`discovery: press-c of ${PRESS} is online`);
  const dieChange = clientOnA.callTool({ name: 'change-die', arguments: { die: 'D-7' } });
  const operatorB = mcpServers.presses.get('press-b')!.operator;
  await operatorB.asked();
  say('change-die D-7 is in flight on press-b: its operator is clamping the die');
  const drainFailover = nextFailover(tools);
  const bOffline = nextChange(
    tools,
    (change) => change.type === 'offline' && change.server.serverId === 'press-b',
  );
  const drained = mcpServers.pressB.drain({ graceMs: 30_000 });
  const drainMove = await drainFailover;
  if (drainMove.outcome !== 'moved' || drainMove.to !== 'press-c')
    throw new Error('the session did not move to press-c');
  say(`failover: ${describeFailover(drainMove)}`);
  say(
    `the same SDK Client, while the die change is still in flight: ${toolText(await clientOnA.callTool({ name: 'status', arguments: {} }))}`,
  );
  operatorB.confirm();
  say(`the operator confirms; the call in flight completes: ${toolText(await dieChange)}`);
  const drain = await drained;
  await bOffline;
  if (drain.sessionsClosedAtDeadline !== 0) throw new Error('press-b had to close a session at its deadline');
  say(
    `press-b drained: ${drain.sessionsAtStart} session(s) at the start, ${drain.sessionsLeftByClients} left by their client, ${drain.sessionsClosedAtDeadline} closed at the deadline; it is offline now`,
  );
  trace.mute();
  say(
    `MCP server ${PRESS} now has ${tools.instancesOf(PRESS).length} instance: ${tools
      .instancesOf(PRESS)
      .map((instance) => instance.serverId)
      .join(', ')}; the session moved ${sessionOnA.failovers} times and is on ${sessionOnA.serverId}`,
  );

  // --- the end -----------------------------------------------------------------------------------------
  await clientOnA.close();
  const { mcp, a2a } = trace.counts;
  write();
  write(
    bold(
      `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${mcp} MCP and ${a2a} A2A messages crossed the broker.`,
    ),
  );
  write('Next: the same world across processes and hosts, with the mqtt-agents CLI (docs/cli.md).');
  trace.stop();
}

main().catch((error: unknown) => {
  process.stderr.write(
    `demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
