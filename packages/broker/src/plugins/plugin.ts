// Opt-in broker plugins: a set of hooks (authenticate, authorizePublish, authorizeSubscribe,
// connackUserProperties) plus, optionally, code that runs against the started broker (events, publish).
import type {
  AuthenticateResult,
  Broker,
  BrokerHooks,
  HookResult,
  MaybePromise,
  Principal,
  UserProperties,
} from '../types.js';

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

type AuthenticateHook = NonNullable<BrokerHooks['authenticate']>;

/**
 * Run `authenticate` hooks in order: the first refusal wins; otherwise the first principal a hook returns
 * is the client's. Later hooks see it as `context.principal` (so compose the authentication plugin first and
 * the policy plugins after it).
 */
function firstAuthenticateRefusal(hooks: AuthenticateHook[]): AuthenticateHook | undefined {
  if (hooks.length <= 1) return hooks[0];
  return (context) => {
    let principal: { readonly principal: Principal } | undefined;
    const run = (index: number): MaybePromise<AuthenticateResult> => {
      for (let at = index; at < hooks.length; at++) {
        const seen = principal === undefined ? context : { ...context, principal: principal.principal };
        const verdict = (hooks[at] as AuthenticateHook)(seen);
        if (isThenable(verdict)) return verdict.then((resolved) => settle(resolved) ?? run(at + 1));
        const refused = settle(verdict);
        if (refused !== undefined) return refused;
      }
      return principal ?? true;
    };
    const settle = (verdict: AuthenticateResult): AuthenticateResult | undefined => {
      if (verdict === true) return undefined;
      if (typeof verdict === 'object') {
        principal ??= verdict;
        return undefined;
      }
      return verdict;
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
  const authenticate = firstAuthenticateRefusal(pick('authenticate'));
  const authorizePublish = firstRefusal(pick('authorizePublish'));
  const authorizeSubscribe = firstRefusal(pick('authorizeSubscribe'));
  if (authenticate) hooks.authenticate = authenticate;
  if (authorizePublish) hooks.authorizePublish = authorizePublish;
  if (authorizeSubscribe) hooks.authorizeSubscribe = authorizeSubscribe;
  const rewrite = pick('rewritePublish');
  if (rewrite.length > 0) {
    // Each rewrite sees the properties the previous one produced.
    hooks.rewritePublish = (client, message) => {
      let properties = message.properties;
      for (const hook of rewrite) {
        properties =
          hook(client, properties === message.properties ? message : { ...message, properties }) ??
          properties;
      }
      return properties === message.properties ? undefined : properties;
    };
  }
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
