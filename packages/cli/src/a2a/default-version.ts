import type { RequestHandler } from 'express';
import express from 'express';

/** A2A 1.0 method names are PascalCase (`SendMessage`); A2A 0.3 ones are paths (`message/send`). */
const V1_METHOD = /^[A-Z][A-Za-z]*$/;

/**
 * The `A2A-Version` a bridge reads for a JSON-RPC call that sends none. A2A 1.0 (§3.6.2) says an empty
 * version means 0.3, which this bridge does not serve (the SDK then answers -32009); but a call with a
 * 1.0 method name cannot be a 0.3 call, so it is read as 1.0, the one version the bridge speaks (as
 * requests over MQTT without `a2a-version` are). A 0.3 call without the header still gets -32009. The
 * spec's other place for the version, the `A2A-Version` query parameter, is honoured too.
 */
export function defaultA2AVersion(version: string): RequestHandler[] {
  return [
    express.json(),
    (req, _res, next) => {
      if (req.header('A2A-Version')) return next();
      const query = req.query['A2A-Version'];
      if (typeof query === 'string' && query !== '') {
        req.headers['a2a-version'] = query;
        return next();
      }
      const method = (req.body as { method?: unknown } | undefined)?.method;
      if (typeof method === 'string' && V1_METHOD.test(method)) req.headers['a2a-version'] = version;
      next();
    },
  ];
}
