import { TaskState, taskStateToJSON } from '@a2a-js/sdk';
import type { Part, StreamResponse } from '@a2a-js/sdk';
import { UsageError } from '../io.js';
import { assertAgentId, assertOrgId, assertUnitId } from '@mqtt-agents/core';

export interface AgentAddressArgument {
  org: string;
  unit: string;
  agentId: string;
  key: string;
}

/** `com.acme/plant-1/planner` → its three identifiers, each validated. */
export function parseAgentAddress(value: string): AgentAddressArgument {
  const parts = value.split('/');
  if (parts.length !== 3 || parts.some((part) => part === '')) {
    throw new UsageError(
      `invalid agent '${value}': expected <org>/<unit>/<agent>, e.g. com.acme/plant-1/planner`,
    );
  }
  const [org, unit, agentId] = parts as [string, string, string];
  return { org: assertOrgId(org), unit: assertUnitId(unit), agentId: assertAgentId(agentId), key: value };
}

/** The text of some parts: text as is, data as JSON, files by name or URL. */
export function partsText(parts: readonly Part[] | undefined): string {
  return (parts ?? [])
    .map((part) => {
      const content = part.content;
      switch (content?.$case) {
        case 'text':
          return content.value;
        case 'data':
          return JSON.stringify(content.value);
        case 'url':
          return `[${part.filename || 'file'}: ${content.value}]`;
        case 'raw':
          return `[${part.filename || 'file'}: ${content.value.byteLength} bytes${part.mediaType ? `, ${part.mediaType}` : ''}]`;
        default:
          return '';
      }
    })
    .join('');
}

/** `TASK_STATE_INPUT_REQUIRED` → `input-required`. */
export function stateName(state: TaskState | undefined): string {
  return taskStateToJSON(state ?? TaskState.TASK_STATE_UNSPECIFIED)
    .replace(/^TASK_STATE_/, '')
    .toLowerCase()
    .replace(/_/g, '-');
}

/** One line (or a few) for a stream item, as `a2a send` shows it. */
export function describeStreamResponse(response: StreamResponse): string {
  const payload = response.payload;
  switch (payload?.$case) {
    case 'task': {
      const task = payload.value;
      const note = partsText(task.status?.message?.parts);
      return `task ${task.id} ${stateName(task.status?.state)}${note ? `: ${note}` : ''}`;
    }
    case 'statusUpdate': {
      const note = partsText(payload.value.status?.message?.parts);
      return `${stateName(payload.value.status?.state)}${note ? `: ${note}` : ''}`;
    }
    case 'artifactUpdate': {
      const artifact = payload.value.artifact;
      const text = partsText(artifact?.parts).replace(/\n+$/, '');
      const name = artifact?.name || artifact?.artifactId || 'artifact';
      return `artifact ${name}${payload.value.append ? ' (+)' : ''}: ${text}`;
    }
    case 'message':
      return `message: ${partsText(payload.value.parts)}`;
    default:
      return 'empty response';
  }
}
