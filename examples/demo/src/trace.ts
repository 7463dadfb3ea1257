import type { Broker, PublishedMessage } from '@mqtt-agents/broker';

const decoder = new TextDecoder();

function summarize(payload: Uint8Array, width = 90): string {
  if (payload.byteLength === 0) return '(empty)';
  const text = decoder.decode(payload).replace(/\s+/g, ' ');
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

function describeProperties(message: PublishedMessage): string {
  const parts: string[] = [];
  const properties = message.properties ?? {};
  if (properties.responseTopic) parts.push(`response-topic=${properties.responseTopic}`);
  if (properties.correlationData) parts.push(`correlation=${decoder.decode(properties.correlationData)}`);
  for (const [name, value] of Object.entries(properties.userProperties ?? {})) {
    parts.push(`${name}=${Array.isArray(value) ? value.join('|') : value}`);
  }
  return parts.length > 0 ? ` [${parts.join(' ')}]` : '';
}

/** Print every message that crosses the broker: topic, flags, properties and a payload summary. */
export function traceBroker(broker: Broker, write: (line: string) => void): () => void {
  const listener = (message: PublishedMessage): void => {
    const flags = `q${message.qos}${message.retain ? ' retained' : ''}`;
    write(
      `  ⇄ ${message.topic} (${flags})${describeProperties(message)}\n      ${summarize(message.payload)}`,
    );
  };
  broker.on('message-publish', listener);
  return () => broker.off('message-publish', listener);
}
