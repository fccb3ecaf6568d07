/**
 * Issues, lists and revokes API tokens through the GraphQL API, acting with an admin token.
 *
 *   npx tsx scripts/tokens.ts issue --name "Bakery co-op treasurer" --grant TREASURER:<Book id> [--expires-in-days 90]
 *   npx tsx scripts/tokens.ts list
 *   npx tsx scripts/tokens.ts revoke <token id>
 */
import { parseArgs } from 'node:util';
import type { Role } from '../client-sdk/index.js';
import { connectionHelp, connectLedger, ledgerToken } from './lib/cli.js';

const usage = `Usage: npx tsx scripts/tokens.ts <issue|list|revoke> [options]

Manages API tokens through the GraphQL API of the service at LEDGER_URL (or --url), acting with
an admin token from LEDGER_TOKEN (or --token).

  issue --name NAME --grant ROLE[:SCOPE] [--grant ...] [--label TEXT] [--expires-in-days N]
        Creates a principal with the grants and prints its token (shown only once).
        ROLE is ADMIN, TREASURER, MEMBER, NETWORK_STEWARD or CITY_ANALYST; SCOPE is a Book id
        (a co-op's Coop id works too, and for NETWORK_STEWARD the network's CreditNetwork id:
        each names its book), an Account id (MEMBER), a city (CITY_ANALYST), none for ADMIN.
        A mutual-credit network's book takes NETWORK_STEWARD only: a TREASURER grant on it is
        refused (its balances move only through payments and clearing).
  list  Lists every token (id, principal, grants, state).
  revoke TOKEN_ID
        Revokes a token; every server refuses it within 5 seconds.

Options:
  --url URL      the service's GraphQL endpoint (default: $LEDGER_URL, else http://localhost:4000/graphql)
  --token T      admin token (default: $LEDGER_TOKEN)
  -h, --help     this text

${connectionHelp('an admin token')}

Fails at once when nothing listens at the address.`;

const ROLES = ['ADMIN', 'TREASURER', 'MEMBER', 'NETWORK_STEWARD', 'CITY_ANALYST'];

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string' },
      grant: { type: 'string', multiple: true },
      label: { type: 'string' },
      'expires-in-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return;
  }
  if (!['list', 'issue', 'revoke'].includes(command))
    throw new Error(`unknown command "${command}"\n\n${usage}`);
  const token = ledgerToken(values.token);
  if (!token) throw new Error('an admin token is needed: LEDGER_TOKEN or --token');
  const { client } = await connectLedger({ url: values.url, token });
  if (command === 'list') {
    for (const t of await client.apiTokens()) {
      const state = t.revokedAt
        ? `revoked ${t.revokedAt}`
        : t.expiresAt
          ? `expires ${t.expiresAt}`
          : 'active';
      const grants = t.grants.map((g) => (g.scope ? `${g.role}:${g.scope}` : g.role)).join(' ');
      console.log(`${t.id}  ${t.principalName}  ${grants}  ${state}  last used ${t.lastUsedAt ?? 'never'}`);
    }
  } else if (command === 'issue') {
    if (!values.name) throw new Error('issue needs --name');
    const grants = (values.grant ?? []).map((text) => {
      const i = text.indexOf(':');
      const role = (i < 0 ? text : text.slice(0, i)).toUpperCase();
      if (!ROLES.includes(role)) throw new Error(`unknown role ${role}: use one of ${ROLES.join(', ')}`);
      return { role: role as Role, scope: i < 0 ? '' : text.slice(i + 1) };
    });
    if (grants.length === 0) throw new Error('issue needs at least one --grant');
    let expiresAt: string | undefined;
    if (values['expires-in-days']) {
      const days = Number(values['expires-in-days']);
      if (!Number.isFinite(days) || days <= 0) throw new Error('--expires-in-days must be a positive number');
      expiresAt = new Date(Date.now() + days * 86_400_000).toISOString();
    }
    const result = await client.issueApiToken({
      principalName: values.name,
      grants,
      label: values.label,
      expiresAt,
    });
    if (result.userErrors.length > 0) {
      throw new Error(
        result.userErrors.map((e) => `${e.code}${e.field ? ` (${e.field})` : ''}: ${e.message}`).join('\n'),
      );
    }
    console.error(`token id ${result.apiToken!.id}; the token below is shown only now:`);
    console.log(result.token);
  } else {
    // revoke
    const id = rest[0];
    if (!id) throw new Error('revoke needs a token id');
    const result = await client.revokeApiToken({ tokenId: id });
    if (result.userErrors.length > 0) throw new Error(result.userErrors.map((e) => e.message).join('\n'));
    console.log(`revoked ${id} at ${result.apiToken!.revokedAt}`);
  }
}

main().catch((error) => {
  // A mistyped option or a stray argument (node:util parseArgs): a usage error, exit 2.
  if (String((error as { code?: unknown } | null)?.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`tokens: ${(error as Error).message}\n\nRun with --help for the options.`);
    process.exit(2);
  }
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
