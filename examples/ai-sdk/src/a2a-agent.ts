// Item 3: an A2A agent whose executor is a Vercel AI SDK agent calling MQTT tools. The agent is served over
// MQTT (serveA2AOverMqtt), its executor runs generateText with the store's MCP tools (reached over MQTT with
// the AI SDK's MCP client), and a requester asks it a question over MQTT with the official A2A client.
import { Role } from '@a2a-js/sdk';
import type { Message, Part } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { createMCPClient } from '@ai-sdk/mcp';
import { discoverAgents, mqttTransportFactory, serveA2AOverMqtt } from '@mqtt-agents/a2a';
import type { A2AMqttAgent } from '@mqtt-agents/a2a';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import { generateText, stepCountIs } from 'ai';
import type { LanguageModel, ToolSet } from 'ai';
import { STORE_SERVER_NAME } from './tools-server.js';

export const ORG = 'com.acme';
export const UNIT = 'plant-1';
export const AGENT_ID = 'storekeeper';

const text = (value: string): Part => ({
  content: { $case: 'text', value },
  mediaType: 'text/plain',
  filename: '',
  metadata: undefined,
});
const message = (role: Role, value: string, contextId = ''): Message => ({
  messageId: globalThis.crypto.randomUUID(),
  role,
  parts: [text(value)],
  contextId,
  taskId: '',
  metadata: undefined,
  extensions: [],
  referenceTaskIds: [],
});
const textOf = (parts: Part[] | undefined): string =>
  (parts ?? []).map((part) => (part.content?.$case === 'text' ? part.content.value : '')).join('');

/** An ordinary @a2a-js/sdk executor whose work is one AI SDK `generateText` with tools. */
export class AiSdkExecutor implements AgentExecutor {
  constructor(private readonly options: { model: LanguageModel; tools: ToolSet; system?: string }) {}

  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const result = await generateText({
      model: this.options.model,
      tools: this.options.tools,
      ...(this.options.system ? { system: this.options.system } : {}),
      prompt: textOf(context.userMessage.parts),
      stopWhen: stepCountIs(5),
    });
    bus.publish(AgentEvent.message(message(Role.ROLE_AGENT, result.text, context.contextId)));
    bus.finished();
  }

  async cancelTask(): Promise<void> {}
}

/** The storekeeper agent, and what it holds open: close it with `close()` or `await using`. */
export interface StorekeeperAgent extends AsyncDisposable {
  agent: A2AMqttAgent;
  close(): Promise<void>;
}

/** Serve the storekeeper: an A2A agent over MQTT that answers with the store's MCP tools over MQTT. */
export async function serveStorekeeper(options: {
  url: string;
  model: LanguageModel;
}): Promise<StorekeeperAgent> {
  const mqtt = { url: options.url };
  // The agent's tools: the store's MCP server, found on the broker, used through the AI SDK's MCP client.
  const clients = await createMcpMqttClientHost({ mqtt });
  try {
    const mcp = await createMCPClient({ transport: await clients.createTransport(STORE_SERVER_NAME) });
    const tools = await mcp.tools();
    const agent = await serveA2AOverMqtt({
      mqtt,
      org: ORG,
      unit: UNIT,
      agentId: AGENT_ID,
      card: {
        name: 'Storekeeper',
        description: 'Answers questions about spare parts, with the store of line 7 as its tool',
        skills: [{ id: 'stock', name: 'Stock levels', examples: ['How many P-102 are left?'] }],
      },
      executor: new AiSdkExecutor({ model: options.model, tools }),
    });
    const close = async (): Promise<void> => {
      await agent.close(); // the card goes offline; requests in flight finish first
      await mcp.close(); // de-initializes the MCP session
      await clients.close(); // and the MQTT connection
    };
    return { agent, close, [Symbol.asyncDispose]: close };
  } catch (error) {
    await clients.close();
    throw error;
  }
}

/** A requester: discover the storekeeper's card over MQTT and send it one message; returns its answer. */
export async function askStorekeeper(options: { url: string; question: string }): Promise<string> {
  const mqtt = { url: options.url };
  await using registry = await discoverAgents({ mqtt, org: ORG, unit: UNIT });
  const { card } = await registry.waitFor(AGENT_ID, { online: true });
  await using transports = mqttTransportFactory({ mqtt, org: ORG, unit: UNIT, agentId: 'requester' });
  const client = await new ClientFactory({ transports: [transports] }).createFromAgentCard(card);
  const answer = await client.sendMessage({
    tenant: '',
    message: message(Role.ROLE_USER, options.question),
    configuration: undefined,
    metadata: undefined,
  });
  return 'parts' in answer ? textOf(answer.parts) : `task ${answer.id}: ${answer.status?.state}`;
}
