// An A2A agent in its own process, for memory ceilings measured from outside the test runner. Started by
// a2a-task-store.test.ts:
//
//   a2a-agent-child.ts <broker url> <org> <options as JSON>
//
// Every task completes at once with one 4 KiB text artifact. Prints one JSON line `{ requestTopic }` once it
// serves, then answers every line on stdin: `stats` -> `{ executions, rss, heapUsed }` (after a full GC),
// `close` -> closes the agent and exits.
import { createInterface } from 'node:readline';
import { Role, TaskState } from '@a2a-js/sdk';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import type { ServeA2AOverMqttOptions } from '@mqtt-agents/a2a';

const [url, org, optionsText] = process.argv.slice(2) as [string, string, string];
const extra = JSON.parse(optionsText) as Partial<ServeA2AOverMqttOptions>;
const ARTIFACT = 'x'.repeat(4096);

let executions = 0;
const executor: AgentExecutor = {
  async execute(context, bus) {
    executions++;
    const status = (state: TaskState) => ({ state, message: undefined, timestamp: new Date().toISOString() });
    const { taskId, contextId } = context;
    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: status(TaskState.TASK_STATE_WORKING),
        artifacts: [],
        history: [context.userMessage],
        metadata: undefined,
      }),
    );
    bus.publish(
      AgentEvent.artifactUpdate({
        taskId,
        contextId,
        artifact: {
          artifactId: 'result',
          name: 'result',
          description: '',
          parts: [
            {
              content: { $case: 'text', value: ARTIFACT },
              mediaType: 'text/plain',
              filename: '',
              metadata: undefined,
            },
          ],
          metadata: undefined,
          extensions: [],
        },
        append: false,
        lastChunk: true,
        metadata: undefined,
      }),
    );
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId,
        status: {
          ...status(TaskState.TASK_STATE_COMPLETED),
          message: {
            messageId: globalThis.crypto.randomUUID(),
            contextId,
            taskId,
            role: Role.ROLE_AGENT,
            parts: [
              { content: { $case: 'text', value: 'done' }, mediaType: '', filename: '', metadata: undefined },
            ],
            metadata: undefined,
            extensions: [],
            referenceTaskIds: [],
          },
        },
        metadata: undefined,
      }),
    );
    bus.finished();
  },
  async cancelTask() {},
};

const agent = await serveA2AOverMqtt({
  mqtt: { url },
  org,
  unit: 'u',
  agentId: 'store',
  card: { name: 'Store' },
  executor,
  ...extra,
});

function stats(): Record<string, number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let pass = 0; pass < 4; pass++) gc?.();
  const memory = process.memoryUsage();
  return { executions, rss: memory.rss, heapUsed: memory.heapUsed };
}

process.stdout.write(`${JSON.stringify({ requestTopic: agent.requestTopic })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
  if (line === 'close') break;
}
await agent.close();
process.exit(0);
