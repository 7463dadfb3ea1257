// Item 2 in process, on the embedded broker: LangChain's MCP adapters over an SDK Client connected through
// our host, a LangChain fake chat model that calls the tool, and LangGraph's ToolNode that runs it.
import { serveStore } from '@mqtt-agents/example-ai-sdk/tools-server';
import { startBroker } from '@mqtt-agents/broker';
import { describe, expect, it } from 'vitest';
import { askWithMqttTools } from '../src/mcp-tools.js';
import { scriptedStockModel } from '../src/scripted-model.js';

describe('LangChain.js with MCP tools over MQTT', () => {
  it('loadMcpTools gives the tools listed over MQTT, and the model calls one over MQTT', async () => {
    await using broker = await startBroker({ port: 0 });
    const store = await serveStore({ url: broker.url });
    await using _store = store.host;
    const answer = await askWithMqttTools({
      url: broker.url,
      model: scriptedStockModel('P-102'),
      question: 'How many P-102 are left?',
    });
    expect(answer.tools).toEqual(['stock']);
    expect(answer.toolCalls).toEqual(['stock']);
    expect(store.calls).toEqual(['P-102']); // the tool ran in the MCP server, reached over MQTT
    expect(answer.results).toEqual(['P-102: 42 in stock on shelf B3']);
  });
});
