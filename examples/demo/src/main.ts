// The README's demo: everything runs in this process on the embedded broker, with no network and no keys.
import { startBroker } from '@mqtt-agents/broker';
import { connectMqtt, createRequestReply, decodeJson, encodeJson } from '@mqtt-agents/core';
import { traceBroker } from './trace.js';

const write = (line: string): void => void process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  await using broker = await startBroker({ port: 0 });
  write(`embedded MQTT 5 broker on ${broker.url}\n`);
  const stopTrace = traceBroker(broker, write);

  // A responder: answers every request on its topic on the Response Topic, echoing the Correlation Data.
  await using responder = await connectMqtt({ url: broker.url, clientId: 'demo/responder' });
  responder.addMessageHandler('demo/clock', async (message) => {
    const request = decodeJson(message.payload);
    const replyTo = message.properties.responseTopic;
    if (!request.ok || !replyTo) return;
    await responder.publish(replyTo, encodeJson({ now: new Date().toISOString(), asked: request.value }), {
      qos: 1,
      properties: { correlationData: message.properties.correlationData },
    });
  });
  await responder.subscribe(['demo/clock'], { qos: 1 });

  // A requester: one reply topic, correlated requests.
  await using requester = await connectMqtt({ url: broker.url, clientId: 'demo/requester' });
  await using rpc = await createRequestReply({ connection: requester, replyTopic: 'demo/replies/requester' });
  write('request/reply with Response Topic + Correlation Data:');
  const reply = await rpc.request('demo/clock', encodeJson({ question: 'what time is it?' }), {
    timeoutMs: 5_000,
  });
  const answer = decodeJson(reply.payload);
  write(`\nreply: ${JSON.stringify(answer.ok ? answer.value : answer.error)}`);

  stopTrace();
  write('\ndemo finished');
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
