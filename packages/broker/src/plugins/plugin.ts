// Opt-in broker plugins: a set of hooks (authenticate, authorizePublish, authorizeSubscribe,
// connackUserProperties) plus, optionally, code that runs against the started broker (events, publish).
import type { Broker, BrokerHooks, HookResult, MaybePromise, UserProperties } from '../types.js';

/** An opt-in feature of the embedded broker. Combine several with `composePlugins`. */
export interface BrokerPlugin {
  readonly name: string;
  /** Hooks to pass to `startBroker` (spread them into its options). */
  readonly hooks: BrokerHooks;
  /** Run against the started broker (event listeners, broker-side publishes). Returns what undoes it. */
  attach?(broker: Broker): () => void;
}

function isThenable<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * Run verdicts in order; the first refusal wins. For subscriptions a granted QoS (0-2) caps the grant and the
 * lowest cap wins.
 */
function firstRefusal<A extends unknown[]>(
  hooks: Array<(...args: A) => MaybePromise<HookResult>>,
): ((...args: A) => MaybePromise<HookResult>) | undefined {
  if (hooks.length === 0) return undefined;
  if (hooks.length === 1) return hooks[0];
  return (...args: A) => {
    let cap: HookResult = true;
    const combine = (verdict: HookResult): HookResult | undefined => {
      if (verdict === true) return undefined;
      if (verdict >= 0x80) return verdict;
      cap = cap === true ? verdict : Math.min(cap, verdict);
      return undefined;
    };
    const run = (index: number): MaybePromise<HookResult> => {
      for (let at = index; at < hooks.length; at++) {
        const verdict = (hooks[at] as (...args: A) => MaybePromise<HookResult>)(...args);
        if (isThenable(verdict)) {
          return verdict.then((resolved) => combine(resolved) ?? run(at + 1));
        }
        const refused = combine(verdict);
        if (refused !== undefined) return refused;
      }
      return cap;
    };
    return run(0);
  };
}

/**
 * One plugin made of several: authorization hooks run in order and the first refusal wins; CONNACK user
 * properties are merged; `attach` attaches them all.
 */
export function composePlugins(...plugins: BrokerPlugin[]): BrokerPlugin {
  const pick = <K extends keyof BrokerHooks>(key: K) =>
    plugins.flatMap((plugin) =>
      plugin.hooks[key] ? [plugin.hooks[key] as NonNullable<BrokerHooks[K]>] : [],
    );
  const connack = pick('connackUserProperties');
  const hooks: BrokerHooks = {};
  const authenticate = firstRefusal(pick('authenticate'));
  const authorizePublish = firstRefusal(pick('authorizePublish'));
  const authorizeSubscribe = firstRefusal(pick('authorizeSubscribe'));
  if (authenticate) hooks.authenticate = authenticate;
  if (authorizePublish) hooks.authorizePublish = authorizePublish;
  if (authorizeSubscribe) hooks.authorizeSubscribe = authorizeSubscribe;
  if (connack.length > 0) {
    hooks.connackUserProperties = (client) => {
      let merged: UserProperties | undefined;
      for (const hook of connack) {
        const properties = hook(client);
        if (properties) merged = { ...merged, ...properties };
      }
      return merged;
    };
  }
  return {
    name: plugins.map((plugin) => plugin.name).join('+'),
    hooks,
    attach(broker) {
      const detach = plugins.flatMap((plugin) => (plugin.attach ? [plugin.attach(broker)] : []));
      return () => {
        for (const undo of detach) undo();
      };
    },
  };
}
