// The narrated trace: every message that crosses the embedded broker, as one readable entry (topic, QoS
// and retain flags, MQTT 5 properties, and what the payload says in the protocol's own terms).
import type { Broker, ClientInfo, PublishedMessage } from '@mqtt-agents/broker';

const decoder = new TextDecoder();

export interface TraceStyle {
  topic(text: string): string;
  dim(text: string): string;
}

export const plainStyle: TraceStyle = { topic: (text) => text, dim: (text) => text };
export const colorStyle: TraceStyle = {
  topic: (text) => `\x1b[36m${text}\x1b[39m`,
  dim: (text) => `\x1b[2m${text}\x1b[22m`,
};

export interface Trace {
  /** Messages seen so far, by protocol. */
  readonly counts: { mcp: number; a2a: number; other: number };
  /** Stop printing (counting goes on). */
  mute(): void;
  unmute(): void;
  stop(): void;
}

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clip(text: string, width = 70): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, width - 1)}…` : flat;
}

function quote(text: string, width?: number): string {
  return `"${clip(text, width)}"`;
}

/** The text of ProtoJSON parts (`[{ text: '...' }]`). */
function partsText(parts: unknown): string {
  if (!Array.isArray(parts)) return '';
  return parts.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

function stateName(state: unknown): string {
  return typeof state === 'string'
    ? state
        .replace(/^TASK_STATE_/, '')
        .toLowerCase()
        .replace(/_/g, '-')
    : '?';
}

function shortId(id: unknown): string {
  return typeof id === 'string' ? id.slice(0, 8) : String(id);
}

const UUID = /\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

/** UUIDs (request ids, reply topic suffixes, context ids) shortened to their first 8 digits. */
export function shortenIds(text: string): string {
  return text.replace(UUID, '$1…');
}

/** A2A results: a Task, a Message, or a stream item (status or artifact update). */
function describeA2AResult(result: Json): string | undefined {
  if (isRecord(result.task)) {
    const task = result.task;
    const status = isRecord(task.status) ? task.status : {};
    const note = isRecord(status.message) ? partsText(status.message.parts) : '';
    const artifacts = Array.isArray(task.artifacts)
      ? task.artifacts
          .map((entry) => (isRecord(entry) ? String(entry.name ?? entry.artifactId) : ''))
          .filter(Boolean)
      : [];
    return `Task ${shortId(task.id)} ${stateName(status.state)}${note ? ` ${quote(note, 40)}` : ''}${artifacts.length > 0 ? `, artifacts: ${artifacts.join(', ')}` : ''}`;
  }
  if (isRecord(result.statusUpdate)) {
    const update = result.statusUpdate;
    const status = isRecord(update.status) ? update.status : {};
    const note = isRecord(status.message) ? partsText(status.message.parts) : '';
    return `status ${stateName(status.state)}${note ? ` ${quote(note, 50)}` : ''}  (task ${shortId(update.taskId)})`;
  }
  if (isRecord(result.artifactUpdate)) {
    const update = result.artifactUpdate;
    const artifact = isRecord(update.artifact) ? update.artifact : {};
    const name = String(artifact.name ?? artifact.artifactId ?? 'artifact');
    return `artifact ${name}${update.append ? ' (append)' : ''} ${quote(partsText(artifact.parts), 50)}`;
  }
  if (isRecord(result.message)) return `Message ${quote(partsText(result.message.parts))}`;
  return undefined;
}

function describeRequest(method: string, params: Json, id: unknown): string {
  const suffix = id === undefined ? '' : `  #${String(id)}`;
  switch (method) {
    case 'initialize': {
      const client = isRecord(params.clientInfo) ? params.clientInfo : {};
      return `initialize from ${quote(String(client.name ?? '?'))}, protocol ${String(params.protocolVersion)}${suffix}`;
    }
    case 'tools/call':
      return `tools/call ${String(params.name)} ${JSON.stringify(params.arguments ?? {})}${suffix}`;
    case 'notifications/server/online': {
      // A draining instance keeps its presence, with meta.draining: clients move their sessions away.
      const draining = isRecord(params.meta) && params.meta.draining === true;
      return `server online${draining ? ', draining (no new sessions)' : ''}: ${quote(String(params.description ?? ''))}`;
    }
    case 'SendMessage':
    case 'SendStreamingMessage': {
      const message = isRecord(params.message) ? params.message : {};
      return `${method} ${quote(partsText(message.parts), 60)}${suffix}`;
    }
    default:
      return `${method}${suffix}`;
  }
}

function describeResult(result: unknown, id: unknown): string {
  const suffix = `  #${String(id)}`;
  if (!isRecord(result)) return `result ${clip(JSON.stringify(result))}${suffix}`;
  const a2a = describeA2AResult(result);
  if (a2a) return `${a2a}${suffix}`;
  if (isRecord(result.serverInfo)) {
    const capabilities = isRecord(result.capabilities) ? Object.keys(result.capabilities).join(', ') : '';
    return `initialized: server ${quote(String(result.serverInfo.name))} ${String(result.serverInfo.version ?? '')}, capabilities: ${capabilities}${suffix}`;
  }
  if (Array.isArray(result.tools)) {
    const names = result.tools.map((tool) => (isRecord(tool) ? String(tool.name) : '?'));
    return `${names.length} tools: ${names.join(', ')}${suffix}`;
  }
  if (Array.isArray(result.content)) {
    const text = result.content
      .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
      .join(' ');
    return `result ${quote(text)}${suffix}`;
  }
  if (Object.keys(result).length === 0) return `ok${suffix}`;
  return `result ${clip(JSON.stringify(result))}${suffix}`;
}

/** What a payload says, in the protocol's terms. */
export function describePayload(topic: string, payload: Uint8Array): string {
  if (payload.byteLength === 0) {
    if (topic.startsWith('$mcp-server/presence/'))
      return '(empty) the retained presence is cleared: server offline';
    if (topic.startsWith('$a2a/v1/discovery/'))
      return '(empty) the retained card is cleared: agent unregistered';
    return '(empty)';
  }
  const text = decoder.decode(payload);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return quote(text);
  }
  if (!isRecord(value)) return clip(text);
  if (value.jsonrpc === '2.0') {
    if (typeof value.method === 'string')
      return describeRequest(value.method, isRecord(value.params) ? value.params : {}, value.id);
    if ('error' in value && isRecord(value.error)) {
      return `error ${String(value.error.code)} ${quote(String(value.error.message))}  #${String(value.id)}`;
    }
    if ('result' in value) return describeResult(value.result, value.id);
  }
  if (topic.startsWith('$a2a/v1/discovery/') && typeof value.name === 'string') {
    const skills = Array.isArray(value.skills)
      ? value.skills.map((skill) => (isRecord(skill) ? String(skill.id) : '?'))
      : [];
    const streaming = isRecord(value.capabilities) && value.capabilities.streaming === true;
    return `AgentCard ${quote(value.name)}, skills: ${skills.join(', ') || '-'}${streaming ? ', streaming' : ''}`;
  }
  return clip(text);
}

/** MQTT 5 properties worth seeing: Response Topic, Correlation Data, user properties. */
export function describeProperties(message: PublishedMessage): string {
  const properties = message.properties ?? {};
  const parts: string[] = [];
  const user = { ...(properties.userProperties ?? {}) } as Record<string, string | string[]>;
  const component = user['MCP-COMPONENT-TYPE'];
  const sender = user['MCP-MQTT-CLIENT-ID'];
  if (component !== undefined && sender !== undefined) {
    // The two properties the MCP binding puts on every publish, shown together.
    parts.push(`MCP-MQTT-CLIENT-ID=${String(sender)} (${String(component)})`);
    delete user['MCP-COMPONENT-TYPE'];
    delete user['MCP-MQTT-CLIENT-ID'];
  }
  for (const [name, value] of Object.entries(user))
    parts.push(`${name}=${Array.isArray(value) ? value.join('|') : value}`);
  if (properties.responseTopic) parts.push(`response-topic=${properties.responseTopic}`);
  if (properties.correlationData)
    parts.push(`correlation=${decoder.decode(properties.correlationData).slice(0, 8)}…`);
  if (properties.contentType && properties.contentType !== 'application/json') {
    parts.push(`content-type=${properties.contentType}`);
  }
  return parts.join('  ');
}

/** Print every message that crosses the broker, two lines each, while not muted. */
export function traceBroker(
  broker: Broker,
  write: (line: string) => void,
  style: TraceStyle = plainStyle,
): Trace {
  const counts = { mcp: 0, a2a: 0, other: 0 };
  let muted = false;
  const listener = (message: PublishedMessage, client: ClientInfo | undefined): void => {
    if (message.topic.startsWith('$mcp-')) counts.mcp += 1;
    else if (message.topic.startsWith('$a2a/')) counts.a2a += 1;
    else counts.other += 1;
    if (muted) return;
    const flags = [`q${message.qos}`, ...(message.retain ? ['retained'] : [])].join(' ');
    const from = client ? `from ${client.id}` : 'from the broker';
    const properties = describeProperties(message);
    const summary = shortenIds(describePayload(message.topic, message.payload));
    write(`    ⇢ ${style.topic(shortenIds(message.topic))}  ${style.dim(`[${flags}] ${from}`)}`);
    write(`        ${summary}${properties ? `  ${style.dim(`‹${shortenIds(properties)}›`)}` : ''}`);
  };
  broker.on('message-publish', listener);
  return {
    counts,
    mute: () => {
      muted = true;
    },
    unmute: () => {
      muted = false;
    },
    stop: () => broker.off('message-publish', listener),
  };
}
