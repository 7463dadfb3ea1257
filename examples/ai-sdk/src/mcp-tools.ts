// Item 1: MCP tools served over MQTT, used by the Vercel AI SDK's MCP client. The transport the AI SDK
// takes is our client transport as is: `host.createTransport(serverName)` picks an instance of the server
// (discovered on the broker) and `createMCPClient({ transport })` runs initialize over MQTT.
import { createMCPClient } from '@ai-sdk/mcp';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import { generateText, stepCountIs } from 'ai';
import type { LanguageModel } from 'ai';
import { STORE_SERVER_NAME } from './tools-server.js';

/** Ask `model` a question with the store's MCP tools, reached over MQTT. */
export async function askWithMqttTools(options: {
  url: string;
  model: LanguageModel;
  prompt: string;
}): Promise<{ text: string; toolCalls: string[] }> {
  await using clients = await createMcpMqttClientHost({ mqtt: { url: options.url } });
  const transport = await clients.createTransport(STORE_SERVER_NAME);
  const mcp = await createMCPClient({ transport });
  try {
    const tools = await mcp.tools(); // tools/list over MQTT: `stock`, as AI SDK tools
    const result = await generateText({
      model: options.model,
      tools,
      prompt: options.prompt,
      stopWhen: stepCountIs(3), // tool call, then the answer
    });
    return {
      text: result.text,
      toolCalls: result.steps.flatMap((step) => step.toolCalls.map((call) => call.toolName)),
    };
  } finally {
    await mcp.close(); // de-initializes the MQTT session; the host closes the MQTT connection
  }
}
