// Item 2: MCP tools served over MQTT, used by LangChain.js. An SDK `Client` connects through our host
// (`host.connect(client, serverName)`: discovery and initialize over MQTT), `loadMcpTools` from
// @langchain/mcp-adapters turns the server's tools into LangChain tools, a chat model asks for one, and
// LangGraph's prebuilt ToolNode runs the call, over MQTT.
import { AIMessage, HumanMessage } from '@langchain/core/messages';
import type { BaseMessage, ToolMessage } from '@langchain/core/messages';
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import { loadMcpTools } from '@langchain/mcp-adapters';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { createMcpMqttClientHost } from '@mqtt-agents/mcp';
import { STORE_SERVER_NAME } from '@mqtt-agents/example-ai-sdk/tools-server';

/** Ask `model` a question with the store's MCP tools over MQTT; returns the tools, the model's calls and their results. */
export async function askWithMqttTools(options: {
  url: string;
  model: BaseChatModel;
  question: string;
}): Promise<{ tools: string[]; toolCalls: string[]; results: string[] }> {
  await using clients = await createMcpMqttClientHost({ mqtt: { url: options.url } });
  const client = new Client({ name: 'langchain-planner', version: '1.0.0' });
  await clients.connect(client, STORE_SERVER_NAME);
  try {
    const tools = await loadMcpTools(STORE_SERVER_NAME, client); // tools/list over MQTT
    if (!options.model.bindTools) throw new Error('the chat model does not take tools');
    const messages: BaseMessage[] = [new HumanMessage(options.question)];
    const turn = await options.model.bindTools(tools).invoke(messages);
    const aiMessage = new AIMessage({ content: turn.content, tool_calls: turn.tool_calls ?? [] });
    // LangGraph's prebuilt tool executor: runs each tool call (tools/call over MQTT), one ToolMessage each.
    const { messages: toolMessages } = (await new ToolNode(tools).invoke({ messages: [aiMessage] })) as {
      messages: ToolMessage[];
    };
    return {
      tools: tools.map((tool) => tool.name),
      toolCalls: (turn.tool_calls ?? []).map((call) => call.name),
      results: toolMessages.map((message) =>
        typeof message.content === 'string' ? message.content : JSON.stringify(message.content),
      ),
    };
  } finally {
    await client.close(); // de-initializes the MQTT session; the host closes the MQTT connection
  }
}
