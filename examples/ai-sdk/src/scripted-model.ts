// The AI SDK's own mock model (`MockLanguageModelV3` from `ai/test`) scripted like a model that uses a tool:
// the first step asks for `stock`, the next answers with what the tool returned. Swap it for a real model
// (`openai('gpt-4o')`, `anthropic(...)`) and nothing else changes.
import type { LanguageModelV3CallOptions, LanguageModelV3GenerateResult } from '@ai-sdk/provider';
import { MockLanguageModelV3 } from 'ai/test';

const usage = {
  inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: 5, text: 5, reasoning: undefined },
};

/** The text of the last tool result in the prompt, if there is one. */
function lastToolResult(options: LanguageModelV3CallOptions): string | undefined {
  for (const message of [...options.prompt].reverse()) {
    if (message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type !== 'tool-result') continue;
      const output = part.output;
      if (output.type === 'text') return output.value;
      // An MCP tool result arrives as content parts.
      if (output.type === 'content') {
        return output.value.map((item) => (item.type === 'text' ? item.text : '')).join('');
      }
      return JSON.stringify(output);
    }
  }
  return undefined;
}

/** The first part number (`P-102`) the user's messages mention. */
function partAskedFor(options: LanguageModelV3CallOptions): string | undefined {
  for (const message of options.prompt) {
    if (message.role !== 'user') continue;
    for (const part of message.content) {
      const match = part.type === 'text' ? /\bP-\d+\b/.exec(part.text) : null;
      if (match) return match[0];
    }
  }
  return undefined;
}

/** A model that calls `stock` for the part the user asks about, then says what the tool answered. */
export function scriptedStockModel(): MockLanguageModelV3 {
  return new MockLanguageModelV3({
    doGenerate: async (options): Promise<LanguageModelV3GenerateResult> => {
      const result = lastToolResult(options);
      const part = partAskedFor(options);
      if (part === undefined) {
        return {
          content: [{ type: 'text', text: 'Which part number?' }],
          finishReason: { unified: 'stop', raw: 'stop' },
          usage,
          warnings: [],
        };
      }
      if (result === undefined) {
        return {
          content: [
            { type: 'tool-call', toolCallId: 'call-1', toolName: 'stock', input: JSON.stringify({ part }) },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        };
      }
      return {
        content: [{ type: 'text', text: `The store says: ${result}` }],
        finishReason: { unified: 'stop', raw: 'stop' },
        usage,
        warnings: [],
      };
    },
  });
}
