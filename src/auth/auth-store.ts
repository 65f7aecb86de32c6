// The node's view of its --auth-file: read at start (a bad file stops the start), then checked for
// changes every authFileCheckIntervalMs (fs.watchFile: a stat of the path, so an editor's
// write-to-temp-and-rename is seen like an in-place write) and on reload() (SIGHUP). A file that
// cannot be read or is not valid on reload is refused and logged: the last good tokens stay in force.
import { statSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { authFileCheckIntervalMs } from '../core/limits.js';
import { ConfigError } from '../node/config.js';
import { AuthFileError, readAuthFile } from './token-file.js';
import { TokenTable } from './tokens.js';

/** What says a file changed: a rename-replace changes the inode, an in-place write the size or times. */
const versionOf = (s: Stats | undefined): string => (s === undefined ? 'none' : `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`);

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

export class AuthStore {
  private table: TokenTable;
  private watching = false;
  /** The version of the file last read (good or refused): a change is any other version. */
  private seen: string;

  private constructor(
    readonly path: string,
    private readonly log: FastifyBaseLogger,
    first: TokenTable,
    seen: string,
  ) {
    this.table = first;
    this.seen = seen;
  }

  /** Reads the file once; a missing or invalid file is a ConfigError (the node does not start). */
  static open(path: string, log: FastifyBaseLogger): AuthStore {
    try {
      // Stat first: a change between the stat and the read is seen again at the next check.
      const seen = versionOf(statOrUndefined(path));
      return new AuthStore(path, log, new TokenTable(readAuthFile(path)), seen);
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
    this.seen = versionOf(statOrUndefined(this.path));
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
    watchFile(this.path, { interval: authFileCheckIntervalMs, persistent: false }, (now: Stats) => {
      // Compared with the file last read, not the previous poll: nothing between the read and the watch is missed.
      if (versionOf(now.nlink === 0 && now.ino === 0 ? undefined : now) !== this.seen) this.reload();
    });
    // watchFile reports changes after its own first stat: one made since the read is caught here.
    if (versionOf(statOrUndefined(this.path)) !== this.seen) this.reload();
  }

  stop(): void {
    if (this.watching) unwatchFile(this.path);
    this.watching = false;
  }
}
