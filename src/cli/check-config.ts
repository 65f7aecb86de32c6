// `kvorum start --check-config` (docs/api.md, `kvorum start`): the configuration a real start would use,
// loaded the same way (loadNodeConfig, with its secret and TLS files read, and the auth file read),
// printed as JSON with every secret left out. It opens no port and no database and starts nothing:
// what deploy tooling (docker-compose.yml, deploy/k8s/) runs to check a node's command line.
import { readFileSync } from 'node:fs';
import { readAuthFile, AuthFileError } from '../auth/token-file.js';
import { ConfigError, loadNodeConfig, type NodeConfig } from '../node/config.js';

/** Where the secret in effect came from, in the precedence loadNodeConfig applies (flags > file > env). */
function secretSource(flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): string {
  if (flags['secret'] !== undefined) return 'the --secret flag';
  if (typeof flags['secret-file'] === 'string') return `--secret-file ${flags['secret-file']}`;
  const file = typeof flags['config'] === 'string' ? (JSON.parse(readFileSync(flags['config'], 'utf8')) as Record<string, unknown>) : {};
  if (typeof file['secretFile'] === 'string') return `secretFile ${file['secretFile']} (config file ${String(flags['config'])})`;
  if (file['secret'] !== undefined) return `secret (config file ${String(flags['config'])})`;
  if (env['KVORUM_SECRET_FILE']) return `KVORUM_SECRET_FILE ${env['KVORUM_SECRET_FILE']}`;
  return 'KVORUM_SECRET';
}

/** The auth file read and checked as a start reads it; only how many tokens it holds is shown. */
function authSummary(authFile: string | undefined): { file: string; tokens: number } | null {
  if (authFile === undefined) return null;
  try {
    return { file: authFile, tokens: readAuthFile(authFile).tokens.length };
  } catch (err) {
    if (err instanceof AuthFileError) throw new ConfigError(err.message);
    throw err;
  }
}

/** The effective configuration as printed: the secret and the tokens never appear, only where they come from. */
export function describeConfig(config: NodeConfig, flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const { id, secret, peers, host, port, advertiseUrl, authFile, ...rest } = config;
  return {
    id,
    listen: `${host}:${port}`,
    advertise: advertiseUrl,
    peers: Object.fromEntries(peers),
    ...rest,
    join: config.join ?? null,
    tls: config.tls ?? null,
    secret: secret === undefined ? null : { redacted: true, from: secretSource(flags, env) },
    auth: authSummary(authFile),
    configFile: typeof flags['config'] === 'string' ? flags['config'] : null,
  };
}

/**
 * Validates flags, config file and environment exactly as a start does; prints the effective
 * configuration on stdout. 0: valid; 1: not (the reason on stderr).
 */
export function checkConfig(flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): number {
  const warnings: string[] = [];
  try {
    const config = loadNodeConfig(flags, env, (message) => warnings.push(message));
    const effective = describeConfig(config, flags, env);
    console.log(JSON.stringify({ valid: true, config: effective, warnings }, null, 2));
    return 0;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const message of warnings) console.error(`kvorum: warning: ${message}`);
    console.error(`kvorum: invalid configuration: ${err.message}`);
    return 1;
  }
}
