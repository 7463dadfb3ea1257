// Item 3 in process, on the embedded broker: an A2A requester asks the storekeeper over MQTT; the
// storekeeper's executor is an AI SDK generateText (the AI SDK's mock model) that calls the store's MCP tool
// over MQTT; the answer comes back to the requester over MQTT.
import { startBroker } from '@mqtt-agents/broker';
import { describe, expect, it } from 'vitest';
import { askStorekeeper, serveStorekeeper } from '../src/a2a-agent.js';
import { scriptedStockModel } from '../src/scripted-model.js';
import { serveStore } from '../src/tools-server.js';

describe('an A2A agent whose executor is a Vercel AI SDK agent with MCP tools over MQTT', () => {
  it('answers a requester over MQTT with what the MCP tool returned', async () => {
    await using broker = await startBroker({ port: 0 });
    const store = await serveStore({ url: broker.url });
    await using _store = store.host;
    const model = scriptedStockModel();
    await using _agent = await serveStorekeeper({ url: broker.url, model });

    const answer = await askStorekeeper({ url: broker.url, question: 'How many P-205 are left?' });
    expect(answer).toBe('The store says: P-205: 0 in stock on shelf C1');
    expect(store.calls).toEqual(['P-205']); // the tool ran in the MCP server, over MQTT
    expect(model.doGenerateCalls).toHaveLength(2); // the tool call, then the answer

    // A second question on a new task reuses the agent's MCP session.
    const again = await askStorekeeper({ url: broker.url, question: 'And P-102?' });
    expect(again).toBe('The store says: P-102: 42 in stock on shelf B3');
    expect(store.calls).toEqual(['P-205', 'P-102']);
  });
});
