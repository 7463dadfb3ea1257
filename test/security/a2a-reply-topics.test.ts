// Principle (issue 12): an agent replies only on reply topics of the profile
// (`$a2a/v1/reply/{org}/{unit}/{agent}/{suffix}`) unless configured otherwise. A request naming another
// agent's request topic, a discovery or presence topic, an MCP topic or any other topic as its Response
// Topic would make the agent publish there with its own credentials (a confused deputy): it is not
// answered, and it is reported. `allowedReplyTopics` opens other reply topics explicitly. SDK-side.
import { startTestBroker } from '@mqtt-agents/broker/vitest';
import type { TestBroker } from '@mqtt-agents/broker/vitest';
import { serveA2AOverMqtt } from '@mqtt-agents/a2a';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EchoExecutor,
  RawClient,
  hasCorrelation,
  rawRequest,
  recordingLogger,
  sendMessageBody,
} from '../../packages/a2a/test/helpers.js';
import { unique } from './helpers.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

describe('reply topics (principle: replies only on the profile reply topics)', () => {
  it('neither answers nor executes a request whose Response Topic is not a profile reply topic, and reports it', async () => {
    const org = unique('org');
    const executor = new EchoExecutor();
    const logger = recordingLogger();
    await using agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'deputy',
      card: { name: 'Deputy' },
      executor,
      logger,
    });
    const raw = await RawClient.connect(broker.url);
    try {
      const targets = [
        `$a2a/v1/request/${org}/u/victim`,
        `$a2a/v1/discovery/${org}/u/victim`,
        `$a2a/v1/event/${org}/u/victim`,
        `$a2a/v1/reply/${org}/u/victim`,
        `$mcp-server/presence/s1/victim`,
        `$mcp-rpc/client-1/s1/victim`,
        `plant/control/valve-7`,
      ];
      for (const target of targets) await raw.subscribe(target);
      for (const [index, target] of targets.entries()) {
        const correlation = await rawRequest(raw, agent.requestTopic, sendMessageBody(`deputy ${index}`), {
          responseTopic: target,
          correlation: Buffer.from(`bad-${index}`),
        });
        // Reported (or, on a vulnerable agent, answered there).
        await Promise.race([
          logger.waitFor(new RegExp(`'${escape(target)}' is not a reply topic`)),
          raw.next((message) => message.topic === target && hasCorrelation(correlation)(message)),
        ]);
      }
      // A real requester is still served, after all of the above.
      const replyTopic = `$a2a/v1/reply/${org}/u/alice/${unique('s')}`;
      await raw.subscribe(replyTopic);
      const correlation = await rawRequest(raw, agent.requestTopic, sendMessageBody('fine'), {
        responseTopic: replyTopic,
      });
      await raw.next((message) => message.topic === replyTopic && hasCorrelation(correlation)(message));
      expect(raw.all((message) => targets.includes(message.topic))).toHaveLength(0);
      expect(executor.executions.value).toBe(1);
      for (const target of targets) {
        expect(logger.lines.some((line) => line.level === 'warn' && line.message.includes(target))).toBe(
          true,
        );
      }
    } finally {
      await raw.close();
    }
  });

  it('answers on other topics only where allowedReplyTopics says so', async () => {
    const org = unique('org');
    const executor = new EchoExecutor();
    const logger = recordingLogger();
    await using agent = await serveA2AOverMqtt({
      mqtt: { url: broker.url },
      org,
      unit: 'u',
      agentId: 'legacy',
      card: { name: 'Legacy' },
      executor,
      logger,
      allowedReplyTopics: [`legacy/${org}/replies/#`],
    });
    const raw = await RawClient.connect(broker.url);
    try {
      const allowed = `legacy/${org}/replies/r1`;
      const refused = `legacy/${org}/other/r1`;
      await raw.subscribe(allowed);
      await raw.subscribe(refused);
      await rawRequest(raw, agent.requestTopic, sendMessageBody('no'), {
        responseTopic: refused,
        correlation: Buffer.from('refused'),
      });
      await Promise.race([
        logger.waitFor(/not a reply topic/),
        raw.next((message) => message.topic === refused),
      ]);
      const correlation = await rawRequest(raw, agent.requestTopic, sendMessageBody('yes'), {
        responseTopic: allowed,
      });
      await raw.next((message) => message.topic === allowed && hasCorrelation(correlation)(message));
      expect(raw.all((message) => message.topic === refused)).toHaveLength(0);
    } finally {
      await raw.close();
    }
  });
});

function escape(text: string): string {
  return text.replace(/[$.*+?^(){}|[\]\\/]/g, '\\$&');
}
