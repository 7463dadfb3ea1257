import packageJson from '../package.json' with { type: 'json' };

/** The version of this package, as `mqtt-agents --version` prints it. */
export const version: string = packageJson.version;
