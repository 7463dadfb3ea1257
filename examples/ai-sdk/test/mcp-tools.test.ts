// Item 1 in process, on the embedded broker: the AI SDK's MCP client over our transport, driven by the AI
// SDK's mock model. The tool must run in the MCP server (over MQTT), and its answer must reach the text.
import { startBroker } from '@mqtt-agents/broker';
import { describe, expect, it } from 'vitest';
import { askWithMqttTools } from '../src/mcp-tools.js';
import { scriptedStockModel } from '../src/scripted-model.js';
import { serveStore } from '../src/tools-server.js';

describe('the Vercel AI SDK with MCP tools over MQTT', () => {
  it('generateText calls the tool through createMCPClient({ transport }) and answers with its result', async () => {
    await using broker = await startBroker({ port: 0 });
    const store = await serveStore({ url: broker.url });
    await using _host = store.host;
    const model = scriptedStockModel();
    const answer = await askWithMqttTools({ url: broker.url, model, prompt: 'How many P-102 are left?' });
    expect(store.calls).toEqual(['P-102']); // the tool ran in the server, reached over MQTT
    expect(answer.toolCalls).toEqual(['stock']);
    expect(answer.text).toBe('The store says: P-102: 42 in stock on shelf B3');
    // The model saw the tool as listed over MQTT (name, description and input schema).
    const offered = model.doGenerateCalls[0]?.tools ?? [];
    expect(offered).toEqual([
      expect.objectContaining({
        type: 'function',
        name: 'stock',
        description: 'How many of a spare part are in stock, and on which shelf',
        inputSchema: expect.objectContaining({
          properties: { part: expect.objectContaining({ type: 'string' }) },
        }),
      }),
    ]);
  });
});
