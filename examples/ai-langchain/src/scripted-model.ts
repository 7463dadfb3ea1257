// LangChain's own fake chat model (`FakeStreamingChatModel` from @langchain/core/utils/testing), set to
// answer with one tool call, as a model that uses a tool does. Swap it for a real chat model
// (`new ChatOpenAI(...)`, `new ChatAnthropic(...)`) and nothing else changes.
import { AIMessageChunk } from '@langchain/core/messages';
import { FakeStreamingChatModel } from '@langchain/core/utils/testing';

/** A chat model that asks for `stock` of `part`. */
export function scriptedStockModel(part: string): FakeStreamingChatModel {
  return new FakeStreamingChatModel({
    sleep: 0,
    chunks: [
      new AIMessageChunk({
        content: '',
        tool_calls: [{ id: 'call-1', name: 'stock', args: { part }, type: 'tool_call' }],
      }),
    ],
  });
}
