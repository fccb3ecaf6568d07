import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { AuthService } from '../server/auth/index.js';
import type { BankingService } from '../server/banking/index.js';
import type { CoopService } from '../server/coops/index.js';
import type { Principal } from '../server/core/index.js';
import type { CreditService } from '../server/credit/index.js';
import type { LedgerService } from '../server/ledger/index.js';
import type { PatronageService } from '../server/patronage/index.js';
import type { ReportingService } from '../server/reporting/index.js';

/**
 * The use cases resolvers call, each through its domain's public face (server/services.ts wires
 * them; the schema needs no more of the composition root than this).
 */
export interface SchemaServices {
  ledger: LedgerService;
  auth: AuthService;
  coops: CoopService;
  patronage: PatronageService;
  credit: CreditService;
  banking: BankingService;
  reporting: ReportingService;
}

export interface GraphQLContext {
  services: SchemaServices;
  requestId: string;
  logger: Logger;
  /** Who is asking: null for an anonymous request (no Authorization header). */
  principal: Principal | null;
}

/** The top-level error of a request without a token where one is needed (scope-auth's too). */
export function unauthenticatedError(): GraphQLError {
  return new GraphQLError('Authentication required: send "Authorization: Bearer <token>".', {
    extensions: { code: 'UNAUTHENTICATED' },
  });
}

/** The top-level error of a token that may not do what it asks (scope-auth's, and a use case's). */
export function forbiddenError(): GraphQLError {
  return new GraphQLError('Not allowed for this token.', { extensions: { code: 'FORBIDDEN' } });
}

/**
 * The principal a mutation acts for, handed to its use case. Every root mutation declares
 * `authenticated` or `admin`, so scope-auth has refused an anonymous request before a resolver runs;
 * this only keeps that true should a field ever lose its scopes.
 */
export function actorOf(ctx: GraphQLContext): Principal {
  if (!ctx.principal) throw unauthenticatedError();
  return ctx.principal;
}
