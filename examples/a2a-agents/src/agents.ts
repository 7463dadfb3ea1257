// Three A2A agents written against the official @a2a-js/sdk AgentExecutor interface. Nothing here knows
// about MQTT except the planner, which calls its colleagues through the SDK's Client over MQTT.
import { TaskState } from '@a2a-js/sdk';
import type { Task } from '@a2a-js/sdk';
import type { Client } from '@a2a-js/sdk/client';
import { AgentEvent } from '@a2a-js/sdk/server';
import type { AgentExecutor, ExecutionEventBus, RequestContext } from '@a2a-js/sdk/server';
import { artifact, artifactsText, status, submitted, textOf, userMessage } from './parts.js';

const FORECASTS: Record<string, string> = {
  lisbon: 'sunny, 24 °C',
  oslo: 'light rain, 11 °C',
  kyoto: 'cloudy, 19 °C',
};

/** Specialist 1: answers a weather question with one completed task (no streaming). */
export class WeatherExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const city = textOf(context.userMessage.parts).trim();
    bus.publish(AgentEvent.task(submitted(context)));
    const forecast = FORECASTS[city.toLowerCase()] ?? 'no forecast, pack for anything';
    bus.publish(AgentEvent.artifactUpdate(artifact(context, 'forecast', `${city}: ${forecast}`)));
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_COMPLETED)));
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** Specialist 2: streams an itinerary day by day, appending to one artifact. */
export class ItineraryExecutor implements AgentExecutor {
  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const [city = 'somewhere', daysText = '2'] = textOf(context.userMessage.parts)
      .split(',')
      .map((part) => part.trim());
    const days = Math.max(1, Math.min(5, Number.parseInt(daysText, 10) || 2));
    bus.publish(AgentEvent.task(submitted(context)));
    bus.publish(
      AgentEvent.statusUpdate(
        status(context, TaskState.TASK_STATE_WORKING, `drafting ${days} days in ${city}`),
      ),
    );
    for (let day = 1; day <= days; day++) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // pretend to think
      bus.publish(
        AgentEvent.artifactUpdate(
          artifact(context, 'itinerary', `day ${day}: explore ${city}, part ${day}\n`, day > 1),
        ),
      );
    }
    bus.publish(AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_COMPLETED)));
    bus.finished();
  }
  async cancelTask(): Promise<void> {}
}

/** How the planner reaches its colleagues; set once the planner's own agent is online. */
export interface Colleagues {
  weather: Client;
  itinerary: Client;
}

/**
 * The planner: "plan <city>, <days>" delegates to the weather agent (one answer) and the itinerary agent
 * (a stream, relayed as progress), then completes with both results. Without a city it asks for one
 * (INPUT_REQUIRED) and continues when the user answers on the same task.
 */
export class PlannerExecutor implements AgentExecutor {
  colleagues: Colleagues | undefined;

  async execute(context: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const request = textOf(context.userMessage.parts)
      .replace(/^plan\s*/i, '')
      .trim();
    bus.publish(AgentEvent.task(context.task ?? submitted(context)));
    if (request === '') {
      bus.publish(
        AgentEvent.statusUpdate(
          status(context, TaskState.TASK_STATE_INPUT_REQUIRED, 'Where to, and for how many days?'),
        ),
      );
      bus.finished();
      return;
    }
    if (!this.colleagues) throw new Error('the planner has no colleagues yet');
    const [city = request] = request.split(',').map((part) => part.trim());
    bus.publish(
      AgentEvent.statusUpdate(
        status(context, TaskState.TASK_STATE_WORKING, `asking the weather agent about ${city}`),
      ),
    );
    const weather = (await this.colleagues.weather.sendMessage({
      tenant: '',
      message: userMessage(city),
      configuration: undefined,
      metadata: undefined,
    })) as Task;
    bus.publish(AgentEvent.artifactUpdate(artifact(context, 'weather', artifactsText(weather))));

    bus.publish(
      AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_WORKING, 'asking the itinerary agent')),
    );
    let itinerary = '';
    for await (const event of this.colleagues.itinerary.sendMessageStream({
      tenant: '',
      message: userMessage(request),
      configuration: undefined,
      metadata: undefined,
    })) {
      if (event.payload?.$case !== 'artifactUpdate') continue;
      const chunk = textOf(event.payload.value.artifact?.parts);
      itinerary += chunk;
      bus.publish(
        AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_WORKING, `itinerary: ${chunk.trim()}`)),
      );
    }
    bus.publish(AgentEvent.artifactUpdate(artifact(context, 'itinerary', itinerary)));
    bus.publish(
      AgentEvent.statusUpdate(status(context, TaskState.TASK_STATE_COMPLETED, `trip to ${city} planned`)),
    );
    bus.finished();
  }

  async cancelTask(): Promise<void> {}
}
