// The demo's three A2A agents, written against the official @a2a-js/sdk AgentExecutor interface.
// The planner delegates to the other two over MQTT; the inspector uses the camera's MCP tool over MQTT.
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { artifact, artifactText, status, submitted, textOf, userMessage } from './parts.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Inspects one part (the message text) with the camera's `inspect` tool; answers with one finding. */
export class InspectorExecutor implements AgentExecutor {
  constructor(private readonly inspect: (part: string) => Promise<string>) {}

  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const part = textOf(context.userMessage.parts).trim();
    bus.publish(AgentEvent.task(submitted(context)));
    const finding = await this.inspect(part);
    bus.publish(AgentEvent.artifactUpdate(artifact(context, 'finding', finding)));
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_COMPLETED)));
    bus.finished();
  }

  async cancelTask(): Promise<void> {}
}

/** Turns findings (one per line) into a report, streamed line by line: the streaming agent. */
export class ReporterExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const findings = textOf(context.userMessage.parts).split('\n').filter(Boolean);
    bus.publish(AgentEvent.task(submitted(context)));
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_WORKING, 'writing the report')));
    const rework = findings.filter((finding) => !/: ok\b/.test(finding));
    const lines = [
      `Inspection report, ${findings.length} part${findings.length === 1 ? '' : 's'}`,
      ...findings.map((finding) => `  ${/: ok\b/.test(finding) ? '✓' : '✗'} ${finding}`),
      `Verdict: ${rework.length === 0 ? 'release the batch' : `rework ${rework.map((line) => line.split(':')[0]).join(', ')}`}`,
    ];
    for (const [index, line] of lines.entries()) {
      await pause(15); // a slow writer: the chunks cross the broker one by one
      bus.publish(AgentEvent.artifactUpdate(artifact(context, 'report', `${line}\n`, index > 0)));
    }
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_COMPLETED)));
    bus.finished();
  }

  async cancelTask(): Promise<void> {}
}

/** How the planner reaches its colleagues: SDK clients over MQTT, set once everyone is online. */
export interface Colleagues {
  inspector: Client;
  reporter: Client;
}

/**
 * "inspect P-101, P-102 and P-103": asks the inspector about each part (one SendMessage each), hands the
 * findings to the reporter (SendStreamingMessage), and completes with both as artifacts.
 */
export class PlannerExecutor implements AgentExecutor {
  colleagues: Colleagues | undefined;

  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const parts = textOf(context.userMessage.parts).match(/P-\d+/g) ?? [];
    bus.publish(AgentEvent.task(submitted(context)));
    if (!this.colleagues || parts.length === 0) {
      const why =
        parts.length === 0 ? 'name the parts to inspect, e.g. P-101' : 'my colleagues are not online';
      bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_REJECTED, why)));
      bus.finished();
      return;
    }
    const findings: string[] = [];
    for (const part of parts) {
      bus.publish(
        AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_WORKING, `inspecting ${part}`)),
      );
      const answer = (await this.colleagues.inspector.sendMessage({
        tenant: '',
        message: userMessage(part),
        configuration: undefined,
        metadata: undefined,
      })) as Task;
      findings.push(artifactText(answer, 'finding'));
    }
    bus.publish(AgentEvent.artifactUpdate(artifact(context, 'findings', findings.join('\n'))));
    let report = '';
    for await (const event of this.colleagues.reporter.sendMessageStream({
      tenant: '',
      message: userMessage(findings.join('\n')),
      configuration: undefined,
      metadata: undefined,
    })) {
      if (event.payload?.$case === 'artifactUpdate') report += textOf(event.payload.value.artifact?.parts);
    }
    bus.publish(AgentEvent.artifactUpdate(artifact(context, 'report', report)));
    bus.publish(
      AgentEvent.statusUpdate(
        status(
          context,
          TaskState.TASK_STATE_COMPLETED,
          `${parts.length} part${parts.length === 1 ? '' : 's'} inspected`,
        ),
      ),
    );
    bus.finished();
  }

  async cancelTask(): Promise<void> {}
}
