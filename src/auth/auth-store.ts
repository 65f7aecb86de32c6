// The node's view of its --auth-file: read at start (a bad file stops the start), then checked for
// changes every authFileCheckIntervalMs (fs.watchFile: a stat of the path, so an editor's
// write-to-temp-and-rename is seen like an in-place write) and on reload() (SIGHUP). A file that
// cannot be read or is not valid on reload is refused and logged: the last good tokens stay in force.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { authFileCheckIntervalMs } from '../core/limits.js';
import { ConfigError } from '../node/config.js';
import { AuthFileError, readAuthFile } from './token-file.js';
import { TokenTable } from './tokens.js';

export class AuthStore {
  private table: TokenTable;
  private watching = false;

  private constructor(
    readonly path: string,
    private readonly log: FastifyBaseLogger,
    first: TokenTable,
  ) {
    this.table = first;
  }

  /** Reads the file once; a missing or invalid file is a ConfigError (the node does not start). */
  static open(path: string, log: FastifyBaseLogger): AuthStore {
    try {
      return new AuthStore(path, log, new TokenTable(readAuthFile(path)));
    } catch (err) {
      if (err instanceof AuthFileError) throw new ConfigError(err.message);
      throw err;
    }
  }

  /** The tokens in force now. */
  get tokens(): TokenTable {
    return this.table;
  }

  /** Reads the file again; true when its tokens are now in force, false (logged) when it was refused. */
  reload(): boolean {
    try {
      this.table = new TokenTable(readAuthFile(this.path));
      this.log.info({ authFile: this.path, tokens: this.table.size }, 'auth file loaded');
      return true;
    } catch (err) {
      this.log.error({ authFile: this.path, problem: (err as Error).message }, 'auth file refused: the tokens loaded before stay in force');
      return false;
    }
  }

  /** Starts checking the file for changes. */
  watch(): void {
    if (this.watching) return;
    this.watching = true;
    watchFile(this.path, { interval: authFileCheckIntervalMs, persistent: false }, (now: Stats, before: Stats) => {
      const changed = now.ino !== before.ino || now.size !== before.size || now.mtimeMs !== before.mtimeMs || now.ctimeMs !== before.ctimeMs;
      if (changed) this.reload();
    });
  }

  stop(): void {
    if (this.watching) unwatchFile(this.path);
    this.watching = false;
  }
}
