/** Helpers shared by the command-line scripts. */
import { redactUrl } from '../../server/platform/config.js';

/**
 * The command line that reproduces this run, as the user would type it (passwords hidden):
 * `npm run <script> -- <args>` when started through one of `npmScripts`, else `npx tsx <file> <args>`.
 */
export function commandLine(argv: string[], npmScripts: readonly string[], file: string): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  const args = argv.map((arg) => (/^postgres(ql)?:\/\//.test(arg) ? redactUrl(arg) : arg)).map(quote);
  const event = process.env.npm_lifecycle_event;
  const base =
    event !== undefined && npmScripts.includes(event)
      ? `npm run ${event}${args.length > 0 ? ' --' : ''}`
      : `npx tsx ${file}`;
  const env =
    process.env.DATABASE_URL?.trim() && !argv.includes('--database-url') ? 'DATABASE_URL=<redacted> ' : '';
  return `${env}${base}${args.length > 0 ? ` ${args.join(' ')}` : ''}`;
}
