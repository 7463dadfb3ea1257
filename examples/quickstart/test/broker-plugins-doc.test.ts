// What docs/broker-plugins.md promises about the A2A registry, with a real agent on the embedded broker: the
// composition of its first snippet lets an ordinary agent come online; `trustedJkus` refuses an agent whose
// card names no jwksUri (and the logger says which check refused), and accepts one that publishes a trusted
// jwksUri with `securityMetadata`.
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import {
  a2aRegistry,
  agentTopicAcl,
  composePlugins,
  mcpBrokerHelpers,
  startBroker,
} from '@mqtt-agents/broker';
import type { BrokerLogger } from '@mqtt-agents/broker';
import { describe, expect, it } from 'vitest';

const executor: AgentExecutor = { async execute() {}, async cancelTask() {} };

function recordingLogger(): BrokerLogger & { lines: string[] } {
  const lines: string[] = [];
  const record = (message: string) => void lines.push(message);
  return { lines, debug: record, info: record, warn: record, error: record };
}

describe('docs/broker-plugins.md', () => {
  it('the first snippet: an ordinary agent registers its card and comes online', async () => {
    const logger = recordingLogger();
    const plugins = composePlugins(
      a2aRegistry({ logger }),
      agentTopicAcl({ a2aScope: 'org' }),
      mcpBrokerHelpers({ serverName: (client) => `fleet/${client.id}`, roles: () => [] }),
    );
    await using broker = await startBroker({ ...plugins.hooks });
    const detach = plugins.attach?.(broker);
    await using agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org: 'com.acme',
      unit: 'plant-1',
      agentId: 'planner',
      card: { name: 'Planner' },
      executor,
    });
    expect(agent.clientId).toBe('com.acme/plant-1/planner');
    expect(broker.getRetained('$a2a/v1/discovery/com.acme/plant-1/planner')?.payload.length).toBeGreaterThan(
      0,
    );
    expect(logger.lines.filter((line) => line.includes('refused'))).toEqual([]);
    detach?.();
  });

  it('trustedJkus: a card without jwksUri is refused (the log names the check), a trusted one is not', async () => {
    const logger = recordingLogger();
    const registry = a2aRegistry({ trustedJkus: ['https://keys.example.com/agents/'], logger });
    await using broker = await startBroker({ ...registry.hooks });
    const detach = registry.attach(broker);
    const serve = (agentId: string, jwksUri?: string) =>
      serveA2AOverMqtt({
        mqtt: { url: broker.url },
        org: 'com.acme',
        unit: 'plant-1',
        agentId,
        card: { name: agentId },
        executor,
        ...(jwksUri === undefined ? {} : { securityMetadata: { jwksUri } }),
      });

    await expect(serve('ordinary')).rejects.toMatchObject({
      code: 'PUBLISH_FAILED',
      message: expect.stringContaining('0x87'),
    });
    expect(logger.lines).toContainEqual(expect.stringContaining('the card names no jwksUri'));

    await using trusted = await serve('keyed', 'https://keys.example.com/agents/keyed.json');
    expect(trusted.clientId).toBe('com.acme/plant-1/keyed');
    detach();
  });
});
