import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import type { A2AMqttAgent } from '@mqtt-agents/a2a';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import type { AgentExecutor } from '@a2a-js/sdk/server';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cli, cliInProcess, cliRun, unique } from './cli-process.js';
import {
  EchoExecutor,
  FailingExecutor,
  GreeterExecutor,
  PatientExecutor,
  StepsExecutor,
} from './fixtures.js';

let broker: TestBroker;
const org = unique('org');
const unit = 'desk';
const agents: A2AMqttAgent[] = [];

async function agent(agentId: string, executor: AgentExecutor, streaming: boolean): Promise<void> {
  agents.push(
    await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit,
      agentId,
      card: {
        name: agentId[0]?.toUpperCase() + agentId.slice(1),
        capabilities: { streaming, pushNotifications: false, extensions: [] },
      },
      executor,
    }),
  );
}

beforeAll(async () => {
  broker = await startTestBroker();
  await agent('steps', new StepsExecutor(), true);
  await agent('echo', new EchoExecutor(), false);
  await agent('failing', new FailingExecutor(), true);
  await agent('greeter', new GreeterExecutor(), true);
  await agent('patient', new PatientExecutor(), true);
});

afterAll(async () => {
  await Promise.all(agents.map((running) => running.close()));
  await broker.close();
});

const send = (agentId: string, text: string, ...flags: string[]) =>
  cliRun(['a2a', 'send', `${org}/${unit}/${agentId}`, text, '--url', broker.url, ...flags]);

describe.concurrent('mqtt-agents a2a send', { timeout: 90_000 }, () => {
  it('streams the status and artifact updates of a streaming agent, then exits 0 on completion', async ({
    expect,
  }) => {
    const result = await send('steps', '3');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.replace(/^ *\d+\.\d\ds {2}/, ''));
    expect(lines[0]).toBe(`→ ${org}/${unit}/steps (Steps, streaming): 3`);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^task [0-9a-f-]{36} submitted$/),
      'working: step 1 of 3',
      'artifact log: line 1',
      'working: step 2 of 3',
      'artifact log (+): line 2',
      'working: step 3 of 3',
      'artifact log (+): line 3',
      'completed: all steps done',
      expect.stringMatching(/^task [0-9a-f-]{36} completed: all steps done$/),
    ]);
  });

  it('sends a plain SendMessage to an agent that does not stream, and prints its artifacts', async ({
    expect,
  }) => {
    const result = await send('echo', 'hello there');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/artifact echo: echo: hello there\n/);
    expect(result.stdout).toMatch(/task [0-9a-f-]{36} completed: done\n$/);
  });

  it('--json prints every response as A2A JSON, one per line', async ({ expect }) => {
    const result = await send('steps', '1', '--json');
    expect(result.code).toBe(0);
    const responses = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, Record<string, unknown>>);
    expect(responses[0]?.task).toMatchObject({ status: { state: 'TASK_STATE_SUBMITTED' } });
    expect(responses.at(-1)?.statusUpdate).toMatchObject({ status: { state: 'TASK_STATE_COMPLETED' } });
  });

  it('continues an input-required task with --task and --context', async ({ expect }) => {
    const first = await send('greeter', 'hi');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/input-required: what is your name\?/);
    const hint = /--task (\S+) --context (\S+)/.exec(first.stderr);
    expect(hint).not.toBeNull();
    const second = await send(
      'greeter',
      'Ada',
      '--task',
      hint?.[1] as string,
      '--context',
      hint?.[2] as string,
    );
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`task ${hint?.[1]} completed: hello, Ada\\n$`));
  });

  it('exits 1 with one line when the task fails, the agent is unknown, or the address is invalid', async ({
    expect,
  }) => {
    const [failed, unknown, invalid] = await Promise.all([
      send('failing', 'print'),
      cliInProcess(['a2a', 'send', `${org}/${unit}/nobody`, 'hi', '--url', broker.url, '--wait', '300ms']),
      cliInProcess(['a2a', 'send', 'just-an-agent', 'hi', '--url', broker.url]),
    ]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/failed: the printer is on fire/);
    expect(failed.stderr).toMatch(/^mqtt-agents a2a send: task [0-9a-f-]{36} failed\n$/);
    expect(unknown).toMatchObject({
      code: 1,
      stderr: `mqtt-agents a2a send: agent '${org}/${unit}/nobody' not found on ${broker.url}: no agent card within 300 ms\n`,
    });
    expect(invalid).toMatchObject({
      code: 2,
      stderr:
        "mqtt-agents a2a send: invalid agent 'just-an-agent': expected <org>/<unit>/<agent>, e.g. com.acme/plant-1/planner\n",
    });
  });

  it('Ctrl-C cancels the task, prints its id and exits 130; a2a get shows it canceled', async ({
    expect,
  }) => {
    await using sending = cli([
      'a2a',
      'send',
      `${org}/${unit}/patient`,
      'take your time',
      '--url',
      broker.url,
    ]);
    const [, taskId] = (await sending.waitFor(/task ([0-9a-f-]{36}) submitted/)) as [string, string];
    await sending.waitFor(/working: waiting/);
    expect(await sending.stop()).toBe(130);
    expect(sending.stderr()).toBe(
      `mqtt-agents a2a send: interrupted: task ${taskId} canceled (mqtt-agents a2a get ${org}/${unit}/patient ${taskId})\n`,
    );
    const shown = await cliRun(['a2a', 'get', `${org}/${unit}/patient`, taskId, '--url', broker.url]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(new RegExp(`^task ${taskId} canceled: canceled\n`));
  });

  it('a2a cancel cancels a running task; the send that follows it ends with the canceled task', async ({
    expect,
  }) => {
    await using sending = cli(['a2a', 'send', `${org}/${unit}/patient`, 'wait', '--url', broker.url]);
    const [, taskId] = (await sending.waitFor(/task ([0-9a-f-]{36}) submitted/)) as [string, string];
    await sending.waitFor(/working: waiting/);
    const canceled = await cliRun([
      'a2a',
      'cancel',
      `${org}/${unit}/patient`,
      taskId,
      '--url',
      broker.url,
      '--json',
    ]);
    expect(canceled).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(canceled.stdout)).toMatchObject({
      id: taskId,
      status: { state: 'TASK_STATE_CANCELED' },
    });
    expect(await sending.exit).toBe(1);
    expect(sending.stderr()).toBe(`mqtt-agents a2a send: task ${taskId} canceled\n`);
  });

  it('a2a get and a2a cancel of an unknown task fail in one line', async ({ expect }) => {
    const [get, cancel, usage] = await Promise.all([
      cliInProcess(['a2a', 'get', `${org}/${unit}/echo`, 'no-such-task', '--url', broker.url]),
      cliInProcess(['a2a', 'cancel', `${org}/${unit}/echo`, 'no-such-task', '--url', broker.url]),
      cliInProcess(['a2a', 'get', `${org}/${unit}/echo`]),
    ]);
    expect(get.code).toBe(1);
    expect(get.stderr).toMatch(/^mqtt-agents a2a get: .*no-such-task.*\n$/i);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toMatch(/^mqtt-agents a2a cancel: .*\n$/);
    expect(usage).toMatchObject({
      code: 2,
      stderr: 'mqtt-agents a2a get: expected <org>/<unit>/<agent> and <task-id>, got 1 arguments\n',
    });
  });

  it('an agent whose card says offline is refused at once, in one line', async ({ expect }) => {
    const gone = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit,
      agentId: 'gone',
      card: { name: 'Gone' },
      executor: new EchoExecutor(),
    });
    await gone.close(); // graceful: the retained card now says offline
    const result = await cliInProcess(['a2a', 'send', `${org}/${unit}/gone`, 'hi', '--url', broker.url]);
    expect(result).toMatchObject({
      code: 1,
      stderr: `mqtt-agents a2a send: agent '${org}/${unit}/gone' is offline (its card says so): SendMessage not sent; offlineAgents: 'send' sends anyway\n`,
    });
  });
});
