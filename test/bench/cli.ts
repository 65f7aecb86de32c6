// The command line of a bench driver: parse its flags (exit 2 with the usage on a bad one, 0 after
// printing it for --help, which `options` must declare) and check integer flags, the same way in every bench.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * `flags` as parsed (with --help handled); `usageError(why)` ends the process with the reason and
 * the usage on stderr (exit 2); `integer(name, raw, min)` is `raw` as an integer >= min, or a usage error.
 */
export function benchCli<const O extends NonNullable<ParseArgsConfig['options']>>(options: O, usage: string) {
  const usageError = (why: string): never => {
    console.error(`${why}\n${usage}`);
    process.exit(2);
  };
  let flags: ReturnType<typeof parseArgs<{ options: O }>>['values'];
  try {
    flags = parseArgs<{ options: O }>({ options }).values;
  } catch (err) {
    return usageError((err as Error).message);
  }
  if ((flags as { help?: boolean }).help) {
    console.log(usage);
    process.exit(0);
  }
  const integer = (name: string, raw: string, min: number): number => {
    const n = Number(raw);
    return Number.isInteger(n) && n >= min ? n : usageError(`--${name} must be an integer >= ${min}, got ${raw}`);
  };
  return { flags, usageError, integer };
}
