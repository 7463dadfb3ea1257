import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { TaskNotFoundError } from '@a2a-js/sdk/errors';
import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import type { A2AMqttAgent } from '@mqtt-agents/a2a';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cli, unique } from './cli-process.js';
import type { CliProcess } from './cli-process.js';
import { EchoExecutor, StepsExecutor, textOf, userMessage } from './fixtures.js';

let broker: TestBroker;
let bridge: CliProcess;
let baseUrl: string;
const org = unique('org');
const unit = 'web';
const agents: A2AMqttAgent[] = [];

beforeAll(async () => {
  broker = await startTestBroker();
  agents.push(
    await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit,
      agentId: 'echo',
      card: { name: 'Echo', description: 'says it back', skills: [{ id: 'echo', name: 'Echo' }] },
      executor: new EchoExecutor(),
    }),
    await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit,
      agentId: 'steps',
      card: { name: 'Steps', capabilities: { streaming: true, pushNotifications: false, extensions: [] } },
      executor: new StepsExecutor(),
    }),
  );
  bridge = cli(['a2a', 'http', '--port', '0', '--url', broker.url, '--org', org]);
  baseUrl = (await bridge.waitFor(/listening on (http:\/\/\S+),/))[1] as string;
  await bridge.waitFor(/\/steps\/ {2}Steps \(online\)/);
  await bridge.waitFor(/\/echo\/ {2}Echo \(online\)/);
}, 60_000);

afterAll(async () => {
  await bridge?.stop();
  await Promise.all(agents.map((agent) => agent.close()));
  await broker?.close();
});

const request = (text: string) => ({
  tenant: '',
  message: userMessage(text),
  configuration: undefined,
  metadata: undefined,
});

describe.concurrent('mqtt-agents a2a http', { timeout: 30_000 }, () => {
  it("serves each agent's card at a well-known url, advertising its HTTP JSON-RPC interface", async ({
    expect,
  }) => {
    const response = await fetch(new URL(`/a2a/${org}/${unit}/echo/.well-known/agent-card.json`, baseUrl));
    expect(response.status).toBe(200);
    const card = (await response.json()) as {
      name: string;
      supportedInterfaces: Array<Record<string, string>>;
    };
    expect(card.name).toBe('Echo');
    expect(card.supportedInterfaces[0]).toEqual({
      url: `${baseUrl}/a2a/${org}/${unit}/echo/`,
      protocolBinding: 'JSONRPC',
      protocolVersion: '1.0',
      tenant: '',
    });
    expect(card.supportedInterfaces.slice(1)).toEqual([
      expect.objectContaining({ protocolBinding: 'MQTT5+JSONRPC' }),
    ]);
  });

  it('relays SendMessage from an A2A HTTP client to the agent on MQTT', async ({ expect }) => {
    const client = await new ClientFactory().createFromUrl(`${baseUrl}/a2a/${org}/${unit}/echo/`);
    const result = (await client.sendMessage(request('over http'))) as Task;
    expect(result.status?.state).toBe(TaskState.TASK_STATE_COMPLETED);
    expect(textOf(result.artifacts[0]?.parts)).toBe('echo: over http');
    // Later calls about the task reach the same agent.
    const again = await client.getTask({ tenant: '', id: result.id, historyLength: undefined });
    expect(again.id).toBe(result.id);
    await expect(
      client.getTask({ tenant: '', id: 'no-such-task', historyLength: undefined }),
    ).rejects.toBeInstanceOf(TaskNotFoundError);
  });

  it('relays a streaming task as server-sent events, update by update', async ({ expect }) => {
    const client = await new ClientFactory().createFromUrl(`${baseUrl}/a2a/${org}/${unit}/steps/`);
    const kinds: string[] = [];
    for await (const event of client.sendMessageStream(request('2'))) {
      const payload = event.payload;
      if (payload?.$case === 'statusUpdate')
        kinds.push(`status:${textOf(payload.value.status?.message?.parts)}`);
      else if (payload?.$case === 'artifactUpdate')
        kinds.push(`artifact:${textOf(payload.value.artifact?.parts).trim()}`);
      else kinds.push(payload?.$case ?? 'empty');
    }
    expect(kinds).toEqual([
      'task',
      'status:step 1 of 2',
      'artifact:line 1',
      'status:step 2 of 2',
      'artifact:line 2',
      'status:all steps done',
    ]);
  });

  it('lists the agents at GET /agents and answers 404 for an agent that is not on the broker', async ({
    expect,
  }) => {
    const list = (await (await fetch(new URL('/agents', baseUrl))).json()) as {
      agents: Array<{ id: string; url: string; card: string }>;
    };
    expect(list.agents.map((agent) => agent.id)).toEqual([`${org}/${unit}/echo`, `${org}/${unit}/steps`]);
    expect(list.agents[0]?.card).toBe(`${baseUrl}/a2a/${org}/${unit}/echo/.well-known/agent-card.json`);
    const missing = await fetch(new URL(`/a2a/${org}/${unit}/nobody/.well-known/agent-card.json`, baseUrl));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: `no A2A agent '${org}/${unit}/nobody' on ${broker.url}` });
  });

  it('a call without A2A-Version is read as 1.0 when its method is a 1.0 one; a 0.3 call gets -32009', async ({
    expect,
  }) => {
    const post = async (body: unknown, headers: Record<string, string> = {}, query = '') => {
      const response = await fetch(new URL(`/a2a/${org}/${unit}/echo/${query}`, baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      return (await response.json()) as { result?: Record<string, unknown>; error?: { code: number } };
    };
    const send = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'SendMessage',
      params: {
        message: { messageId: `m-${id}`, role: 'ROLE_USER', parts: [{ text: 'no header' }] },
      },
    });
    const [bare, query, legacy] = await Promise.all([
      post(send(1)),
      post(send(2), {}, '?A2A-Version=1.0'),
      post({
        jsonrpc: '2.0',
        id: 3,
        method: 'message/send',
        params: { message: { messageId: 'm-3', role: 'user', parts: [{ kind: 'text', text: 'hi' }] } },
      }),
    ]);
    expect(bare.result?.task).toMatchObject({ status: { state: 'TASK_STATE_COMPLETED' } });
    expect(query.result?.task).toMatchObject({ status: { state: 'TASK_STATE_COMPLETED' } });
    expect(legacy.error?.code).toBe(-32009);
  });

  it('keeps invalid params invalid: a SendMessage without messageId is -32602, as the SDK and the agent answer', async ({
    expect,
  }) => {
    const response = await fetch(new URL(`/a2a/${org}/${unit}/echo/`, baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'A2A-Version': '1.0' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'SendMessage',
        params: { message: { parts: 'invalid' } },
      }),
    });
    const body = (await response.json()) as { error?: { code: number; message: string } };
    expect(body.error?.code).toBe(-32602);
    expect(body.error?.message).toMatch(/messageId/);
  });
});
