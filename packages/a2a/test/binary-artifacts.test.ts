// Native binary artifact mode (Extended, user story 04): `a2a-artifact-mode=binary` on a streaming request
// makes the agent send raw-byte artifacts as numbered MQTT chunks (payload format 0, content type, chunk
// metadata); the requester reassembles them (order, duplicates, last chunk) and falls back to JSON when
// the agent does not support the mode.
import { randomBytes } from 'node:crypto';
import { TaskState } from '@a2a-js/sdk';
import type { StreamResponse, TaskArtifactUpdateEvent } from '@a2a-js/sdk';
import { ClientFactory } from '@a2a-js/sdk/client';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { MqttAgentsError } from '@mqtt-agents/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttTransportFactory, serveA2AOverMqtt } from '../src/index.js';
import { ArtifactAssembler } from '../src/binary-artifacts.js';
import type { BinaryChunk } from '../src/binary-artifacts.js';
import {
  FakeResponder,
  RawClient,
  artifactUpdate,
  newTask,
  statusUpdate,
  uniqueId,
  userMessage,
} from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  // The JSON fallback carries the 5 MiB blob as base64 in one publish: above the embedded broker's 4 MiB
  // default maximum packet size.
  broker = await startTestBroker({ embedded: { maximumPacketSize: 16 * 1024 * 1024 } });
});
afterAll(async () => {
  await broker.close();
});

// 5 MiB: 2 MiB of zeros (byte-identical chunks, which must not be taken for duplicates) and 3 MiB of noise.
const BLOB = Buffer.concat([Buffer.alloc(2 * 1024 * 1024), randomBytes(3 * 1024 * 1024)]);

/** Streams a text artifact, the 5 MiB blob as one raw part, then completes. */
class BlobExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    bus.publish(AgentEvent.task(newTask(context)));
    bus.publish(AgentEvent.artifactUpdate(artifactUpdate(context, 'a blob follows', 'summary')));
    const blob: TaskArtifactUpdateEvent = {
      taskId: context.taskId,
      contextId: context.contextId,
      artifact: {
        artifactId: 'blob',
        name: 'Blob',
        description: '',
        parts: [
          {
            content: { $case: 'raw', value: BLOB },
            metadata: undefined,
            filename: 'blob.bin',
            mediaType: 'application/octet-stream',
          },
        ],
        metadata: undefined,
        extensions: [],
      },
      append: false,
      lastChunk: true,
      metadata: undefined,
    };
    bus.publish(AgentEvent.artifactUpdate(blob));
    bus.publish(AgentEvent.statusUpdate(statusUpdate(context, TaskState.TASK_STATE_COMPLETED, 'done')));
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

async function setup(binaryArtifacts?: false) {
  const org = uniqueId('org');
  const agent = await serveA2AOverMqtt({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'blobs',
    card: { name: 'Blobs', capabilities: { streaming: true, extensions: [] } },
    executor: new BlobExecutor(),
    ...(binaryArtifacts === false ? { binaryArtifacts } : {}),
  });
  const factory = mqttTransportFactory({
    mqtt: { url: broker.url },
    org,
    unit: 'u',
    agentId: 'requester',
    artifactMode: 'binary',
  });
  const client = await new ClientFactory({ transports: [factory] }).createFromAgentCard(agent.card);
  const sniffer = await RawClient.connect(broker.url);
  await sniffer.subscribe(agent.requestTopic);
  await sniffer.subscribe(factory.replyTopic);
  return {
    org,
    agent,
    factory,
    client,
    sniffer,
    async [Symbol.asyncDispose]() {
      await sniffer.close();
      await factory.close();
      await agent.close();
    },
  };
}

function artifactsOf(items: StreamResponse[]): TaskArtifactUpdateEvent[] {
  return items.flatMap((item) => (item.payload?.$case === 'artifactUpdate' ? [item.payload.value] : []));
}

function rawBytesOf(update: TaskArtifactUpdateEvent | undefined): Buffer {
  const content = update?.artifact?.parts[0]?.content;
  return content?.$case === 'raw' ? Buffer.from(content.value) : Buffer.alloc(0);
}

describe('binary artifact mode', { concurrent: true }, () => {
  it('streams a 5 MiB artifact as raw chunks with the profile metadata and reassembles it byte for byte', async () => {
    await using fixture = await setup();
    const items: StreamResponse[] = [];
    for await (const item of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('blob please'),
      configuration: undefined,
      metadata: undefined,
    })) {
      items.push(item);
    }
    const [summary, blob] = artifactsOf(items);
    expect(summary?.artifact?.parts[0]?.content).toEqual({ $case: 'text', value: 'a blob follows' });
    expect(blob?.artifact?.artifactId).toBe('blob');
    expect(blob?.artifact?.name).toBe('Blob');
    expect(blob?.artifact?.parts[0]?.mediaType).toBe('application/octet-stream');
    expect(blob?.artifact?.parts[0]?.filename).toBe('blob.bin');
    expect(blob?.lastChunk).toBe(true);
    expect(Buffer.compare(rawBytesOf(blob), BLOB)).toBe(0);
    expect(items.at(-1)?.payload?.$case).toBe('statusUpdate');

    const [request] = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.agent.requestTopic,
      1,
    );
    expect(request?.packet.properties?.userProperties?.['a2a-artifact-mode']).toBe('binary');
    const expectedChunks = Math.ceil(BLOB.length / (128 * 1024));
    const replies = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.factory.replyTopic,
      expectedChunks + 3, // task, summary, the chunks, completed
    );
    const chunks = replies.filter(
      (message) => message.packet.properties?.userProperties?.['a2a-event-type'] === 'task-artifact-update',
    );
    expect(chunks).toHaveLength(expectedChunks);
    chunks.forEach((chunk, index) => {
      const properties = chunk.packet.properties ?? {};
      expect(properties.payloadFormatIndicator ?? false).toBe(false);
      expect(properties.contentType).toBe('application/octet-stream');
      expect(properties.userProperties).toMatchObject({
        'a2a-task-id': items[0]?.payload?.$case === 'task' ? items[0].payload.value.id : 'missing',
        'a2a-artifact-id': 'blob',
        'a2a-chunk-seqno': String(index),
        'a2a-last-chunk': String(index === expectedChunks - 1),
        'a2a-artifact-mode': 'binary',
      });
      expect(properties.userProperties?.['a2a-context-id']).toBeTruthy();
    });
    // Every reply says which mode the agent chose; the JSON ones carry no base64 blob.
    for (const reply of replies)
      expect(reply.packet.properties?.userProperties?.['a2a-artifact-mode']).toBe('binary');
    const json = replies.filter((reply) => !chunks.includes(reply));
    expect(json.every((reply) => reply.payload.length < 10_000)).toBe(true);
  });

  it('falls back to JSON when the agent does not support binary artifacts, and says so', async () => {
    await using fixture = await setup(false);
    const items: StreamResponse[] = [];
    for await (const item of fixture.client.sendMessageStream({
      tenant: '',
      message: userMessage('blob please'),
      configuration: undefined,
      metadata: undefined,
    })) {
      items.push(item);
    }
    const blob = artifactsOf(items).find((update) => update.artifact?.artifactId === 'blob');
    expect(Buffer.compare(rawBytesOf(blob), BLOB)).toBe(0);
    const replies = await fixture.sniffer.nextCount(
      (message) => message.topic === fixture.factory.replyTopic,
      4,
    );
    for (const reply of replies) {
      expect(reply.packet.properties?.userProperties?.['a2a-artifact-mode']).toBe('json');
      expect(reply.packet.properties?.userProperties?.['a2a-event-type']).toBeUndefined();
    }
    expect(replies.some((reply) => reply.payload.length > BLOB.length)).toBe(true); // base64 JSON
  });

  it('reassembles chunks that arrive out of order and twice, and ends the stream on the final status', async () => {
    const org = uniqueId('org');
    const requestTopic = `$a2a/v1/request/${org}/u/fake`;
    const pieces = [randomBytes(1000), randomBytes(1000), Buffer.alloc(1000), Buffer.alloc(1000)];
    await using fake = await FakeResponder.start(broker.url, requestTopic, async (request, responder) => {
      const message = request.body.params.message as { taskId: string; contextId: string };
      const chunk = async (seqno: number) =>
        responder.raw.publish(request.responseTopic, pieces[seqno] as Buffer, {
          properties: {
            correlationData: request.correlation,
            payloadFormatIndicator: false,
            contentType: 'image/png',
            userProperties: {
              'a2a-artifact-mode': 'binary',
              'a2a-event-type': 'task-artifact-update',
              'a2a-task-id': message.taskId,
              'a2a-artifact-id': 'picture',
              'a2a-chunk-seqno': String(seqno),
              'a2a-last-chunk': String(seqno === 3),
            },
          },
        });
      for (const seqno of [2, 0, 0, 3, 1, 2]) await chunk(seqno);
      await responder.reply(request, {
        result: {
          statusUpdate: {
            taskId: message.taskId,
            contextId: message.contextId,
            status: { state: 'TASK_STATE_COMPLETED', timestamp: new Date().toISOString() },
          },
        },
      });
    });
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'requester',
      artifactMode: 'binary',
    });
    const transport = await factory.transportFor({ org, unit: 'u', agentId: 'fake' });
    const items: StreamResponse[] = [];
    for await (const item of transport.sendMessageStream({
      tenant: '',
      message: userMessage('picture'),
      configuration: undefined,
      metadata: undefined,
    })) {
      items.push(item);
    }
    expect(items.map((item) => item.payload?.$case)).toEqual(['artifactUpdate', 'statusUpdate']);
    const [picture] = artifactsOf(items);
    expect(picture?.artifact?.parts[0]?.mediaType).toBe('image/png');
    expect(Buffer.compare(rawBytesOf(picture), Buffer.concat(pieces))).toBe(0);
    expect(fake.requests).toHaveLength(1);
  });

  it('treats a chunk without the required metadata as a protocol error', async () => {
    const org = uniqueId('org');
    const requestTopic = `$a2a/v1/request/${org}/u/fake`;
    await using fake = await FakeResponder.start(broker.url, requestTopic, async (request, responder) => {
      const message = request.body.params.message as { taskId: string };
      await responder.raw.publish(request.responseTopic, randomBytes(10), {
        properties: {
          correlationData: request.correlation,
          userProperties: {
            'a2a-event-type': 'task-artifact-update',
            'a2a-task-id': message.taskId,
            'a2a-artifact-id': 'broken',
            'a2a-last-chunk': 'maybe',
          },
        },
      });
    });
    await using factory = mqttTransportFactory({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'requester',
      artifactMode: 'binary',
    });
    const transport = await factory.transportFor({ org, unit: 'u', agentId: 'fake' });
    const consume = async () => {
      for await (const _item of transport.sendMessageStream({
        tenant: '',
        message: userMessage('x'),
        configuration: undefined,
        metadata: undefined,
      })) {
        // nothing arrives before the broken chunk
      }
    };
    const failure = await consume().catch((error: unknown) => error);
    expect(MqttAgentsError.hasCode(failure, 'PROTOCOL_ERROR')).toBe(true);
    expect((failure as Error).message).toMatch(/a2a-chunk-seqno, a2a-last-chunk/);
    expect(fake.requests).toHaveLength(1);
  });
});

// --- reassembly, without a broker (formerly src/binary-artifacts.test.ts) ---

function chunk(seqno: number, last: boolean, text: string, artifactId = 'a'): BinaryChunk {
  return {
    taskId: 't',
    contextId: 'c',
    artifactId,
    seqno,
    last,
    bytes: new TextEncoder().encode(text),
    mediaType: 'text/plain',
    name: undefined,
    filename: undefined,
  };
}

function text(response: ReturnType<ArtifactAssembler['add']>): string {
  const content =
    response?.payload?.$case === 'artifactUpdate'
      ? response.payload.value.artifact?.parts[0]?.content
      : undefined;
  return content?.$case === 'raw' ? new TextDecoder().decode(content.value) : '';
}

describe('ArtifactAssembler', () => {
  it('completes an artifact once its last chunk and every earlier chunk arrived, in any order', () => {
    const assembler = new ArtifactAssembler();
    expect(assembler.add(chunk(2, true, 'c'))).toBeUndefined();
    expect(assembler.add(chunk(0, false, 'a'))).toBeUndefined();
    expect(assembler.add(chunk(0, false, 'a'))).toBeUndefined(); // duplicate
    expect(text(assembler.add(chunk(1, false, 'b')))).toBe('abc');
    expect(assembler.flush()).toEqual([]);
  });

  it('keeps artifacts apart and hands out an unfinished but gap-free artifact at the end of the stream', () => {
    const assembler = new ArtifactAssembler();
    assembler.add(chunk(0, false, 'x', 'first'));
    assembler.add(chunk(1, false, 'y', 'first'));
    expect(text(assembler.add(chunk(0, true, 'z', 'second')))).toBe('z');
    const [rest] = assembler.flush();
    expect(text(rest)).toBe('xy');
    expect(rest?.payload?.$case === 'artifactUpdate' && rest.payload.value.lastChunk).toBe(false);
  });

  it('refuses gaps, chunks after the last one and artifacts over the size limit', () => {
    const gap = new ArtifactAssembler();
    gap.add(chunk(0, false, 'a'));
    gap.add(chunk(2, false, 'c'));
    expect(() => gap.flush()).toThrow(/missing chunks/);
    const late = new ArtifactAssembler();
    late.add(chunk(1, true, 'b'));
    expect(() => late.add(chunk(2, false, 'c'))).toThrow(/after its last chunk/);
    const big = new ArtifactAssembler(3);
    big.add(chunk(0, false, 'ab'));
    const error = (() => {
      try {
        big.add(chunk(1, false, 'cd'));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(MqttAgentsError.hasCode(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
  });
});
