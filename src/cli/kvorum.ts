#!/usr/bin/env node
// The `kvorum` command: start | cluster | status | admin | restore | token | get | put | del | ls (docs/api.md section 1).
import { parseArgs } from 'node:util';
import { ConfigError, loadNodeConfig } from '../node/config.js';
import { clusterNodesMax, portMax, portMin, startFlagOptions } from '../node/knobs.js';
import { createLogger } from '../node/logger.js';
import { startNode } from '../node/node.js';
import { admin } from './admin.js';
import { checkConfig } from './check-config.js';
import { restore } from './backup.js';
import { runCluster } from './cluster.js';
import { dataCommand, tokenFrom, type DataCommand } from './data.js';
import { printStatus } from './status.js';
import { token } from './token.js';
import { usage as usageText } from './usage.js';

const usage = usageText();

/** `kvorum start --check-config`: every problem, an unknown flag included, exits 1 (not 2) with the reason on stderr. */
function checkStart(args: string[]): number {
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args, options: startFlagOptions(), strict: true }).values;
  } catch (err) {
    if (!(err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw err;
    console.error(`kvorum: invalid configuration: ${(err as Error).message}`);
    return 1;
  }
  return checkConfig(values, process.env);
}

async function start(args: string[]): Promise<number> {
  if (args.includes('--check-config')) return checkStart(args);
  const { values } = parseArgs({ args, options: startFlagOptions(), strict: true });
  if (values['help']) {
    console.log(usage);
    return 0;
  }
  const warnings: string[] = [];
  const config = loadNodeConfig(values, process.env, (message) => warnings.push(message));
  const log = createLogger(config.logLevel, { node: config.id });
  for (const message of warnings) log.warn(message);
  // SIGHUP reloads (certificates, and later more); a failed reload keeps what is in use. Caught from
  // here on: its default action would kill a node still starting.
  let reload: (() => void) | undefined;
  process.on('SIGHUP', () => {
    log.info({ signal: 'SIGHUP' }, reload ? 'reloading' : 'SIGHUP while starting: nothing reloaded');
    reload?.();
  });
  const node = await startNode(config, log).catch((err: unknown) => {
    if ((err as Error).name === 'JoinError' || String((err as Error).message).startsWith('the ring kept')) throw new ConfigError((err as Error).message);
    throw err;
  });
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      node.stop().then(
        () => resolve(0),
        (err: unknown) => {
          log.error({ err }, 'unclean stop');
          resolve(1);
        },
      );
    };
    void node.removed.then(() => stop('removed from the cluster'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
    reload = () => node.reload();
  });
}

async function cluster(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      nodes: { type: 'string', default: '3' },
      'base-port': { type: 'string', default: '7001' },
      'data-dir': { type: 'string', default: './data' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  });
  const nodes = Number(values.nodes);
  const basePort = Number(values['base-port']);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > clusterNodesMax) throw new ConfigError(`--nodes must be an integer in 1..${clusterNodesMax}`);
  if (!Number.isInteger(basePort) || basePort < portMin || basePort + nodes - 1 > portMax) throw new ConfigError('--base-port out of range');
  return runCluster({ nodes, basePort, dataDir: values['data-dir'], host: values.host, extraArgs: positionals });
}

async function status(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { url: { type: 'string', default: 'http://127.0.0.1:7001' }, token: { type: 'string' } } });
  return printStatus(values.url, tokenFrom(values.token));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
        return await start(rest);
      case 'cluster':
        return await cluster(rest);
      case 'status':
        return await status(rest);
      case 'admin':
        return await admin(rest);
      case 'token':
        return token(rest);
      case 'restore':
        return restore(rest);
      case 'get':
      case 'put':
      case 'del':
      case 'ls':
        return await dataCommand(command satisfies DataCommand, rest);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        console.log(usage);
        return command === undefined ? 2 : 0;
      default:
        console.error(`kvorum: unknown command "${command}"\n${usage}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`kvorum: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}

// Exit explicitly: a stopped node has nothing left to do, whatever handles a library still holds.
process.exit(await main(process.argv.slice(2)));
